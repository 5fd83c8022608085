"""Fuzzing the loaders: seed files, hypothesis mutations, and the one property every loader keeps.

The property (issue #8): a loader's ``load``, ``loaders.build.check_file`` and ``detect_loader`` either
return or raise ``LoaderError`` whose message is Japanese and names the file; no other exception, no hang.

Seeds are the real files in ../shared/data plus small files cut from them or made here (written to a
temporary folder, never to the repository). Mutations work on bytes (flips, truncation, encodings, line
ends), on the CSV grid (shuffled / renamed headers, extra and missing columns, 10× rows, hostile cells),
on JSON trees, on Excel workbooks (merged cells, empty sheets, cells of every type) and on zip members.

Profiles (hypothesis settings, chosen by ``DX_FUZZ_PROFILE``): ``short`` runs in the default suite,
``long`` (≥ 2,000 examples per loader) runs with ``python -m tests.fuzz_long``.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import json
import os
import re
import signal
import zipfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import shapely
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from loaders.errors import LoaderError

# ---------------------------------------------------------------- profiles and bounds

PROFILE = os.environ.get("DX_FUZZ_PROFILE", "short")
# examples per loader and per property test; DX_FUZZ_EXAMPLES overrides the profile's number
EXAMPLES = int(os.environ.get("DX_FUZZ_EXAMPLES") or {"short": 30, "long": 2000}[PROFILE])
EXAMPLE_SECONDS = 30  # a single example running longer than this is a hang, not a slow file
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
# short: the same examples every run (CI must not flake); long: fresh random examples every run
settings.register_profile(
    "dx-fuzz-short",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=_SUPPRESSED,
    print_blob=True,
)
settings.register_profile(
    "dx-fuzz-long",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=_SUPPRESSED,
    print_blob=True,
)
FUZZ_SETTINGS = settings.get_profile(f"dx-fuzz-{PROFILE}")
# a whole build costs about a second (reference tables, finalise), so it gets fewer examples
BUILD_SETTINGS = settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 6, 6))

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")  # kana or kanji


class ExampleTimeout(BaseException):
    """Raised by the alarm; a BaseException so a loader's ``except Exception`` cannot swallow it."""


@contextmanager
def time_limit(seconds: float = EXAMPLE_SECONDS):
    def expire(signum, frame):
        raise ExampleTimeout(f"no result after {seconds} s: the loader hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_loader_error(error: LoaderError, path: Path) -> None:
    """A loader error fit to show a planner: Japanese, naming the file."""
    text = str(error)
    assert JAPANESE.search(error.message), f"message is not Japanese: {text!r}"
    assert error.file is not None and Path(error.file).name == path.name, f"message does not name {path.name}: {text!r}"
    assert path.name in text, text


def outcome(call, path: Path) -> str:
    """Run ``call()`` within the time bound: 'ok', or 'error' for a well-formed LoaderError."""
    try:
        with time_limit():
            call()
    except LoaderError as error:
        assert_loader_error(error, path)
        return "error"
    return "ok"


# ---------------------------------------------------------------- counts for the report

STATS: dict[str, Counter] = defaultdict(Counter)


def count(test: str, loader: str, result: str, operations: list[str]) -> None:
    key = f"{test}:{loader}"
    STATS[key]["examples"] += 1
    STATS[key][result] += 1
    for name in operations:
        STATS[key][f"op:{name}"] += 1


def write_stats(path: Path) -> None:
    merged = json.loads(path.read_text()) if path.exists() else {}
    for key, counter in STATS.items():
        merged.setdefault(key, {})
        for name, value in counter.items():
            merged[key][name] = merged[key].get(name, 0) + value
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=1, sort_keys=True))


# ---------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    name: str
    path: Path
    kind: str  # csv | json | xlsx | zip | bin
    small: bool  # cheap enough for structural (re-parse and re-write) mutations

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", newline: str = "\r\n") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def squares(registry, pref_code: str, size: int = 6) -> gpd.GeoDataFrame:
    """The first municipalities of one prefecture as a row of 0.1° squares with N03 attributes."""
    towns = registry.municipalities.loc[registry.municipalities.pref_code == pref_code].head(size)
    records, shapes = [], []
    for i, town in enumerate(towns.itertuples()):
        records.append(
            {"N03_001": town.pref_name, "N03_002": None, "N03_003": None, "N03_004": town.name, "N03_007": town.code5}
        )
        shapes.append(shapely.box(134.0 + 0.1 * i, 35.0, 134.1 + 0.1 * i, 35.1))
    return gpd.GeoDataFrame(records, geometry=shapes, crs=4326)


def topojson(frame: gpd.GeoDataFrame, nulls: list[dict]) -> dict:
    """A small hand-made Topology: one arc per square (absolute coordinates), plus ``type: null`` features."""
    arcs, geometries = [], []
    for index, row in enumerate(frame.itertuples()):
        arcs.append([list(xy) for xy in row.geometry.exterior.coords])
        properties = {key: getattr(row, key) for key in ("N03_001", "N03_002", "N03_003", "N03_004", "N03_007")}
        geometries.append({"type": "Polygon", "arcs": [[index]], "properties": properties})
    geometries.extend({"type": None, "properties": properties} for properties in nulls)
    return {
        "type": "Topology",
        "objects": {"N03-21_210101": {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": arcs,
    }


def shapefile_zip(frame: gpd.GeoDataFrame, folder: Path, name: str, encoding: str) -> Path:
    workdir = folder / f"shp-{name}"
    workdir.mkdir()
    pyogrio.write_dataframe(frame, workdir / "N03-24_31_240101.shp", encoding=encoding)
    target = folder / name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(workdir.iterdir()):
            if member.suffix != ".cpg":
                archive.write(member, f"N03-20240101_31_GML/{member.name}")
    return target


def _small_juki(source: Path, target: Path, keep_rows: int = 60) -> Path:
    """The real workbook's header block and first rows (the national total row stays, so the sums warn)."""
    workbook = openpyxl.load_workbook(source, read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True, max_row=keep_rows)]
    workbook.close()
    out = openpyxl.Workbook()
    sheet = out.active
    sheet.title = "人口、世帯数、人口動態（市区町村別）【総計】"
    for row in rows:
        sheet.append(row)
    out.save(target)
    return target


def make_seeds(shared: Path, folder: Path, registry) -> list[Seed]:
    """Real files and small crafted ones; every seed is a valid file of one loader (checked by the tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds: list[Seed] = []

    def add(name: str, path: Path, kind: str, small: bool = True) -> None:
        seeds.append(Seed(name, path, kind, small))

    da = shared / "digital-agency"
    municipal = _read_rows(da / "市区町村毎のDX進捗状況_市区町村比較.csv")
    online = _read_rows(da / "市区町村毎のDX進捗状況_行政手続のオンライン申請率.csv")
    codes = list(registry.municipalities.code)  # the exports' columns are in code order
    ishikawa = [2 + i for i, code in enumerate(codes) if code.startswith("17")]
    add(
        "da_municipal_hokkaido",
        _write_csv(folder / "da_municipal_hokkaido.csv", [r[:32] + r[-1:] for r in municipal]),
        "csv",
    )
    add(
        "da_municipal_ishikawa_cp932",
        _write_csv(
            folder / "da_municipal_ishikawa_cp932.csv", [r[:2] + [r[i] for i in ishikawa] for r in municipal], "cp932"
        ),
        "csv",
    )
    add("da_online_small", _write_csv(folder / "da_online_small.csv", [r[:42] for r in online], "utf-8", "\n"), "csv")
    for name in ("市区町村毎のDX進捗状況_市区町村比較.csv", "市区町村毎のDX進捗状況_行政手続のオンライン申請率.csv"):
        add(f"real:{name}", da / name, "csv", small=False)
    for name in ("都道府県のDX進捗状況_都道府県比較.csv", "都道府県のDX進捗状況_行政手続のオンライン申請率.csv"):
        add(f"real:{name}", da / name, "csv")

    for folder_name, file_name in (("estat-census-2025", "kokusei2025sokuho.csv"), ("gsi-area", "area20240101.csv")):
        rows = _read_rows(shared / folder_name / file_name)
        add(f"{file_name}:small", _write_csv(folder / f"small_{file_name}", rows[:80], "utf-8", "\n"), "csv")
        add(f"real:{file_name}", shared / folder_name / file_name, "csv", small=False)
    survey = shared / "digital-agency-opendata-survey" / "20250210_resources_data_questionnaire_outline_04.csv"
    add("opendata_small", _write_csv(folder / "opendata_small.csv", _read_rows(survey)[:60], "utf-8-sig", "\n"), "csv")
    add("real:opendata", survey, "csv", small=False)

    juki = shared / "soumu-juki-population" / "FY2024-population_dynamics_municipal.xlsx"
    add("juki_small", _small_juki(juki, folder / "juki_small.xlsx"), "xlsx")
    add("real:juki", juki, "xlsx", small=False)

    tottori = squares(registry, "31")
    nulls = [
        {"N03_001": "鳥取県", "N03_002": None, "N03_003": "西伯郡", "N03_004": "日吉津村", "N03_007": "31384"},
        {"N03_001": "北海道", "N03_002": "根室振興局", "N03_003": "色丹郡", "N03_004": "色丹村", "N03_007": "01695"},
    ]
    topo = folder / "N03-21_210101_small.topojson.json"
    topo.write_text(json.dumps(topojson(tottori, nulls), ensure_ascii=False), encoding="utf-8")
    add("topojson_small", topo, "json")
    geo = folder / "N03-24_31_small.geojson"
    geo.write_text(tottori.to_json(), encoding="utf-8")
    add("geojson_small", geo, "json")
    add("shapefile_zip_cp932", shapefile_zip(tottori, folder, "N03-20240101_31_GML.zip", "cp932"), "zip")
    boundaries = shared / "boundaries"
    add("real:designated", boundaries / "N03-21_210101_designated_city.topojson.json", "json", small=False)
    add("real:ward", boundaries / "N03-21_210101.topojson.json", "json", small=False)
    for name, path in survey_files(folder, registry).items():
        add(name, path, "xlsx" if path.suffix == ".xlsx" else "csv")
    return seeds


def survey_files(folder: Path, registry) -> dict[str, Path]:
    """The prefecture's own survey: a filled template, a web-form export (cp932) and 宮城県-style scored sheets."""
    from loaders.questionnaire import load_questionnaire
    from loaders.survey import ANSWER_SHEET
    from loaders.template import FIRST_DATA_ROW, write_template

    definition = load_questionnaire()
    template = write_template(folder / "tottori_template.xlsx", "鳥取県", "2026-baseline", registry, definition)
    workbook = openpyxl.load_workbook(template)
    sheet = workbook[ANSWER_SHEET]
    for row in (FIRST_DATA_ROW, FIRST_DATA_ROW + 1):
        sheet.cell(row, 4, "はい")  # the first question's column
    workbook.save(template)
    questions = definition.questions[:6]
    form = [
        ["タイムスタンプ", "メールアドレス", "回", "都道府県", "市区町村名", *(q.text for q in questions)],
        [
            "2026/05/10 10:00:00",
            "dx@example.jp",
            "2026-baseline",
            "長野県",
            "池田町",
            "はい",
            "2：一部の幹部が受講した",
            "全職員を対象に実施",
            "いいえ",
            "",
            "○",
        ],
        [
            "2026/05/12 9:30:00",
            "dx@example.jp",
            "2026-baseline",
            "兵庫県",
            "神戸市",
            "いいえ",
            "4",
            "希望者のみ受講",
            "はい",
            "はい",
            "×",
        ],
    ]
    scores = [
        ["都道府県", "市町村名", "STEP0", "STEP1", "STEP2", "STEP3", "支援優先度", "支援内容"],
        ["宮城県", "石巻市", 15, 30, 20, 24, "低", ""],
        ["宮城県", "美里町", 5, 5, 15, 18, "高", "育成取組み・全体方針策定"],
        ["宮城県", "川崎町", 10, 30, 0, 15, "高", "育成取組み、推進体制"],
    ]
    scored = openpyxl.Workbook()
    for row in scores:
        scored.active.append(row)
    scored.save(folder / "宮城県_2026-baseline.xlsx")
    with_max = [
        row + (["STEP0満点", "STEP1満点", "STEP2満点", "STEP3満点"] if i == 0 else [25, 30, 30, 30])
        for i, row in enumerate(scores)
    ]
    return {
        "survey_template": template,
        "survey_form_cp932": _write_csv(folder / "フォーム回答.csv", form, "cp932"),
        "survey_scores_xlsx": folder / "宮城県_2026-baseline.xlsx",
        "survey_scores_csv": _write_csv(folder / "scores_2026-evaluation.csv", with_max, "utf-8", "\n"),
    }


def junk_seeds(folder: Path) -> list[Seed]:
    """Files no loader should take: they must be refused with a message, by every loader."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty.csv": b"",
        "blank_lines.csv": b"\r\n \r\n,,\r\n",
        "random.xlsx": bytes((i * 7919 + 13) % 256 for i in range(4096)),
        "image.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
        "notes.txt": "メモ：これはデータではありません。\n".encode("cp932"),
        "array.json": b"[1, 2, 3]",
    }
    seeds = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        seeds.append(Seed(f"junk:{name}", path, "bin", True))
    return seeds


# ---------------------------------------------------------------- mutations

HOSTILE_TEXT = [
    "",
    " ",
    "　",
    "-",
    "***",
    "調査無し",
    "%",
    "１２３",
    "12,345",
    "1e309",
    "-1e309",
    "NaN",
    "inf",
    "-0",
    "99999999999999999999999",
    "0.1%",
    "101%",
    "-5",
    "実施 ",
    "未実施\u3000",
    "〇",
    "×",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'); DROP TABLE municipalities; --",
    "=1+1",
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    '"',
    '""',
    "a,b",
    "\x00",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "池田町",
    "府中市",
    "北海道",
    "令和6年13月45日",
    "令和元年1月1日",
    "平成99年2月30日",
    "013331",
    "1000",
    "01000",
    "00000",
    "99999",
    "011002",
    "11002",
    "011003",
    "N03_007",
    "団体コード",
    "../../etc/passwd",
    "x" * 5000,
]


def _flip_bytes(data, content: bytes) -> bytes:
    if not content:
        return content
    buffer = bytearray(content)
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        position = data.draw(st.integers(0, len(buffer) - 1), label="position")
        buffer[position] = data.draw(st.integers(0, 255), label="byte")
    return bytes(buffer)


def _truncate(data, content: bytes) -> bytes:
    return content[: data.draw(st.integers(0, max(len(content) - 1, 0)), label="cut at")]


def _decode(content: bytes) -> str:
    for codec in ("utf-8-sig", "cp932", "utf-16"):
        try:
            return content.decode(codec)
        except UnicodeDecodeError:
            continue
    return content.decode("utf-8", errors="replace")


def _encoding_swap(data, content: bytes) -> bytes:
    codec = data.draw(
        st.sampled_from(
            ["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "iso2022_jp"]
        ),
        label="codec",
    )
    text = _decode(content)
    encoded = text.encode(codec, errors="replace")
    if codec == "utf-16-le" and data.draw(st.booleans(), label="bom"):
        encoded = codecs.BOM_UTF16_LE + encoded
    return encoded


def _line_ends(data, content: bytes) -> bytes:
    ending = data.draw(st.sampled_from([b"\n", b"\r\n", b"\r", b"\r\r\n"]), label="line end")
    return re.sub(rb"\r\n|\r|\n", ending, content)


NUMBERS = st.one_of(st.integers(0, 10**12).map(str), st.sampled_from(["0", "1e309", "9" * 25, "1.5", "00000", "-1"]))


def _digits(data, content: bytes) -> bytes:
    """Replace some digit runs by other numbers: dates, codes and values change but stay plausible."""
    text = _decode(content)
    runs = list(re.finditer(r"\d+", text))
    if not runs:
        return content
    chosen = data.draw(st.lists(st.integers(0, len(runs) - 1), min_size=1, max_size=6), label="runs")
    pieces, last = [], 0
    for index in sorted(set(chosen)):
        match = runs[index]
        pieces += [text[last : match.start()], data.draw(NUMBERS, label="number")]
        last = match.end()
    return ("".join(pieces) + text[last:]).encode("utf-8")


def _any_text(data) -> str:
    return data.draw(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30)), label="text")


def _csv_rows(content: bytes) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(_decode(content), newline="")))
    except csv.Error:
        return None


def _csv_grid(data, content: bytes) -> bytes:
    """One structural change to the CSV grid."""
    rows = _csv_rows(content)
    if not rows:
        return content
    width = max(len(r) for r in rows)
    change = data.draw(
        st.sampled_from(
            [
                "shuffle_columns",
                "shuffle_header",
                "rename_header",
                "extra_column",
                "drop_column",
                "rows_x10",
                "drop_rows",
                "set_cells",
                "ragged_row",
                "blank_lines",
                "header_only",
                "swap_rows",
            ]
        ),
        label="csv change",
    )
    column = data.draw(st.integers(0, max(width - 1, 0)), label="column")
    if change == "shuffle_columns":
        order = data.draw(st.permutations(range(width)), label="order")
        rows = [[r[i] if i < len(r) else "" for i in order] for r in rows]
    elif change == "shuffle_header":
        rows[0] = data.draw(st.permutations(rows[0]), label="header")
    elif change == "rename_header":
        rows[0] = [_any_text(data) if i == column else cell for i, cell in enumerate(rows[0])]
    elif change == "extra_column":
        rows = [r[:column] + [_any_text(data) if i == 0 else ""] + r[column:] for i, r in enumerate(rows)]
    elif change == "drop_column":
        rows = [r[:column] + r[column + 1 :] for r in rows]
    elif change == "rows_x10":
        rows = rows[:1] + rows[1:] * 10
    elif change == "drop_rows":
        keep = data.draw(st.integers(0, len(rows)), label="keep rows")
        rows = rows[:keep]
    elif change == "set_cells":
        for _ in range(data.draw(st.integers(1, 10), label="cells")):
            row = data.draw(st.integers(0, len(rows) - 1), label="row")
            if rows[row]:
                rows[row][data.draw(st.integers(0, len(rows[row]) - 1), label="cell")] = _any_text(data)
    elif change == "ragged_row":
        row = data.draw(st.integers(0, len(rows) - 1), label="row")
        rows[row] = rows[row][: data.draw(st.integers(0, len(rows[row])), label="cells kept")]
    elif change == "blank_lines":
        row = data.draw(st.integers(0, len(rows)), label="row")
        rows = rows[:row] + [[]] * data.draw(st.integers(1, 3), label="blank lines") + rows[row:]
    elif change == "header_only":
        rows = rows[:1]
    elif change == "swap_rows" and len(rows) > 2:
        i, j = data.draw(st.integers(1, len(rows) - 1), label="i"), data.draw(st.integers(1, len(rows) - 1), label="j")
        rows[i], rows[j] = rows[j], rows[i]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# JSON fragments that keep a file looking like N03 (the key the loader sniffs for) while breaking its structure
JSON_FRAGMENTS = [
    [],
    {},
    [[0, 0]],
    {"type": None},
    {"type": "Polygon", "arcs": [[99]]},
    {"N03_007": "01100"},
    "N03_007",
    {"type": "Point", "coordinates": [135, 35], "properties": {"N03_007": "31201"}},
    [{"type": "Polygon", "properties": {"N03_007": 31201}}],
    {"type": "GeometryCollection", "geometries": 5},
    {"type": "name", "properties": {"name": "EPSG:3857"}},
    {"type": "name", "properties": {"name": "EPSG:99999"}},
    {"scale": [0, 0], "translate": [0, 0]},
    {"type": "Feature", "geometry": None, "properties": None},
]
JSON_KEYS = [
    "objects",
    "extra",
    "N03_007",
    "type",
    "arcs",
    "transform",
    "properties",
    "geometries",
    "features",
    "geometry",
    "coordinates",
    "crs",
    "bbox",
]


def _json_value(data):
    return data.draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(10**20), 10**20),
            st.floats(allow_nan=False),
            st.sampled_from(HOSTILE_TEXT),
            st.sampled_from(JSON_FRAGMENTS).map(copy.deepcopy),
        ),
        label="json value",
    )


def _json_tree(data, content: bytes) -> bytes:
    """Replace, delete or duplicate a few nodes of the JSON tree."""
    try:
        tree = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return content
    for _ in range(data.draw(st.integers(1, 4), label="json changes")):
        parent, key = None, None
        node = tree
        for _ in range(data.draw(st.integers(0, 8), label="depth")):
            children = (
                list(node.keys())
                if isinstance(node, dict)
                else list(range(len(node)))
                if isinstance(node, list)
                else []
            )
            if not children:
                break
            parent, key = node, children[data.draw(st.integers(0, len(children) - 1), label="child")]
            node = parent[key]
        if parent is None:
            continue
        change = data.draw(st.sampled_from(["replace", "delete", "duplicate", "add"]), label="json change")
        if change == "replace":
            parent[key] = _json_value(data)
        elif change == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(JSON_KEYS), label="key")] = _json_value(data)
        elif change == "add":
            parent.append(_json_value(data))
        elif change == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.extend([parent[key]] * 9)  # 10× the element
        else:
            parent[key] = [parent[key], parent[key]]
    return json.dumps(tree, ensure_ascii=data.draw(st.booleans(), label="ascii")).encode("utf-8")


def _zip_members(content: bytes) -> list[tuple[zipfile.ZipInfo, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return [(info, archive.read(info)) for info in archive.infolist()]
    except Exception:  # a broken archive: member mutations do not apply
        return None


def _zip_member(data, content: bytes) -> bytes:
    """Flip, truncate, drop, rename or add a member inside the zip (xlsx or Shapefile)."""
    members = _zip_members(content)
    if not members:
        return content
    index = data.draw(st.integers(0, len(members) - 1), label="member")
    info, payload = members[index]
    change = data.draw(st.sampled_from(["flip", "truncate", "drop", "rename", "add", "digits"]), label="member change")
    if change == "flip":
        members[index] = (info, _flip_bytes(data, payload))
    elif change == "truncate":
        members[index] = (info, _truncate(data, payload))
    elif change == "digits":
        members[index] = (info, _digits(data, payload))
    elif change == "drop":
        del members[index]
    elif change == "rename":
        name = data.draw(
            st.sampled_from(
                [
                    "../evil.xml",
                    "/abs/sheet1.xml",
                    "x.DBF",
                    info.filename.upper(),
                    info.filename + ".bak",
                    "dir/" + info.filename,
                ]
            ),
            label="new name",
        )
        members[index] = (zipfile.ZipInfo(name), payload)
    else:
        name = _any_text(data)[:40].split("\x00")[0]  # zip names end at a NUL
        members.append((zipfile.ZipInfo(name or "extra"), payload))
    return _zip([(info.filename, payload) for info, payload in members])


FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    """A zip of the members with fixed timestamps: the same draws must give the same bytes (hypothesis replays)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members:
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), payload, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _excel_value(data):
    return data.draw(
        st.one_of(
            st.none(),
            st.integers(-(10**18), 10**18),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.sampled_from(HOSTILE_TEXT[:-1]),
            st.just("=1/0"),
            st.just("=A1"),
            st.dates(),
        ),
        label="excel value",
    )


def _xlsx_structure(data, content: bytes) -> bytes:
    """One change a person makes in Excel: merge cells, empty or add sheets, move, repeat or edit cells."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content))
    except Exception:  # already broken by an earlier byte mutation
        return content
    if not workbook.worksheets:  # e.g. a chart-only workbook after a member mutation
        return content
    sheet = workbook.worksheets[0]
    rows, columns = max(sheet.max_row, 1), max(sheet.max_column, 1)
    change = data.draw(
        st.sampled_from(
            [
                "merge",
                "empty_sheet",
                "sheet_before",
                "set_cells",
                "rows_x10",
                "delete_rows",
                "delete_columns",
                "insert_columns",
                "insert_rows",
                "swap_columns",
                "no_sheets_but_empty",
            ]
        ),
        label="xlsx change",
    )
    if change == "merge":
        for _ in range(data.draw(st.integers(1, 4), label="merges")):
            top, left = data.draw(st.integers(1, rows), label="top"), data.draw(st.integers(1, columns), label="left")
            bottom = data.draw(st.integers(top, min(rows, top + 3)), label="bottom")
            right = data.draw(st.integers(left, min(columns, left + 3)), label="right")
            sheet.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
    elif change == "empty_sheet":
        sheet.delete_rows(1, rows)
    elif change == "sheet_before":
        workbook.create_sheet("空のシート", 0)
    elif change == "set_cells":
        for _ in range(data.draw(st.integers(1, 10), label="cells")):
            cell = sheet.cell(
                data.draw(st.integers(1, rows), label="row"), data.draw(st.integers(1, columns), label="column")
            )
            if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                cell.value = _excel_value(data)
    elif change == "rows_x10":
        body = [list(r) for r in sheet.iter_rows(min_row=min(8, rows), values_only=True)]
        for _ in range(9):
            for row in body:
                sheet.append(row)
    elif change == "delete_rows":
        sheet.delete_rows(data.draw(st.integers(1, rows), label="first"), data.draw(st.integers(1, 5), label="amount"))
    elif change == "delete_columns":
        sheet.delete_cols(
            data.draw(st.integers(1, columns), label="first"), data.draw(st.integers(1, 3), label="amount")
        )
    elif change == "insert_columns":
        sheet.insert_cols(
            data.draw(st.integers(1, columns + 1), label="at"), data.draw(st.integers(1, 3), label="amount")
        )
    elif change == "insert_rows":
        sheet.insert_rows(data.draw(st.integers(1, rows + 1), label="at"), data.draw(st.integers(1, 3), label="amount"))
    elif change == "swap_columns":
        a, b = data.draw(st.integers(1, columns), label="a"), data.draw(st.integers(1, columns), label="b")
        for row in range(1, rows + 1):
            first, second = sheet.cell(row, a), sheet.cell(row, b)
            # a cell inside a merged range (not its top-left) holds no value of its own, and Excel
            # will not move part of a merge either: such rows keep their cells
            if not isinstance(first, openpyxl.cell.cell.MergedCell) and not isinstance(
                second, openpyxl.cell.cell.MergedCell
            ):
                first.value, second.value = second.value, first.value
    else:
        for extra in workbook.worksheets[1:]:
            workbook.remove(extra)
        sheet.delete_rows(1, rows)
        sheet.title = "Sheet1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: fix both
    members = _zip_members(buffer.getvalue())
    return _zip(
        [
            (
                info.filename,
                re.sub(rb"(<dcterms:modified[^>]*>)[^<]*<", rb"\g<1>2026-01-01T00:00:00Z<", payload)
                if info.filename == "docProps/core.xml"
                else payload,
            )
            for info, payload in members
        ]
    )


# name -> (mutation, seed kinds it applies to, needs a small seed)
MUTATIONS = {
    "flip_bytes": (_flip_bytes, {"csv", "json", "xlsx", "zip", "bin"}, False),
    "truncate": (_truncate, {"csv", "json", "xlsx", "zip", "bin"}, False),
    "encoding": (_encoding_swap, {"csv", "json", "bin"}, False),
    "line_ends": (_line_ends, {"csv", "json"}, False),
    "digits": (_digits, {"csv", "json"}, False),
    "csv_grid": (_csv_grid, {"csv"}, False),
    "json_tree": (_json_tree, {"json"}, False),
    "zip_member": (_zip_member, {"xlsx", "zip"}, False),
    "xlsx_structure": (_xlsx_structure, {"xlsx"}, True),
}


def mutate(data, seed: Seed) -> tuple[bytes, list[str]]:
    """Apply one to three mutations that suit the seed; returns the bytes and the mutation names."""
    names = [
        name
        for name, (_, kinds, small_only) in MUTATIONS.items()
        if seed.kind in kinds and (seed.small or not small_only)
    ]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3), label="mutations")
    content = seed.data
    for name in chosen:
        content = MUTATIONS[name][0](data, content)
    return content, chosen


FILE_NAMES = [
    "data.csv",
    "data.xlsx",
    "data.json",
    "data.zip",
    "N03-21_210101.topojson.json",
    "回答 一覧(1).csv",
    "人口.xlsx",
    "noext",
]


def file_name(data, seed: Seed) -> str:
    """Usually the seed's own name, sometimes a misleading one: loaders decide by content."""
    if data.draw(st.integers(0, 3), label="rename?") == 0:
        return data.draw(st.sampled_from(FILE_NAMES), label="file name")
    return seed.path.name


def rewrite_zip(
    source: Path,
    target: Path,
    replace: dict[str, bytes] | None = None,
    streams: dict[str, tuple[bytes, int, bytes]] | None = None,
) -> Path:
    """Copy a zip, replacing or adding members; ``streams`` adds members written as (prefix, padding size, fill
    byte) without holding them in memory (zeros or spaces compress about 1000:1)."""
    replace = dict(replace or {})
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for info in old.infolist():
            if info.filename not in (streams or {}):
                new.writestr(info.filename, replace.pop(info.filename, None) or old.read(info))
        for name, data in replace.items():
            new.writestr(name, data)
        for name, (prefix, size, fill) in (streams or {}).items():
            with new.open(name, "w", force_zip64=len(prefix) + size >= 1 << 31) as member:
                member.write(prefix)
                chunk = fill * (1 << 24)
                for start in range(0, size, len(chunk)):
                    member.write(chunk[: size - start])
    return target
