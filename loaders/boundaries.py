"""国土数値情報 N03 行政区域: municipal boundaries from TopoJSON, GeoJSON or the official Shapefile zip.

Read → validate → normalise, per file:

- Recognised by content: a TopoJSON ``Topology`` or a GeoJSON ``FeatureCollection`` that carries
  ``N03_007``, or a zip whose ``.dbf`` declares an ``N03_007`` field (N03-YYYYMMDD_PP_GML.zip style).
- Read with pyogrio/GDAL. GDAL silently drops TopoJSON features whose ``type`` is null,
  so a TopoJSON's raw JSON is parsed too: the dropped features are added back without a shape and
  reported. Shapefile attributes are decoded with the encoding detected from the ``.dbf`` records
  (UTF-8 or cp932); the zip is read in place (/vsizip/), after refusing bombs and unsafe member paths.
- ``N03_007`` (5-digit code) → 6-digit municipality code via the registry (政令市 wards roll up to
  their city). Null codes (所属未定地) and the 北方領土 villages 01695–01700 are dropped with an info
  message; any other unknown code is a warning and an unresolved entry.
- No CRS → EPSG:4326 (N03 is JGD2011 lon/lat; the difference is far below the data's precision);
  other CRSs are transformed; coordinates outside ±180°/±90° are refused. Shapes are made valid
  (``shapely.make_valid``, structure method), dissolved per code (islands, wards), and municipalities
  left without area are reported by name.
- Per municipality: the full shape (WKB), a topology-aware simplified shape for the browser
  (``shapely.coverage_simplify``; coordinates rounded to ``BROWSER_DECIMALS``) and its GeoJSON text,
  ``area_deg2``, and ``as_of`` from the N03 file name's YYMMDD/YYYYMMDD (else sources.yaml).

Several files may cover the same municipality; ``finalise`` keeps one row per code.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import re
import zipfile
from datetime import date
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from loaders.base import LoadContext, LoadResult, source_as_of
from loaders.errors import LoaderError, Report
from loaders.registry import EXPECTED_MUNICIPALITIES, Registry
from loaders.textio import BROKEN_ZIP_ERRORS, check_zip_container, detect_encoding, is_zip, sniff_head

LOG = logging.getLogger(__name__)
SOURCE_ID = "n03_boundaries"
CODE_COLUMN = "N03_007"
NAME_COLUMNS = ("N03_001", "N03_002", "N03_003", "N03_004")
NORTHERN_TERRITORIES = {"01695", "01696", "01697", "01698", "01699", "01700"}  # 北方領土の6村
# Lon/lat CRSs whose coordinates are taken as EPSG:4326 as they are (differences < 1 m).
LONLAT_EQUIVALENTS = tuple(pyproj.CRS(code) for code in ("EPSG:4326", "EPSG:6668", "EPSG:4612"))

# Browser shapes: the compact GeoJSON of all 1,741 municipalities stays under this many bytes.
# Each file gets its share (bytes per municipality × municipalities in the file).
BROWSER_BUDGET_BYTES = 1_200_000
BROWSER_DECIMALS = 4  # ≈ 11 m; the 2021 TopoJSON's own grid is ≈ 48 m
# Coverage-simplification tolerances (degrees) tried in order until the file fits its share.
# Polygon parts (islets) smaller than (PART_FACTOR × tolerance)² are left out of the browser shape,
# except each municipality's largest part, because even a triangle per islet would not fit.
TOLERANCES = (0.0, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
PART_FACTOR = 4
# GeoJSON / TopoJSON are parsed whole in memory (GDAL, json): ≈ 12 × the file size at peak (a 75 MB
# GeoJSON took 926 MB). Larger files are refused before parsing; the official Shapefile zip, or one
# file per prefecture, carries the same boundaries. $DX_MAX_JSON_MB / $DX_MAX_FEATURES raise the limits.
MAX_JSON_BYTES = int(float(os.environ.get("DX_MAX_JSON_MB", "60")) * 1_000_000)
MAX_FEATURES = int(os.environ.get("DX_MAX_FEATURES", "100000"))
_FEATURE_TYPES = {  # what one feature looks like: a GeoJSON Feature, a TopoJSON geometry
    "geojson": re.compile(rb'"type"\s*:\s*"Feature"'),
    "topojson": re.compile(rb'"type"\s*:\s*"(?:Polygon|MultiPolygon)"'),
}
_FEATURE_OVERHEAD = len('{"type":"Feature","properties":{"code":"000000"},"geometry":},')

# Counters in Report.counts (summed over files by the build).
COUNT_FEATURES = "境界: 地物数（元データ）"
COUNT_MATCHED = "境界: 団体コードが対応した市区町村数"
COUNT_WRITTEN = "境界: 面積のある境界を出力した市区町村数"


_TOPOLOGY = re.compile(r'"type"\s*:\s*"Topology"')
_FEATURES = re.compile(r'"type"\s*:\s*"FeatureCollection"|"features"\s*:')
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{8}|\d{6})(?!\d)")


class N03BoundariesLoader:
    name = "n03_boundaries"
    title = "国土数値情報 行政区域（N03）"

    def sniff(self, path: Path, head: str) -> bool:
        return _detect_format(Path(path), head) is not None

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        result = LoadResult(loader=self.name, source=SOURCE_ID)
        report = result.report
        kind = _detect_format(path, sniff_head(path))
        if kind in _FEATURE_TYPES:
            check_json_size(path, kind)
        if kind == "topojson":
            frame, raw_count = _read_topojson(path, report)
            member_names: list[str] = []
        elif kind == "geojson":
            frame = _read_vector(f"GeoJSON:{path.resolve()}", path)
            raw_count = len(frame)
            member_names = []
        elif kind == "shapefile_zip":
            frame, member_names = _read_shapefile_zip(path)
            raw_count = len(frame)
        else:
            raise LoaderError(
                "国土数値情報（N03 行政区域）の TopoJSON / GeoJSON / シェープファイルZIP として認識できません。",
                file=path,
            )
        report.counts[COUNT_FEATURES] = raw_count
        if CODE_COLUMN not in frame.columns:
            raise LoaderError(
                f"行政区域コードの列「{CODE_COLUMN}」がありません（国土数値情報 N03 の属性ではありません）。",
                file=path,
                column=CODE_COLUMN,
            )
        frame = _to_lonlat(frame, path, report)
        _check_lonlat(frame, path)
        frame = _assign_codes(frame, ctx.registry, path, report)
        report.counts[COUNT_MATCHED] = int(frame["code"].nunique())
        shapes = _geometry_step(_dissolve, path, frame)
        shapes = _drop_without_area(shapes, ctx.registry, path, report)
        _report_uncovered(frame, shapes, ctx.registry, path, report)
        report.counts[COUNT_WRITTEN] = len(shapes)
        if shapes.empty:
            raise LoaderError("市区町村の境界（面積のある形状）が1件もありません。", file=path)

        as_of = ctx.as_of or _as_of_from_names([path.name, *member_names]) or source_as_of(ctx, SOURCE_ID)
        geoms = shapes.geometry.values
        budget = int(BROWSER_BUDGET_BYTES * len(shapes) / EXPECTED_MUNICIPALITIES)
        simplified, tolerance, size = _geometry_step(browser_shapes, path, geoms, budget)
        if size > budget:
            report.warn(
                f"ブラウザ用の簡略化境界が目安（{budget:,} バイト）を超えました（{size:,} バイト、許容誤差 "
                f"{tolerance}°）。"
                "地図の表示が重くなることがあります。",
                path,
            )
        else:
            report.info(
                f"ブラウザ用の境界: 簡略化の許容誤差 {tolerance}°（0 は座標の丸めのみ）、GeoJSON {size:,} "
                f"バイト（目安 {budget:,} バイト）。",
                path,
            )
        result.tables["boundaries"] = pd.DataFrame(
            {
                "code": shapes.index.astype(str),
                "geometry": shapely.to_wkb(geoms),
                "geometry_simplified": shapely.to_wkb(simplified),
                "geojson_simplified": shapely.to_geojson(simplified),
                "area_deg2": shapely.area(geoms),
                "from_wards": shapes["from_ward"].to_numpy(dtype=bool),
                "source": SOURCE_ID,
                "file": path.name,
                "as_of": as_of,
            }
        )
        return result


LOADERS = [N03BoundariesLoader()]


# ---------------------------------------------------------------- recognising and reading


def _detect_format(path: Path, head: str) -> str | None:
    """'topojson' | 'geojson' | 'shapefile_zip' | None, from the content only."""
    if head.lstrip().startswith("{"):
        if _TOPOLOGY.search(head) and _file_contains(path, b'"N03_007"'):
            return "topojson"
        if _FEATURES.search(head) and _file_contains(path, b'"N03_007"'):
            return "geojson"
        return None
    if is_zip(path) and _zip_has_n03_dbf(path):
        return "shapefile_zip"
    return None


def check_json_size(path: Path, kind: str = "geojson") -> None:
    """Refuse a GeoJSON / TopoJSON too large to parse safely, before anything parses it."""
    size = path.stat().st_size
    advice = (
        "国土数値情報の「シェープファイル（ZIP）」版を使うか、都道府県ごとのファイルに分けて取り込んでください"
        "（上限は環境変数 DX_MAX_JSON_MB・DX_MAX_FEATURES で変えられます）。"
    )
    if size > MAX_JSON_BYTES:
        raise LoaderError(
            f"境界データ（GeoJSON/TopoJSON）が大きすぎます（{size / 1e6:,.0f} MB、上限 {MAX_JSON_BYTES / 1e6:,.0f} "
            "MB）。" + advice,
            file=path,
        )
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        features = sum(1 for _ in _FEATURE_TYPES[kind].finditer(data))
    if features > MAX_FEATURES:
        raise LoaderError(
            f"境界データの地物が多すぎます（{features:,} 件、上限 {MAX_FEATURES:,} 件）。" + advice, file=path
        )


def _file_contains(path: Path, needle: bytes) -> bool:
    # TopoJSON puts all arcs before the properties, so the key is usually far past the head
    with open(path, "rb") as handle:
        try:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find(needle) != -1
        except ValueError:  # empty file
            return False


def _zip_has_n03_dbf(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.lower().endswith(".dbf"):
                    with archive.open(info) as handle:
                        if b"N03_007" in handle.read(4096):  # the field descriptors come first
                            return True
    except BROKEN_ZIP_ERRORS:
        return False
    return False


def _read_vector(source: str | Path, file: Path, **options) -> gpd.GeoDataFrame:
    """``source`` names GDAL's driver (``GeoJSON:``/``TopoJSON:`` prefix, ``/vsizip/`` shapefile) so the format found
    by content is the one read: GDAL would otherwise pick a driver by extension (a TopoJSON named .csv → CSV)."""
    try:
        return pyogrio.read_dataframe(source, **options)
    except Exception as exc:  # GDAL reports broken input through several exception types
        # GDAL's own (English) text goes to the log, not to the user
        LOG.warning("GDAL could not read %s: %s", file, exc)
        raise LoaderError(
            "地理データとして読めません（ファイルが壊れているか途中で切れています）。"
            "国土数値情報からダウンロードし直してください。",
            file=file,
        ) from exc


def _read_topojson(path: Path, report: Report) -> tuple[gpd.GeoDataFrame, int]:
    """GDAL's rows plus the ``type: null`` features it drops, which are added back without a shape."""
    try:
        raw = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise LoaderError("TopoJSON は UTF-8 で保存されている必要があります。", file=path) from exc
    except json.JSONDecodeError as exc:
        raise LoaderError(
            f"JSONとして読めません（{exc.colno}文字目付近。ファイルが途中で切れているか壊れています）。",
            file=path,
            row=exc.lineno,
        ) from exc
    objects = raw.get("objects") if isinstance(raw, dict) else None
    if not isinstance(objects, dict) or not objects:
        raise LoaderError("TopoJSON に objects がありません。", file=path)
    frames, raw_count, nulls = [], 0, []
    for layer, obj in objects.items():
        if not isinstance(obj, dict):
            raise LoaderError(
                f"TopoJSON のオブジェクト「{layer}」が地物の定義になっていません（ファイルが壊れています）。", file=path
            )
        members = obj.get("geometries") if obj.get("type") == "GeometryCollection" else [obj]
        members = members if isinstance(members, list) else []
        raw_count += len(members)
        dropped = [m.get("properties") or {} for m in members if isinstance(m, dict) and m.get("type") is None]
        frame = _read_vector(f"TopoJSON:{path.resolve()}", path, layer=layer)
        if len(frame) + len(dropped) != len(members):
            report.warn(
                f"オブジェクト「{layer}」の地物数が一致しません（ファイルの記載 {len(members)} 件、"
                f"読み取れた形状 {len(frame)} 件、"
                f"形状なし {len(dropped)} 件）。",
                path,
            )
        frames.append(frame)
        nulls.extend(dropped)
    if nulls:
        report.info(
            f"形状が「type: null」の地物が {len(nulls)} 件あります（形状の読み取りでは読み飛ばされるため、"
            "元のJSONから数えて形状なしとして扱います）: " + "、".join(_label(p) for p in nulls),
            path,
        )
        frames.append(gpd.GeoDataFrame(pd.DataFrame(nulls), geometry=[None] * len(nulls), crs=frames[0].crs))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs), raw_count


def _read_shapefile_zip(path: Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    check_zip_container(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            _check_member_name(name, path)
        by_lower = {name.lower(): name for name in names}
        shps = sorted(name for name in names if name.lower().endswith(".shp"))
        if not shps:
            raise LoaderError("ZIP内にシェープファイル（.shp）がありません。", file=path)
        frames = []
        for shp in shps:
            stem = shp[:-4].lower()
            dbf, shx = by_lower.get(stem + ".dbf"), by_lower.get(stem + ".shx")
            if dbf is None or shx is None:
                raise LoaderError(f"ZIP内の「{shp}」に対応する .dbf / .shx がありません。", file=path)
            try:
                records = archive.read(dbf)
            except BROKEN_ZIP_ERRORS as exc:
                raise LoaderError(f"ZIP内の「{dbf}」を展開できません（ファイルが壊れています）。", file=path) from exc
            encoding = _dbf_encoding(records, path)
            frames.append(_read_vector(f"/vsizip/{{{path.resolve()}}}/{shp}", path, encoding=encoding))
    crs = frames[0].crs
    if any(frame.crs != crs for frame in frames[1:]):
        frames = [frame.to_crs(crs) if frame.crs is not None and crs is not None else frame for frame in frames]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs), shps


def _check_member_name(name: str, path: Path) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise LoaderError(
            f"ZIP内に安全でないパス「{name}」があります（絶対パスや「..」を含むパスは受け付けません）。", file=path
        )


def _dbf_encoding(data: bytes, path: Path) -> str:
    """UTF-8 or cp932, detected on the records (the header's bytes 8–9 give where they start)."""
    if len(data) < 32:
        raise LoaderError("属性ファイル（.dbf）が壊れています。", file=path)
    header_length = int.from_bytes(data[8:10], "little")
    return detect_encoding(data[header_length:], path)


# ---------------------------------------------------------------- normalising


def _label(properties) -> str:
    """Prefecture + 郡/政令市 + municipality/ward as written in the file, with the code."""
    get = properties.get if hasattr(properties, "get") else (lambda key: None)
    parts = [get(key) for key in NAME_COLUMNS if key != "N03_002"]
    name = "".join(str(p) for p in parts if isinstance(p, str) and p)
    code = get(CODE_COLUMN)
    return f"{name or '名称なし'}（{code}）" if isinstance(code, str) and code else name or "名称なし"


def _registry_label(registry: Registry, code: str) -> str:
    row = registry.municipalities.loc[registry.municipalities.code == code]
    return f"{row.pref_name.iloc[0]}{row.name.iloc[0]}（{code}）" if len(row) else code


def _to_lonlat(frame: gpd.GeoDataFrame, path: Path, report: Report) -> gpd.GeoDataFrame:
    if frame.crs is None:
        report.info("座標参照系の指定がないため、経緯度（EPSG:4326）とみなしました。", path)
        return frame.set_crs(4326)
    if any(frame.crs.equals(crs, ignore_axis_order=True) for crs in LONLAT_EQUIVALENTS):
        return frame.set_crs(4326, allow_override=True)
    try:
        return frame.to_crs(4326)
    except Exception as exc:  # pyproj raises its own errors for unusable definitions
        raise LoaderError(f"座標参照系（{frame.crs.name}）を経緯度に変換できません。", file=path) from exc


def _geometry_step(step, path: Path, *args):
    """Run a GEOS-backed step; GEOS refuses some shapes of broken files (e.g. TopologyException)."""
    try:
        return step(*args)
    except shapely.errors.GEOSException as exc:
        raise LoaderError(f"境界の形状を処理できません（形状データが壊れています: {exc}）。", file=path) from exc


def _check_lonlat(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Coordinates must be longitudes and latitudes: a TopoJSON that lost its ``transform`` (quantized integers)
    or a projected file without its CRS would otherwise be read as shapes tens of thousands of degrees wide."""
    bounds = shapely.bounds(frame.geometry.values)
    if np.isnan(bounds).all():
        return
    west, south = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    east, north = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise LoaderError(
            f"座標が経緯度の範囲にありません（経度 {west:g}〜{east:g}、緯度 {south:g}〜{north:g}）。"
            "座標参照系の指定が欠けているか、TopoJSON の transform が失われている可能性があります。",
            file=path,
        )


def _assign_codes(frame: gpd.GeoDataFrame, registry: Registry, path: Path, report: Report) -> gpd.GeoDataFrame:
    """Adds ``code`` (municipality) and ``from_ward``; drops features that are no municipality."""
    ward_codes = set(registry.wards.code5)
    codes, from_ward = [], []
    no_code, northern, unknown = [], [], {}
    for properties in frame.drop(columns="geometry").to_dict("records"):
        raw = properties.get(CODE_COLUMN)
        # GDAL gives a JSON array as a list: not a code, reported below like any unknown code
        text = "" if raw is None or (pd.api.types.is_scalar(raw) and pd.isna(raw)) else str(raw).strip()
        code = registry.code_from_any(text) if text else None
        code5 = text.zfill(5) if len(text) <= 5 else text.zfill(6)[:5]
        codes.append(code)
        from_ward.append(code is not None and code5 in ward_codes)
        if code is not None:
            continue
        if not text:
            no_code.append(properties)
        elif text.zfill(5) in NORTHERN_TERRITORIES:
            northern.append(properties)
        else:
            unknown.setdefault(text, properties)
    if no_code:
        report.info(
            f"行政区域コードのない地物（所属未定地など）{len(no_code)} 件を除外しました: "
            + "、".join(_label(p) for p in no_code),
            path,
            column=CODE_COLUMN,
        )
    if northern:
        report.info(
            f"北方領土の村（01695〜01700、市区町村一覧に含まれません）の地物 {len(northern)} 件を除外しました: "
            + "、".join(sorted({_label(p) for p in northern})),
            path,
            column=CODE_COLUMN,
        )
    for text, properties in sorted(unknown.items()):
        label = _label(properties)
        report.warn(
            f"行政区域コード「{text}」（{label}）は市区町村一覧にないため、この境界を読み込みませんでした。",
            path,
            column=CODE_COLUMN,
        )
        report.unresolved.append(
            {"file": path.name, "column": CODE_COLUMN, "name": label, "reason": "市区町村一覧にない団体コード"}
        )
    frame = frame.assign(code=codes, from_ward=from_ward, has_shape=~frame.geometry.isna())
    return frame.loc[frame["code"].notna()]


def _dissolve(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One valid (Multi)Polygon per code: islands and 政令市 wards merged."""
    geoms = frame.geometry.values
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon; points/lines have no area
    geoms = np.where(polygonal, shapely.make_valid(geoms, method="structure", keep_collapsed=False), None)
    frame = frame[["code", "from_ward", "has_shape"]].set_geometry(
        gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    )
    return frame.dissolve(by="code", aggfunc={"from_ward": "any", "has_shape": "any"}).sort_index()


def _drop_without_area(shapes: gpd.GeoDataFrame, registry: Registry, path: Path, report: Report) -> gpd.GeoDataFrame:
    geoms = shapes.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms) | ~(shapely.area(geoms) > 0)
    for code, has_shape in shapes.loc[empty, "has_shape"].items():
        reason = "形状が点や線に潰れていて面積がない" if has_shape else "形状データがない"
        report.warn(f"{_registry_label(registry, code)}の境界は{reason}ため、読み込みませんでした。", path)
    return shapes.loc[~empty]


def _report_uncovered(
    frame: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame, registry: Registry, path: Path, report: Report
) -> None:
    """Municipalities of the prefectures this file covers that got no polygon from it."""
    prefectures = {code[:2] for code in frame["code"]}
    municipalities = registry.municipalities
    missing = municipalities.loc[municipalities.pref_code.isin(prefectures) & ~municipalities.code.isin(shapes.index)]
    if len(missing):
        report.info(
            f"このファイルに境界（面積のある形状）がない市区町村 {len(missing)} 件（地図では位置の点で表示）: "
            + "、".join(f"{p}{n}（{c}）" for p, n, c in zip(missing.pref_name, missing.name, missing.code)),
            path,
        )


def _as_of_from_names(names: list[str]) -> str | None:
    """The edition date in an N03 file name: N03-21_210101 (YYMMDD) or N03-20240101_13_GML (YYYYMMDD)."""
    today = date.today()
    for name in names:
        if "N03" not in name.upper():
            continue
        for digits in _DATE_IN_NAME.findall(PurePosixPath(name).name):
            if len(digits) == 8:
                year, rest = int(digits[:4]), digits[4:]
            else:
                # N03 editions go back to 1920; a two-digit year after this year is from the 1900s
                short = int(digits[:2])
                year, rest = (2000 + short if 2000 + short <= today.year else 1900 + short), digits[2:]
            try:
                found = date(year, int(rest[:2]), int(rest[2:]))
            except ValueError:
                continue
            if 1900 <= found.year <= today.year:
                return found.isoformat()
    return None


# ---------------------------------------------------------------- browser shapes


def browser_shapes(geoms: np.ndarray, budget: int) -> tuple[np.ndarray, float, int]:
    """Simplified, rounded shapes whose compact GeoJSON FeatureCollection fits ``budget`` bytes.

    Tolerances are tried from the smallest; each step simplifies the previous step's coverage, so
    shared edges stay shared (no gaps or overlaps between neighbours). Returns the shapes, the
    tolerance used and the GeoJSON size; the size exceeds the budget only at the largest tolerance.
    """
    grid = 10.0**-BROWSER_DECIMALS
    current = geoms
    shapes, tolerance, size = geoms, 0.0, 0
    for tolerance in TOLERANCES:
        if tolerance:
            current = _simplify(current, tolerance)
        shapes = _rounded(_without_small_parts(current, (PART_FACTOR * tolerance) ** 2), grid)
        size = geojson_size(shapes)
        if size <= budget:
            break
    return shapes, tolerance, size


def geojson_size(shapes: np.ndarray) -> int:
    """Bytes of the compact FeatureCollection ``national_geojson`` builds from these shapes."""
    texts = shapely.to_geojson(shapes)
    return (
        int(sum(len(text) for text in texts))
        + _FEATURE_OVERHEAD * len(texts)
        + len('{"type":"FeatureCollection","features":[]}')
    )


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    simplified = shapely.coverage_simplify(geoms, tolerance)
    broken = shapely.is_empty(simplified) | ~shapely.is_valid(simplified)
    if broken.any():  # overlapping input can break the coverage result for some shapes
        simplified[broken] = shapely.simplify(geoms[broken], tolerance, preserve_topology=True)
    return simplified


def _without_small_parts(geoms: np.ndarray, min_area: float) -> np.ndarray:
    if min_area <= 0:
        return geoms
    parts, owner = shapely.get_parts(geoms, return_index=True)
    areas = shapely.area(parts)
    largest = pd.Series(areas).groupby(owner).transform("max").to_numpy()
    keep = (areas >= min_area) | (areas == largest)
    return shapely.multipolygons(parts[keep], indices=owner[keep])


def _rounded(shapes: np.ndarray, grid: float) -> np.ndarray:
    rounded = shapely.set_precision(shapes, grid)
    lost = shapely.is_empty(rounded)
    if lost.any():  # a sliver thinner than the grid would vanish: keep it unrounded
        rounded[lost] = shapes[lost]
    return rounded


# ---------------------------------------------------------------- after all files


def finalise(con) -> None:
    """Keep one boundary row per municipality code when several files covered it.

    Preference, in order: (1) a non-empty geometry with area; (2) a municipality-level shape
    (e.g. the ``_designated_city`` file's 政令市 polygons) over one dissolved from 政令市 wards;
    (3) the newer ``as_of`` (N03 edition); (4) the larger ``area_deg2``; (5) the file name, so the
    choice is deterministic. ``load`` marks rows dissolved from wards in ``from_wards``.
    """
    con.execute(
        """
        DELETE FROM boundaries WHERE rowid NOT IN (
            SELECT row_id FROM (
                SELECT rowid AS row_id,
                       row_number() OVER (
                           PARTITION BY code
                           ORDER BY (geometry IS NOT NULL AND coalesce(area_deg2, 0) > 0) DESC,
                                    from_wards ASC,
                                    as_of DESC NULLS LAST,
                                    area_deg2 DESC NULLS LAST,
                                    file ASC
                       ) AS preference
                FROM boundaries
            ) WHERE preference = 1
        )
        """
    )
