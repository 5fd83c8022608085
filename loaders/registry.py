"""Municipality registry: japancode's data (code4fukui/localgovjp, CC0) read as files.

The package API is not used for municipalities (it mis-reads stripped codes and
returns the first of duplicated names). Codes are zero-padded and the check digit is verified.
団体区分 comes from ``data/municipality_types.csv`` (政令市, 中核市) and the code/name otherwise.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError, Report
from store.catalog import CatalogError, read_municipality_types
from store.paths import DATA_DIR

EXPECTED_MUNICIPALITIES = 1741


def check_digit(code5: str) -> str:
    """The 6th digit of the 全国地方公共団体コード (JIS X 0402 style modulus 11)."""
    digits = [int(c) for c in code5]
    total = sum(w * d for w, d in zip((6, 5, 4, 3, 2), digits))
    return str((11 - total % 11) % 10)


def code6_from_code5(code5: str) -> str:
    code5 = str(code5).strip().zfill(5)
    return code5 + check_digit(code5)


def is_valid_code6(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and check_digit(code[:5]) == code[5]


def _municipal_type(code5: str, name: str, designated: set[str], core: set[str]) -> str:
    if code5 in designated:
        return "政令市"
    if code5 in core:
        return "中核市"
    if code5.startswith("131"):
        return "特別区"
    if name.endswith("市"):
        return "一般市"
    if name.endswith("町"):
        return "町"
    if name.endswith("村"):
        return "村"
    raise LoaderError(f"団体区分を判定できません: {name}（{code5}）", file="municipalities.json")


@dataclass
class Registry:
    municipalities: pd.DataFrame  # code, code5, pref_code, pref_name, name, kana, type, lat, lng
    prefectures: pd.DataFrame  # pref_code, code, name, kana, name_en
    wards: pd.DataFrame  # code, code5, city_code, name

    def __post_init__(self) -> None:
        self._by_code5 = dict(zip(self.municipalities.code5, self.municipalities.code))
        self._codes = set(self.municipalities.code)
        self._by_pref_name: dict[tuple[str, str], str] = {
            (p, n): c
            for p, n, c in zip(self.municipalities.pref_name, self.municipalities.name, self.municipalities.code)
        }
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for name, code in zip(self.municipalities.name, self.municipalities.code):
            self._by_name[name].append(code)
        self._pref_by_name = dict(zip(self.prefectures.name, self.prefectures.code))
        self._ward_city = dict(zip(self.wards.code5, self.wards.city_code))

    # ---- lookups
    def code_from_any(self, raw: object) -> str | None:
        """A municipality code from a 5- or 6-digit code, with or without lost leading zeros;
        wards map to their city. None if it is not a municipality of the registry."""
        text = str(raw).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not text.isdigit() or len(text) > 6:
            return None
        candidates = []
        if len(text) <= 5:
            candidates.append(text.zfill(5))
        if len(text) >= 5:
            six = text.zfill(6)
            if is_valid_code6(six):
                candidates.append(six[:5])
        for code5 in candidates:
            if code5 in self._by_code5:
                return self._by_code5[code5]
            if code5 in self._ward_city:
                return self._ward_city[code5]
        return None

    def prefecture_code(self, name: str) -> str | None:
        return self._pref_by_name.get(str(name).strip())

    def by_pref_and_name(self, pref_name: str, name: str) -> str | None:
        return self._by_pref_name.get((str(pref_name).strip(), str(name).strip()))

    def codes_for_name(self, name: str) -> list[str]:
        return list(self._by_name.get(str(name).strip(), []))

    def is_municipality(self, code: str) -> bool:
        return code in self._codes

    def resolve_columns(
        self, names: list[str], file: str | Path, first_column: int, report: Report
    ) -> list[str | None]:
        """Codes for a sequence of municipality names in 団体コード order.

        The k-th occurrence of a name maps to the k-th registry row with that name in code order;
        the resulting codes must strictly increase, otherwise the order is not the registry's and
        duplicated names would be guessed: that is an error. Names without a registry row are
        reported (and returned as None), never dropped silently.
        """
        seen: dict[str, int] = defaultdict(int)
        codes: list[str | None] = []
        for offset, raw in enumerate(names):
            name = str(raw).strip()
            k = seen[name]
            seen[name] += 1
            matches = self._by_name.get(name, [])
            if k < len(matches):
                codes.append(matches[k])
                continue
            reason = (
                "該当する市区町村がありません"
                if not matches
                else f"同名の市区町村（{len(matches)}団体）より出現回数が多い"
            )
            report.unresolved.append(
                {"file": Path(file).name, "column": first_column + offset, "name": name, "reason": reason}
            )
            report.warn(
                f"市区町村名「{name}」をコードに対応付けられません（{reason}）。", file, 1, first_column + offset
            )
            codes.append(None)
        resolved = [(i, c) for i, c in enumerate(codes) if c is not None]
        for (i_prev, prev), (i, code) in zip(resolved, resolved[1:]):
            if code <= prev:
                raise LoaderError(
                    f"市区町村の列が団体コード順に並んでいません（「{names[i_prev]}」の後に「{names[i]}」）。"
                    "同名の市区町村を推測で割り当てないため、読み込みを中止しました。",
                    file=file,
                    row=1,
                    column=first_column + i,
                )
        return codes


def _load_types(path: Path) -> tuple[set[str], set[str]]:
    try:
        frame = read_municipality_types(path)
    except CatalogError as exc:
        raise LoaderError(exc.message, file=exc.file) from None
    designated = set(frame.loc[frame["type"] == "政令市", "code5"])
    core = set(frame.loc[frame["type"] == "中核市", "code5"])
    return designated, core


def load_registry(types_path: Path | None = None) -> Registry:
    """Read japancode's JSON files, validate them, and return normalised tables."""
    base = files("japancode") / "data"
    rows = json.loads((base / "municipalities.json").read_text(encoding="utf-8"))
    prefs = json.loads((base / "prefectures.json").read_text(encoding="utf-8"))
    designated, core = _load_types(types_path or DATA_DIR / "municipality_types.csv")

    municipalities, wards = [], []
    city_by_name: dict[tuple[str, str], str] = {}
    for row in rows:
        code6 = str(row["lgcode"]).zfill(6)
        code5 = str(row["cid"]).zfill(5)
        if not is_valid_code6(code6) or code6[:5] != code5:
            raise LoaderError(f"団体コード {code6} の検査数字が一致しません。", file="japancode/municipalities.json")
        pref_code = code5[:2]
        if " " in row["city"]:
            city, ward = row["city"].split(" ", 1)
            wards.append(
                {"code": code6, "code5": code5, "city_code": city_by_name[(row["pref"], city)], "name": row["city"]}
            )
            continue
        city_by_name[(row["pref"], row["city"])] = code6
        municipalities.append(
            {
                "code": code6,
                "code5": code5,
                "pref_code": pref_code,
                "pref_name": row["pref"],
                "name": row["city"],
                "kana": row["citykana"],
                "type": _municipal_type(code5, row["city"], designated, core),
                "lat": float(row["lat"]),
                "lng": float(row["lng"]),
            }
        )
    if len(municipalities) != EXPECTED_MUNICIPALITIES:
        raise LoaderError(
            f"市区町村数が {len(municipalities)} です（想定 {EXPECTED_MUNICIPALITIES}）。",
            file="japancode/municipalities.json",
        )
    missing_types = (designated | core) - {m["code5"] for m in municipalities}
    if missing_types:
        raise LoaderError(
            f"団体区分の表に登録簿にないコードがあります: {sorted(missing_types)}", file="municipality_types.csv"
        )
    prefectures = pd.DataFrame(
        [
            {
                "pref_code": str(p["lgcode"]).zfill(6)[:2],
                "code": str(p["lgcode"]).zfill(6),
                "name": p["pref"],
                "kana": p["prefkana"],
                "name_en": p["pref_en"],
            }
            for p in prefs
        ]
    )
    frame = pd.DataFrame(municipalities).sort_values("code", ignore_index=True)
    return Registry(frame, prefectures.sort_values("pref_code", ignore_index=True), pd.DataFrame(wards))
