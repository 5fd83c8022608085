"""Population and area loaders: 住民基本台帳人口 (Excel), 国勢調査 2025 速報 and 面積調 (CSV).

Expected numbers were measured on the files themselves (national totals, 1,741
municipalities, 札幌市/千代田区 areas) and the 兵庫県「市町DX支援パッケージ」table (data/pop_bands.csv),
not copies of loader output.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from loaders import area, population
from loaders.build import build, detect_loader
from loaders.catalog import band_for, load_pop_bands
from loaders.errors import LoaderError
from loaders.population import parse_japanese_date
from loaders.registry import code6_from_code5
from loaders.textio import sniff_head

JUKI_2024 = "soumu-juki-population/FY2024-population_dynamics_municipal.xlsx"
JUKI_2023 = "soumu-juki-population/FY2023-population_dynamics_municipal.xlsx"
CENSUS = "estat-census-2025/kokusei2025sokuho.csv"
AREA = "gsi-area/area20240101.csv"
HYOGO_BANDS = [25, 6, 2, 6, 1, 1]  # 兵庫県「市町DX支援パッケージ」: 兵庫県 41 市町 by 5万未満 … 100万以上

JUKI = population.JukiPopulationLoader()
CENSUS_LOADER = population.CensusPopulationLoader()
AREA_LOADER = area.GsiAreaLoader()


def values(result, indicator: str) -> dict[str, float]:
    frame = result.tables["indicator_values"]
    frame = frame[frame.indicator_id == indicator]
    return dict(zip(frame.code, frame.value))


def municipal(result, registry, indicator: str) -> dict[str, float]:
    codes = set(registry.municipalities.code)
    return {c: v for c, v in values(result, indicator).items() if c in codes}


def as_of(result, indicator: str) -> set[date]:
    frame = result.tables["indicator_values"]
    return set(frame.loc[frame.indicator_id == indicator, "as_of"])


def hyogo_bands(populations: dict[str, float], registry) -> list[int]:
    bands = load_pop_bands()
    hyogo = registry.municipalities.loc[registry.municipalities.pref_code == "28", "code"]
    counts = Counter(band_for(populations[code], bands) for code in hyogo)
    return [counts[label] for label in bands.label]


@pytest.fixture(scope="module")
def juki(shared_data, load_context):
    return {name: JUKI.load(shared_data / name, load_context) for name in (JUKI_2024, JUKI_2023)}


# ---------------------------------------------------------------- 住民基本台帳 (real files)


@pytest.mark.parametrize(
    "name, total, as_of_date, movements_date",
    [
        (JUKI_2024, 124_885_175, date(2024, 1, 1), date(2023, 12, 31)),
        (JUKI_2023, 125_416_877, date(2023, 1, 1), date(2022, 12, 31)),
    ],
)
def test_juki_covers_all_municipalities_and_sums_to_the_national_total(
    juki, registry, name, total, as_of_date, movements_date
):
    result = juki[name]
    people = municipal(result, registry, "population_juki")
    assert len(people) == 1741
    assert sum(people.values()) == total
    assert len(municipal(result, registry, "households_juki")) == 1741
    prefectures = {c: v for c, v in values(result, "population_juki").items() if c in set(registry.prefectures.code)}
    assert len(prefectures) == 47 and sum(prefectures.values()) == total
    assert as_of(result, "population_juki") == {as_of_date}
    assert as_of(result, "social_change_rate_juki") == {movements_date}
    assert not result.report.warnings and not result.report.unresolved


def test_juki_counts_every_skipped_category(juki):
    counts = {key.split(": ", 1)[1]: value for key, value in juki[JUKI_2024].report.counts.items()}
    # the file's 2,280 coded rows = 47 prefectures + 1,741 municipalities + 307 郡 + 171 wards
    # + 7 浜松市「（再編前）」 + 6 北方領土 + 島しょ
    assert counts["都道府県"] == 47 and counts["市区町村"] == 1741
    assert counts[population.DISTRICT] == 307
    assert counts[population.WARD] == 171
    assert counts["再編前の区（値 ***）"] == 7
    assert counts[population.NORTHERN_TERRITORIES] == 6
    assert counts["東京都「島しょ」の小計"] == 1
    assert counts["合計行"] == 1
    assert sum(v for k, v in counts.items() if k not in ("合計行", "注記")) == 2280


def test_juki_values_keep_the_sheet_numbers(juki, shared_data):
    sheet = openpyxl.load_workbook(shared_data / JUKI_2024, read_only=True).worksheets[0]
    sapporo = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "011002")
    result = juki[JUKI_2024]
    assert values(result, "population_juki")["011002"] == sapporo[5]
    assert values(result, "households_juki")["011002"] == sapporo[6]
    assert values(result, "population_change_rate_juki")["011002"] == pytest.approx(sapporo[20])


def test_hyogo_population_bands_match_the_seed_table_with_juki(juki, registry):
    # Both 住基 years reproduce 兵庫県's 41 市町 table (seed from 令和4年度 data).
    for result in juki.values():
        assert hyogo_bands(municipal(result, registry, "population_juki"), registry) == HYOGO_BANDS


def test_juki_sheet_with_shifted_header_loads_the_same(shared_data, load_context, juki, tmp_path):
    source = openpyxl.load_workbook(shared_data / JUKI_2024, read_only=True)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("人口")
    sheet.append(["（再保存した表）"])
    sheet.append([])
    sheet.append([])
    for row in source.worksheets[0].iter_rows(values_only=True):
        sheet.append([None, *row])  # one column to the right, three rows down
    copy = tmp_path / "re-saved.xlsx"
    workbook.save(copy)
    assert detect_loader(copy, [JUKI, CENSUS_LOADER, AREA_LOADER]) is JUKI
    result = JUKI.load(copy, load_context)
    original = juki[JUKI_2024].tables["indicator_values"]
    loaded = result.tables["indicator_values"]
    keys = ["code", "indicator_id", "as_of", "source"]
    assert loaded[keys].equals(original[keys])
    # openpyxl writes floats with fewer digits, so the rates come back within rounding
    assert loaded["value"].to_numpy() == pytest.approx(original["value"].to_numpy(), rel=1e-12)
    assert not result.report.warnings


def write_small_juki(path: Path, title: str, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([title])
    sheet.append([None, None, None, "人口", "人口", "人口", "世帯数"])
    sheet.append(["団体コード", "都道府県名", "市区町村名", "男", "女", "計", "世帯数"])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_juki_small_sheet_reports_unknown_codes_sums_and_missing(load_context, tmp_path):
    path = write_small_juki(
        tmp_path / "small.xlsx",
        "令和元年１２月１日住民基本台帳人口・世帯数",
        [
            ["-", "合計", "-", 1, 1, 1000, 1],
            ["010006", "北海道", "-", 1, 1, 900, 1],
            [11002, "北海道", "札幌市", 1, 1, 900, 1],  # a number that lost its leading zero
            ["011003", "北海道", "札幌市", 1, 1, 5, 1],  # wrong check digit
            ["999997", "どこか", "架空市", 1, 1, 7, 1],  # valid check digit, no such body
            ["221317", "静岡県", "浜松市中区（再編前）", "***", "***", "***", "***"],  # a ward: counted, not stored
            ["注：テスト"],
        ],
    )
    result = JUKI.load(path, load_context)
    assert as_of(result, "population_juki") == {date(2019, 12, 1)}
    assert values(result, "population_juki") == {"010006": 900.0, "011002": 900.0}
    rows = {(u["row"], u["name"]) for u in result.report.unresolved}
    assert rows == {(7, "011003"), (8, "999997")}
    messages = " ".join(str(w) for w in result.report.warnings)
    assert "1,000 人と一致しません" in messages
    assert "1740 団体" in messages  # every municipality but 札幌市 is missing
    assert "8行目" in messages


def test_juki_text_in_a_number_column_names_row_and_column(load_context, tmp_path):
    path = write_small_juki(
        tmp_path / "bad.xlsx",
        "令和6年1月1日住民基本台帳人口",
        [
            ["011002", "北海道", "札幌市", 1, 1, "約百九十万", 1],
        ],
    )
    with pytest.raises(LoaderError) as error:
        JUKI.load(path, load_context)
    assert error.value.row == 4 and error.value.column == 5 and "bad.xlsx" in str(error.value)


def test_juki_random_binary_named_xlsx_is_a_loader_error(load_context, tmp_path):
    path = tmp_path / "人口.xlsx"
    path.write_bytes(os.urandom(4096))
    assert not JUKI.sniff(path, sniff_head(path))
    with pytest.raises(LoaderError) as error:
        JUKI.load(path, load_context)
    assert "人口.xlsx" in str(error.value)


def test_juki_workbook_without_the_header_is_refused(load_context, tmp_path):
    path = tmp_path / "other.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["住民基本台帳", "世帯数"])
    workbook.save(path)
    with pytest.raises(LoaderError, match="見出し行が見つかりません"):
        JUKI.load(path, load_context)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("令和6年1月1日住民基本台帳人口", date(2024, 1, 1)),
        ("令和元年５月１日現在", date(2019, 5, 1)),
        ("平成31年1月1日", date(2019, 1, 1)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("2025年10月1日現在", date(2025, 10, 1)),
        ("住民基本台帳人口", None),
    ],
)
def test_parse_japanese_date(text, expected):
    assert parse_japanese_date(text) == expected


# ---------------------------------------------------------------- 国勢調査 2025 速報


@pytest.fixture(scope="module")
def census(shared_data, load_context):
    return CENSUS_LOADER.load(shared_data / CENSUS, load_context)


def test_census_sums_to_the_national_row(census, registry):
    people = municipal(census, registry, "population_census")
    assert len(people) == 1741
    assert sum(people.values()) == 123_049_524
    assert len(values(census, "population_census")) == 1741 + 47  # wards, 00000 and 13100 not stored
    assert as_of(census, "population_census") == {date(2025, 10, 1)}
    assert not census.report.warnings and not census.report.unresolved


def test_census_as_cp932_crlf_loads_identically(shared_data, load_context, census, tmp_path):
    text = (shared_data / CENSUS).read_text(encoding="utf-8")
    for encoding in ("cp932", "utf-8-sig"):
        copy = tmp_path / f"census-{encoding}.csv"
        copy.write_bytes(text.replace("\n", "\r\n").encode(encoding))
        assert detect_loader(copy, [JUKI, CENSUS_LOADER, AREA_LOADER]) is CENSUS_LOADER
        result = CENSUS_LOADER.load(copy, load_context)
        assert (
            result.tables["indicator_values"]
            .drop(columns="file")
            .equals(census.tables["indicator_values"].drop(columns="file"))
        )


def test_census_truncated_file_is_a_loader_error_naming_file_and_row(shared_data, load_context, tmp_path):
    data = (shared_data / CENSUS).read_bytes()
    cut = data[: data.index(b"\n", len(data) // 2) + 8]  # stops inside a line
    path = tmp_path / "truncated.csv"
    path.write_bytes(cut)
    with pytest.raises(LoaderError) as error:
        CENSUS_LOADER.load(path, load_context)
    assert "truncated.csv" in str(error.value)
    assert error.value.row == cut.count(b"\n") + 1


def test_census_unknown_code_is_reported_with_its_row(shared_data, load_context, tmp_path):
    lines = (shared_data / CENSUS).read_text(encoding="utf-8").splitlines()
    path = tmp_path / "unknown.csv"
    path.write_text("\n".join([*lines, "99999,100,50,50"]) + "\n", encoding="utf-8")
    result = CENSUS_LOADER.load(path, load_context)
    assert result.report.unresolved == [
        {"file": "unknown.csv", "row": len(lines) + 1, "column": 0, "name": "99999", "reason": "登録簿にない団体コード"}
    ]
    assert any(w.row == len(lines) + 1 for w in result.report.warnings)


def test_census_sum_mismatch_and_duplicates(shared_data, load_context, tmp_path):
    lines = (shared_data / CENSUS).read_text(encoding="utf-8").splitlines()
    sapporo = next(i for i, line in enumerate(lines) if line.startswith("01100,"))
    changed = list(lines)
    changed[sapporo] = "01100,1,1,0"
    path = tmp_path / "changed.csv"
    path.write_text("\n".join(changed) + "\n", encoding="utf-8")
    messages = [w.message for w in CENSUS_LOADER.load(path, load_context).report.warnings]
    assert any("123,049,524 人と一致しません" in m for m in messages)
    assert any(m.startswith("北海道の市区町村の人口の合計") for m in messages)
    path.write_text("\n".join([*lines, lines[sapporo]]) + "\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="重複"):
        CENSUS_LOADER.load(path, load_context)


# ---------------------------------------------------------------- 面積調


@pytest.fixture(scope="module")
def areas(shared_data, load_context):
    return AREA_LOADER.load(shared_data / AREA, load_context)


def test_area_real_file(areas, registry, shared_data):
    km2 = municipal(areas, registry, "area_km2")
    assert len(km2) == 1741 and all(v > 0 for v in km2.values())
    assert km2["011002"] == 1121.26 and km2["131016"] == 11.66
    with open(shared_data / AREA, encoding="utf-8", newline="") as handle:
        prefecture_rows = {r["code"]: float(r["area"]) for r in csv.DictReader(handle) if r["code"].endswith("000")}
    stored = values(areas, "area_km2")
    assert {code6_from_code5(c): v for c, v in prefecture_rows.items()} == {
        c: stored[c] for c in stored if c not in km2
    }
    counts = {key.split(": ", 1)[1]: value for key, value in areas.report.counts.items()}
    assert (
        counts[population.NORTHERN_TERRITORIES] == 6 and counts[population.WARD] > 0 and counts[population.DISTRICT] > 0
    )
    assert not areas.report.warnings and not areas.report.unresolved


def test_area_codes_without_leading_zero_and_bad_values(load_context, tmp_path):
    path = tmp_path / "area.csv"
    path.write_bytes('code,area\r\n1100,"1,121.26"\r\n13101,１１．６６\r\n01202,-\r\n99999,3\r\n'.encode("cp932"))
    assert detect_loader(path, [JUKI, CENSUS_LOADER, AREA_LOADER]) is AREA_LOADER
    result = AREA_LOADER.load(path, load_context)
    frame = result.tables["indicator_values"].set_index("code")
    assert frame.at["011002", "value"] == 1121.26 and frame.at["131016", "value"] == 11.66
    assert frame.at["012025", "raw"] == "-" and frame["value"].isna()["012025"]
    assert [u["row"] for u in result.report.unresolved] == [5]
    assert any(w.row == 4 for w in result.report.warnings)


def test_area_without_value_column_is_refused(load_context, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,size\n01100,3\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="area"):
        AREA_LOADER.load(path, load_context)


# ---------------------------------------------------------------- end to end: finalise


def test_build_derives_population_band_and_density(shared_data, tmp_path):
    target = tmp_path / "store.duckdb"
    build([shared_data / JUKI_2024, shared_data / AREA], target)
    con = duckdb.connect(str(target), read_only=True)
    try:
        rows = con.execute(
            "SELECT pop_band, count(*) FROM municipalities WHERE pref_code = '28' GROUP BY pop_band"
        ).fetchall()
        sapporo = con.execute(
            "SELECT population, population_source, population_as_of, area_km2, density FROM municipalities WHERE "
            "code = '011002'"
        ).fetchone()
        assert (
            con.execute("SELECT count(*) FROM municipalities WHERE population IS NULL OR density IS NULL").fetchone()[0]
            == 0
        )
    finally:
        con.close()
    bands = dict(rows)
    assert [bands.get(label, 0) for label in load_pop_bands().label] == HYOGO_BANDS
    assert sapporo[:4] == (1_956_928, "juki_population", date(2024, 1, 1), 1121.26)
    assert sapporo[4] == pytest.approx(1_956_928 / 1121.26)
