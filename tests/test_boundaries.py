"""国土数値情報 N03 boundaries: the two real TopoJSON files, crafted GeoJSON / Shapefile zips, bad input.

Expected numbers were measured on the N03 files themselves, not copies of loader output.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from loaders import boundaries
from loaders import build as build_module
from loaders.build import build, check_file
from loaders.errors import LoaderError
from loaders.registry import EXPECTED_MUNICIPALITIES
from loaders.store import create_schema
from loaders.textio import sniff_head
from metrics import geometry

FOLDER = "boundaries"
WARD_FILE = "N03-21_210101.topojson.json"
DESIGNATED_FILE = "N03-21_210101_designated_city.topojson.json"
# measured on the real files: type-null features of the designated file (besides 愛知 所属未定地) and its
# degenerate shapes
TYPE_NULL = ["利島村", "青ヶ島村", "上島町", "姫島村", "座間味村", "粟国村", "渡名喜村"]
DEGENERATE = ["大治町", "向日市", "日吉津村", "太地町"]
# measured on the real files: without a polygon in either file
WITHOUT_POLYGON = {"利島村", "青ヶ島村", "日吉津村", "上島町", "太地町", "姫島村", "座間味村", "粟国村", "渡名喜村"}
NORTHERN = {"01695", "01696", "01697", "01698", "01699", "01700"}
LOADER = boundaries.LOADERS[0]


def real_path(shared_data: Path, name: str) -> Path:
    return shared_data / FOLDER / name


def raw_features(path: Path) -> list[dict]:
    topology = json.loads(path.read_text(encoding="utf-8"))
    return [g for obj in topology["objects"].values() for g in obj["geometries"]]


@pytest.fixture(scope="module")
def loaded(shared_data, load_context):
    return {name: LOADER.load(real_path(shared_data, name), load_context) for name in (WARD_FILE, DESIGNATED_FILE)}


@pytest.fixture(scope="module")
def hyogo(shared_data) -> gpd.GeoDataFrame:
    """兵庫県 from the real ward file, one feature per polygon part (several per municipality)."""
    frame = gpd.read_file(real_path(shared_data, WARD_FILE))
    frame = frame.loc[frame.N03_001 == "兵庫県"].drop(columns="id").explode(index_parts=False, ignore_index=True)
    return frame.set_crs(6668)


def full_resolution(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Densify and wiggle every edge, the same way on both sides of a shared edge, as a stand-in for N03's detail."""
    geoms = shapely.segmentize(frame.geometry.values, 0.0002)
    geoms = shapely.transform(geoms, lambda xy: xy + 3e-5 * np.sin(xy[:, ::-1] * 7.0e4))
    return frame.set_geometry(shapely.set_precision(geoms, 1e-7))


def shapefile_zip(
    frame: gpd.GeoDataFrame, folder: Path, zip_name: str, encoding: str, extra: dict[str, bytes] | None = None
) -> Path:
    stem = "N03-24_28_240101"
    workdir = folder / f"shp-{encoding}"
    workdir.mkdir()
    pyogrio.write_dataframe(frame, workdir / f"{stem}.shp", encoding=encoding)
    target = folder / zip_name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(workdir.iterdir()):
            if member.suffix != ".cpg":  # N03's own zips carry no .cpg: the encoding must be detected
                archive.write(member, f"N03-20240101_28_GML/{member.name}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


# ---------------------------------------------------------------- the real TopoJSON files


def test_sniff_recognises_only_n03_files(shared_data):
    recognised = {p.name for p in shared_data.rglob("*") if p.is_file() and LOADER.sniff(p, sniff_head(p))}
    assert recognised == {WARD_FILE, DESIGNATED_FILE}


def test_designated_file(shared_data, loaded, registry):
    path = real_path(shared_data, DESIGNATED_FILE)
    features = raw_features(path)
    assert len(features) == 1751
    raw_codes = {registry.code_from_any(g["properties"]["N03_007"]) for g in features if g["properties"]["N03_007"]}
    assert len(raw_codes - {None}) == EXPECTED_MUNICIPALITIES

    result = loaded[DESIGNATED_FILE]
    rows = result.tables["boundaries"]
    assert result.report.counts[boundaries.COUNT_FEATURES] == 1751
    assert result.report.counts[boundaries.COUNT_MATCHED] == EXPECTED_MUNICIPALITIES
    assert (rows.area_deg2 > 0).sum() >= 1730
    assert rows.code.is_unique and set(rows.code) <= set(registry.municipalities.code)
    assert not {code[:5] for code in rows.code} & NORTHERN
    assert set(rows.as_of) == {"2021-01-01"}
    assert "build_info" not in result.tables  # 政令市 are municipality-level here
    warned = " ".join(str(w) for w in result.report.warnings)
    for name in TYPE_NULL + DEGENERATE:
        assert name in warned
    written = set(registry.municipalities.set_index("code").loc[rows.code, "name"])
    assert not written & set(TYPE_NULL + DEGENERATE)


def test_ward_file_dissolves_wards(shared_data, loaded, registry):
    result = loaded[WARD_FILE]
    rows = result.tables["boundaries"]
    assert result.report.counts[boundaries.COUNT_FEATURES] == 1897
    assert result.report.counts[boundaries.COUNT_MATCHED] == 1733
    assert len(rows) == 1732  # 太地町 is invalid ("Too few points") with no area
    assert set(rows.code) <= set(registry.municipalities.code)
    designated = set(registry.municipalities.loc[registry.municipalities.type == "政令市", "code"])
    assert set(rows.loc[rows.from_wards, "code"]) == designated
    sapporo = shapely.from_wkb(rows.set_index("code").loc["011002", "geometry"])
    assert sapporo.is_valid and sapporo.area == pytest.approx(0.1234, abs=1e-4)
    assert "太地町" in " ".join(str(w) for w in result.report.warnings)


def test_yusuhara_joins_by_code(loaded, registry):
    # the files spell it 梼原町, the registry 檮原町: the code decides
    assert registry.municipalities.set_index("code").loc["394050", "name"] == "檮原町"
    for result in loaded.values():
        assert "394050" in set(result.tables["boundaries"].code)


def test_browser_shapes_are_valid_and_rounded(loaded):
    rows = loaded[DESIGNATED_FILE].tables["boundaries"]
    simplified = shapely.from_wkb(rows.geometry_simplified)
    assert shapely.is_valid(simplified).all() and not shapely.is_empty(simplified).any()
    coords = shapely.get_coordinates(shapely.from_geojson(rows.geojson_simplified))
    assert np.allclose(coords, np.round(coords, boundaries.BROWSER_DECIMALS), atol=1e-9)
    assert coords[:, 0].min() > 122.9 and coords[:, 0].max() < 148.9  # Japan's extent
    assert coords[:, 1].min() > 24.0 and coords[:, 1].max() < 45.6


def test_build_on_real_folder(shared_data, tmp_path, monkeypatch, registry):
    monkeypatch.setattr(build_module, "LOADER_MODULES", ("loaders.boundaries",))  # this loader only
    target = tmp_path / "store.duckdb"
    summary = build([shared_data], target, force=True)  # forced: the other files are unknown to this loader
    assert summary.counts["境界のある市区町村数"] >= 1730
    con = duckdb.connect(str(target), read_only=True)
    try:
        total, codes = con.execute("SELECT count(*), count(DISTINCT code) FROM boundaries").fetchone()
        assert total == codes >= 1730
        designated_rows = con.execute(
            "SELECT DISTINCT b.file FROM boundaries b JOIN municipalities m USING (code) WHERE m.type = '政令市'"
        ).fetchall()
        assert designated_rows == [(DESIGNATED_FILE,)]  # municipality-level shapes win over dissolved wards
        missing = geometry.missing_boundaries(con)
        assert set(missing.name) == WITHOUT_POLYGON and missing.lat.notna().all()

        collection = geometry.national_geojson(con)
        size = len(json.dumps(collection, separators=(",", ":")).encode())
        assert len(collection["features"]) == total
        assert size <= boundaries.BROWSER_BUDGET_BYTES
        assert size == pytest.approx(
            boundaries.geojson_size(shapely.from_geojson([json.dumps(f["geometry"]) for f in collection["features"]])),
            rel=0.01,
        )
        some = geometry.national_geojson(con, codes=["011002", "282014", "133621"])
        assert [f["properties"]["code"] for f in some["features"]] == ["011002", "282014"]  # 利島村 has none
        full = geometry.national_geojson(con, codes=["011002"], simplified=False)
        assert shapely.from_geojson(json.dumps(full["features"][0]["geometry"])).area == pytest.approx(0.1233, abs=1e-4)
    finally:
        con.close()


def test_finalise_preference():
    square = shapely.box(135, 34, 135.1, 34.1)
    bigger = shapely.box(135, 34, 135.11, 34.1)
    con = duckdb.connect()
    create_schema(con)
    rows = [
        # code, shape, file, as_of: non-empty beats empty; municipality-level beats dissolved wards
        ("000001", None, "a.json", "2024-01-01"),
        ("000001", square, "b.json", "2021-01-01"),
        ("000002", bigger, "wards.json", "2021-01-01"),
        ("000002", square, "city.json", "2021-01-01"),
        # then the newer edition, then the larger area
        ("000003", bigger, "old.json", "2020-01-01"),
        ("000003", square, "new.json", "2024-01-01"),
        ("000004", square, "b.json", "2021-01-01"),
        ("000004", bigger, "c.json", "2021-01-01"),
    ]
    for code, shape, file, as_of in rows:
        con.execute(
            "INSERT INTO boundaries (code, geometry, area_deg2, from_wards, source, file, as_of) "
            "VALUES (?, ?, ?, ?, 'n03_boundaries', ?, ?)",
            [
                code,
                shapely.to_wkb(shape) if shape else None,
                shape.area if shape else None,
                file == "wards.json",
                file,
                as_of,
            ],
        )
    boundaries.finalise(con)
    chosen = dict(con.execute("SELECT code, file FROM boundaries").fetchall())
    assert chosen == {"000001": "b.json", "000002": "city.json", "000003": "new.json", "000004": "c.json"}


# ---------------------------------------------------------------- crafted files


def test_full_resolution_prefecture_geojson(hyogo, tmp_path, load_context, registry):
    path = tmp_path / "N03-21_28_210101.geojson"
    frame = full_resolution(hyogo)
    pyogrio.write_dataframe(frame, path)
    assert LOADER.sniff(path, sniff_head(path))
    result = LOADER.load(path, load_context)
    rows = result.tables["boundaries"]
    hyogo_codes = set(registry.municipalities.loc[registry.municipalities.pref_name == "兵庫県", "code"])
    assert len(hyogo) > len(hyogo_codes) == 41
    assert rows.code.is_unique and set(rows.code) == hyogo_codes
    assert set(rows.as_of) == {"2021-01-01"}
    assert rows.loc[rows.from_wards, "code"].tolist() == ["281000"]  # 神戸市 from its wards
    share = boundaries.BROWSER_BUDGET_BYTES * len(rows) / EXPECTED_MUNICIPALITIES
    assert shapely.get_num_coordinates(frame.geometry.values).sum() > 100_000
    assert boundaries.geojson_size(shapely.from_geojson(rows.geojson_simplified)) <= share
    simplified = shapely.from_wkb(rows.geometry_simplified)
    assert shapely.is_valid(simplified).all()
    # shared edges stay shared: neighbours neither overlap nor leave gaps beyond the rounding grid
    assert shapely.area(shapely.union_all(simplified)) == pytest.approx(shapely.area(simplified).sum(), rel=1e-3)
    full = shapely.from_wkb(rows.geometry)
    assert shapely.area(full).sum() == pytest.approx(shapely.area(frame.geometry.values).sum(), rel=1e-6)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_shapefile_zip(hyogo, tmp_path, load_context, encoding):
    frame = hyogo.loc[(hyogo.N03_003 == "神戸市") | hyogo.N03_004.isin(["姫路市", "明石市"])]
    unknown = frame.iloc[[0]].assign(N03_003=None, N03_004="架空町", N03_007="28999")
    frame = gpd.GeoDataFrame(pd.concat([frame, unknown], ignore_index=True), crs=frame.crs)
    path = shapefile_zip(frame, tmp_path, "N03-20240101_28_GML.zip", encoding)
    assert LOADER.sniff(path, sniff_head(path))
    result = LOADER.load(path, load_context)
    rows = result.tables["boundaries"]
    assert sorted(rows.code) == ["281000", "282014", "282031"]
    assert set(rows.as_of) == {"2024-01-01"}
    assert [u["name"] for u in result.report.unresolved] == ["兵庫県架空町（28999）"]  # attributes decoded


def test_projected_shapefile_is_transformed(hyogo, tmp_path, load_context):
    frame = hyogo.loc[hyogo.N03_004 == "姫路市"]
    path = shapefile_zip(frame.to_crs(6673), tmp_path, "N03-20240101_28_GML.zip", "cp932")  # 平面直角座標系 V
    rows = LOADER.load(path, load_context).tables["boundaries"]
    assert rows.area_deg2.iloc[0] == pytest.approx(shapely.area(frame.geometry.values).sum(), rel=1e-4)


@pytest.mark.parametrize("member", ["../evil.shp", "/tmp/evil.shp"])
def test_zip_with_unsafe_member_is_refused(hyogo, tmp_path, load_context, member):
    path = shapefile_zip(hyogo.iloc[:3], tmp_path, "N03-20240101_28_GML.zip", "cp932", extra={member: b"x"})
    with pytest.raises(LoaderError, match="安全でないパス") as error:
        LOADER.load(path, load_context)
    assert error.value.file == str(path)


def test_truncated_json_is_an_error(shared_data, tmp_path, hyogo, monkeypatch):
    monkeypatch.setattr(build_module, "LOADER_MODULES", ("loaders.boundaries",))
    data = real_path(shared_data, DESIGNATED_FILE).read_bytes()
    topo = tmp_path / DESIGNATED_FILE
    topo.write_bytes(data[: len(data) * 9 // 10])  # the properties (and N03_007) come after the arcs
    geo = tmp_path / "N03-21_28_210101.geojson"
    pyogrio.write_dataframe(hyogo, geo)
    geo.write_bytes(geo.read_bytes()[:-5000])
    for path in (topo, geo):
        loader, result, issues = check_file(path)
        assert loader is LOADER and result is None
        assert issues[0].level == "error" and "読めません" in issues[0].message


def test_other_files_are_not_claimed(tmp_path):
    plain = tmp_path / "points.geojson"
    plain.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"}, '
        '"geometry": {"type": "Point", "coordinates": [135, 35]}}]}',
        encoding="utf-8",
    )
    binary = tmp_path / "N03-20240101_28_GML.xlsx"
    binary.write_bytes(np.random.default_rng(1).bytes(4096))
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "N03_007")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    for path in (plain, binary, other_zip, empty):
        assert not LOADER.sniff(path, sniff_head(path)), path.name


def test_browser_shapes_keep_every_municipality():
    # overlapping neighbours (not a clean coverage) and a sliver thinner than the rounding grid
    wiggly = shapely.segmentize(shapely.box(135.0, 34.0, 135.3, 34.3), 0.001)
    wiggly = shapely.make_valid(
        shapely.transform(wiggly, lambda xy: xy + 0.002 * np.sin(xy[:, ::-1] * 900))
    )  # as load() does
    overlapping = shapely.transform(wiggly, lambda xy: xy + [0.25, 0.01])
    sliver = shapely.box(136.0, 34.0, 136.2, 34.00003)
    geoms = np.array([wiggly, overlapping, sliver])
    shapes, tolerance, size = boundaries.browser_shapes(geoms, budget=2_000)
    assert tolerance > 0 and size == boundaries.geojson_size(shapes)
    assert shapely.is_valid(shapes).all() and not shapely.is_empty(shapes).any()
    assert shapely.get_num_coordinates(shapes[:2]).sum() < shapely.get_num_coordinates(geoms[:2]).sum() / 10


@pytest.mark.parametrize(
    "names, expected",
    [
        (["N03-21_210101.topojson.json"], "2021-01-01"),
        (["N03-20240101_28_GML.zip"], "2024-01-01"),
        (["hyogo.zip", "N03-20240101_28_GML/N03-24_28_240101.shp"], "2024-01-01"),
        (["N03-550401_28_GML.zip"], "1955-04-01"),
        (["boundaries_20240101.geojson"], None),  # not an N03 file name
        (["N03-21_219999.json"], None),
    ],
)
def test_as_of_from_names(names, expected):
    assert boundaries._as_of_from_names(names) == expected
