"""デジタル庁「自治体DX推進状況」 loaders: the four real exports and crafted variants of them.

Expected numbers were measured on the files themselves, not copies of loader output.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders import digital_agency
from loaders.build import build, detect_loader
from loaders.catalog import load_indicator_catalog
from loaders.errors import LoaderError
from loaders.textio import sniff_head

FOLDER = "digital-agency"
MUNICIPAL = "市区町村毎のDX進捗状況_市区町村比較.csv"
MUNICIPAL_ONLINE = "市区町村毎のDX進捗状況_行政手続のオンライン申請率.csv"
PREFECTURE = "都道府県のDX進捗状況_都道府県比較.csv"
PREFECTURE_ONLINE = "都道府県のDX進捗状況_行政手続のオンライン申請率.csv"
LOADER_OF = {
    MUNICIPAL: "digital_agency_municipal",
    MUNICIPAL_ONLINE: "digital_agency_municipal_online",
    PREFECTURE: "digital_agency_prefecture",
    PREFECTURE_ONLINE: "digital_agency_prefecture_online",
}
BINARY_IDS = [
    "da_cio",
    "da_cio_aide",
    "da_policy",
    "da_org",
    "da_external_talent",
    "da_staff_development",
    "da_all_staff_training",
    "da_ai",
    "da_rpa",
    "da_telework",
]
ISHIKAWA_NOT_SURVEYED = ["金沢市", "七尾市", "小松市", "輪島市", "珠洲市", "内灘町", "中能登町", "能登町"]


def real_path(shared_data: Path, name: str) -> Path:
    return shared_data / FOLDER / name


def real_rows(shared_data: Path, name: str) -> list[list[str]]:
    with open(real_path(shared_data, name), encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", newline: str = "\r\n") -> Path:
    path.write_bytes("".join(",".join(row) + newline for row in rows).encode(encoding))
    return path


def loader(name: str):
    return next(item for item in digital_agency.LOADERS if item.name == name)


@pytest.fixture(scope="module")
def loaded(shared_data, load_context):
    """Each real export, loaded once by the loader its content selects."""
    results = {}
    for name in LOADER_OF:
        path = real_path(shared_data, name)
        chosen = detect_loader(path, digital_agency.LOADERS)
        results[name] = chosen.load(path, load_context)
    return results


def values(result):
    return result.tables["indicator_values"]


def code_of(registry, pref: str, name: str) -> str:
    code = registry.by_pref_and_name(pref, name)
    assert code is not None
    return code


# ---------------------------------------------------------------- recognition


@pytest.mark.parametrize("name", list(LOADER_OF))
def test_each_export_is_recognised_by_content_not_name(shared_data, tmp_path, name):
    renamed = tmp_path / "download.csv"
    renamed.write_bytes(real_path(shared_data, name).read_bytes())
    matches = [item.name for item in digital_agency.LOADERS if item.sniff(renamed, sniff_head(renamed))]
    assert matches == [LOADER_OF[name]]


def test_other_files_are_not_taken(shared_data, tmp_path):
    noise = tmp_path / "random.csv"
    noise.write_bytes(bytes(range(256)) * 64)
    others = [
        noise,
        shared_data / "gsi-area" / "area20240101.csv",
        shared_data / "digital-agency-opendata-survey" / "20250210_resources_data_questionnaire_outline_04.csv",
    ]
    for path in others:
        assert detect_loader(path, digital_agency.LOADERS) is None, path


# ---------------------------------------------------------------- 市区町村比較 (real)


def test_municipal_columns_all_resolve(loaded, registry):
    result = loaded[MUNICIPAL]
    frame = values(result)
    assert result.report.unresolved == []
    assert result.report.warnings == []
    assert set(frame.code) == set(registry.municipalities.code)
    assert len(frame) == 15 * 1741


@pytest.mark.parametrize(
    "name, codes",
    [
        ("池田町", ["016446", "183822", "204811", "214043"]),
        ("府中市", ["132063", "342084"]),
        ("伊達市", ["012335", "072133"]),
    ],
)
def test_duplicated_names_land_on_their_codes(shared_data, loaded, load_context, name, codes):
    rows = real_rows(shared_data, MUNICIPAL)
    columns = [i for i, header in enumerate(rows[0]) if header == name]
    file_columns = [[row[i] for row in rows[1:]] for i in columns]
    assert len(set(map(tuple, file_columns))) == len(codes)  # the columns differ, so a swap would show
    frame = values(loaded[MUNICIPAL])
    order = [entry["id"] for entry in _rows_in_file_order(rows, load_context.indicators, "digital_agency_municipal")]
    for code, column in zip(codes, file_columns):
        stored = frame[frame.code == code].set_index("indicator_id").loc[order, "raw"].tolist()
        assert stored == column


def _rows_in_file_order(rows, catalog, source):
    by_key = {(e["category"], e["label"]): e for e in catalog.values() if source in e.get("loaded_from", ())}
    return [by_key[(row[0].strip(), row[1].strip())] for row in rows[1:]]


def test_municipal_value_counts(loaded, registry):
    frame = values(loaded[MUNICIPAL])
    binary = frame[frame.indicator_id.isin(BINARY_IDS)]
    assert (binary.value == 1).sum() == 9927
    assert (binary.value == 0).sum() == 7427
    not_surveyed = frame[frame.raw == "調査無し"]
    assert len(not_surveyed) == 56
    assert not_surveyed.value.isna().all()
    ishikawa = {code_of(registry, "石川県", name) for name in ISHIKAWA_NOT_SURVEYED}
    assert set(not_surveyed.code) == ishikawa
    assert set(not_surveyed.indicator_id) == set(BINARY_IDS[:7])
    assert frame[frame.code.isin(ishikawa) & ~frame.indicator_id.isin(BINARY_IDS[:7])].value.notna().all()
    percent = frame[frame.raw.str.fullmatch(r"\d+%")]
    assert len(percent) == 5221
    assert (frame.raw.str.fullmatch(r"\d+")).sum() == 3482
    assert frame.value.isna().sum() == 56 + 2


def test_bare_percent_is_missing_where_the_denominator_is_zero(loaded, registry):
    frame = values(loaded[MUNICIPAL]).set_index(["code", "indicator_id"])
    bare = values(loaded[MUNICIPAL])
    bare = bare[bare.raw == "%"]
    expected = {code_of(registry, "群馬県", "草津町"), code_of(registry, "奈良県", "天川村")}
    assert set(bare.code) == expected and set(bare.indicator_id) == {"da_online_top32"}
    assert bare.value.isna().all()
    for code in expected:
        assert frame.loc[(code, "da_online_top32_denominator"), "value"] == 0
        assert frame.loc[(code, "da_online_top32_numerator"), "value"] == 0


@pytest.mark.parametrize("name, count", [(MUNICIPAL, 1739), (PREFECTURE, 47)])
def test_rate_is_rounded_half_up_numerator_over_denominator(loaded, name, count):
    wide = values(loaded[name]).pivot(index="code", columns="indicator_id", values="value")
    with_denominator = wide[wide.da_online_top32_denominator > 0]
    assert len(with_denominator) == count
    assert (with_denominator.da_online_top32_numerator <= with_denominator.da_online_top32_denominator).all()
    for row in with_denominator.itertuples():
        exact = Decimal(int(row.da_online_top32_numerator) * 100) / Decimal(int(row.da_online_top32_denominator))
        assert row.da_online_top32 == float(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), row.Index


def test_trailing_space_label_and_percent_rows(loaded):
    frame = values(loaded[MUNICIPAL])
    childcare = frame[frame.indicator_id == "da_online_childcare26"]
    assert len(childcare) == 1741 and childcare.value.notna().all()
    assert childcare.value.between(0, 100).all()
    card = frame[frame.indicator_id == "da_mynumber_card"].value
    assert card.min() == 50 and card.max() == 94


# ---------------------------------------------------------------- オンライン申請率 and prefectures (real)


def test_municipal_online_rates(loaded):
    result = loaded[MUNICIPAL_ONLINE]
    frame = values(result)
    assert result.report.unresolved == [] and result.report.warnings == []
    assert frame.code.nunique() == 1741 and frame.indicator_id.nunique() == 52
    assert len(frame) == 90532
    blank = frame[frame.raw == ""]
    assert len(blank) == 66580 and frame.value.isna().sum() == 66580
    assert frame.raw.str.fullmatch(r"\d+%").sum() == 16705
    assert frame.raw.str.fullmatch(r"\d+\.\d%").sum() == 7247
    assert frame.value.max() <= 100
    all_blank = frame.groupby("code").value.count()
    assert (all_blank == 0).sum() == 107
    never = frame.groupby("indicator_id").value.count()
    assert set(never[never == 0].index) == {
        "da_proc_top32_19",
        "da_proc_top32_20",
        "da_proc_top32_22",
        "da_proc_top32_26",
    }
    assert set(frame.indicator_id) == {f"da_proc_top32_{i:02d}" for i in range(1, 27)} | {
        f"da_proc_care26_{i:02d}" for i in range(1, 27)
    }


def test_municipal_files_share_the_same_columns(loaded):
    assert set(values(loaded[MUNICIPAL]).code) == set(values(loaded[MUNICIPAL_ONLINE]).code)


def test_prefecture_comparison(loaded, registry):
    result = loaded[PREFECTURE]
    frame = values(result)
    assert result.report.warnings == []
    assert set(frame.code) == set(registry.prefectures.code) and frame.code.nunique() == 47
    assert frame.indicator_id.nunique() == 13
    assert {"da_mynumber_card", "da_online_childcare26"}.isdisjoint(frame.indicator_id)
    binary = frame[frame.indicator_id.isin(BINARY_IDS)]
    assert (binary.value == 1).sum() == 434 and (binary.value == 0).sum() == 36
    rate = frame[frame.indicator_id == "da_online_top32"].value
    assert len(rate) == 47 and rate.min() == 65 and rate.max() == 95
    assert frame.value.notna().all()


def test_prefecture_online_rates(loaded, registry):
    result = loaded[PREFECTURE_ONLINE]
    frame = values(result)
    assert result.report.warnings == []
    assert set(frame.code) == set(registry.prefectures.code)
    assert frame.indicator_id.nunique() == 30 and len(frame) == 1410
    assert (frame.raw == "").sum() == 767 and frame.value.isna().sum() == 767
    assert frame.raw.str.fullmatch(r"\d+%").sum() == 131
    assert frame.raw.str.fullmatch(r"\d+\.\d%").sum() == 512
    ids = set(frame.indicator_id)
    assert {f"da_proc_pref_{i:02d}" for i in range(1, 7)} <= ids
    assert {"da_proc_top32_25", "da_proc_top32_26"}.isdisjoint(ids)
    assert {f"da_proc_top32_{i:02d}" for i in range(1, 25)} <= ids
    hokkaido = frame[(frame.code == registry.prefecture_code("北海道")) & (frame.indicator_id == "da_proc_top32_01")]
    assert hokkaido.raw.tolist() == ["12.6%"] and hokkaido.value.tolist() == [12.6]


def test_every_loaded_indicator_is_in_the_catalog(loaded):
    catalog = load_indicator_catalog()
    produced = set().union(*(set(values(result).indicator_id) for result in loaded.values()))
    assert produced <= set(catalog)
    ours = {key: entry for key, entry in catalog.items() if entry["catalog_file"] == "digital_agency.yaml"}
    assert produced == set(ours)  # and every entry of the catalog file is fed by some export
    composite = {key: entry["pillar"] for key, entry in ours.items() if entry["weight"] > 0}
    assert composite == {
        "da_cio": "推進体制",
        "da_cio_aide": "推進体制",
        "da_policy": "推進体制",
        "da_org": "推進体制",
        "da_external_talent": "人材",
        "da_staff_development": "人材",
        "da_all_staff_training": "人材",
        "da_ai": "デジタル技術",
        "da_rpa": "デジタル技術",
        "da_telework": "デジタル技術",
        "da_mynumber_card": "住民サービス",
        "da_online_childcare26": "住民サービス",
        "da_online_top32": "住民サービス",
    }
    for entry in ours.values():
        municipal = any(not s.startswith("digital_agency_prefecture") for s in entry["loaded_from"])
        prefectural = any(s.startswith("digital_agency_prefecture") for s in entry["loaded_from"])
        assert (
            entry["level"]
            == {(True, True): "both", (True, False): "municipality", (False, True): "prefecture"}[
                (municipal, prefectural)
            ]
        ), entry["id"]
        assert entry["id"].isascii()
        assert entry["component"] == (entry["kind"] == "count")


# ---------------------------------------------------------------- crafted variants


@pytest.mark.parametrize("encoding, newline", [("cp932", "\r\n"), ("utf-8", "\n")])
def test_resaved_file_loads_to_identical_values(shared_data, loaded, load_context, tmp_path, encoding, newline):
    path = write_csv(tmp_path / "resaved.csv", real_rows(shared_data, MUNICIPAL), encoding, newline)
    result = loader("digital_agency_municipal").load(path, load_context)
    original = values(loaded[MUNICIPAL]).drop(columns="file")
    assert values(result).drop(columns="file").equals(original)


def test_cp932_file_is_recognised(shared_data, tmp_path):
    path = write_csv(tmp_path / "resaved.csv", real_rows(shared_data, MUNICIPAL), "cp932", "\r\n")
    assert detect_loader(path, digital_agency.LOADERS) is loader("digital_agency_municipal")


def test_truncated_file_names_the_place(shared_data, load_context, tmp_path):
    data = real_path(shared_data, MUNICIPAL).read_bytes()
    lines = data.split(b"\r\n")
    cut = b"\r\n".join(lines[:8]) + b"\r\n" + lines[8][: len(lines[8]) // 2]
    path = tmp_path / "cut.csv"
    path.write_bytes(cut.rsplit(b",", 1)[0])  # cut on a cell boundary so the bytes stay valid UTF-8
    with pytest.raises(LoaderError) as caught:
        loader("digital_agency_municipal").load(path, load_context)
    assert caught.value.row == 9 and isinstance(caught.value.column, int)
    assert "cut.csv" in str(caught.value) and "9行目" in str(caught.value)


def _columns(rows: list[list[str]], keep: list[int]) -> list[list[str]]:
    return [[row[i] for i in keep] for row in rows]


def test_unknown_municipality_is_reported_not_guessed(shared_data, load_context, tmp_path):
    rows = _columns(real_rows(shared_data, MUNICIPAL), [0, 1, 2, 3, 4, -1])  # 札幌市, 函館市, 小樽市, trailing
    rows[0][3] = "架空村"
    path = write_csv(tmp_path / "partial.csv", rows)
    result = loader("digital_agency_municipal").load(path, load_context)
    assert [(u["name"], u["column"]) for u in result.report.unresolved] == [("架空村", 3)]
    assert set(values(result).code) == {"011002", "012033"}
    assert any("1739団体の列がありません" in w.message for w in result.report.warnings)

    summary = build([path], tmp_path / "store.duckdb")
    assert [u["name"] for u in summary.report.unresolved] == ["架空村"]
    con = duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT name, column_ref FROM unresolved_names").fetchall() == [("架空村", "3")]
        assert con.execute("SELECT DISTINCT code FROM indicator_values ORDER BY 1").fetchall() == [
            ("011002",),
            ("012033",),
        ]
        assert con.execute("SELECT count(*) FROM indicator_values WHERE isnan(value)").fetchone()[0] == 0
    finally:
        con.close()


def test_duplicated_name_not_forced_by_its_neighbours_is_unresolved(shared_data, load_context, tmp_path):
    rows = real_rows(shared_data, MUNICIPAL)
    fukui_ikeda = [i for i, name in enumerate(rows[0]) if name == "池田町"][1]
    minamiechizen = rows[0].index("南越前町")
    path = write_csv(tmp_path / "partial.csv", _columns(rows, [0, 1, fukui_ikeda, minamiechizen, -1]))
    result = loader("digital_agency_municipal").load(path, load_context)
    # 北海道's and 福井県's 池田町 both come before 南越前町 in code order: either could be meant
    assert [(u["name"], u["column"]) for u in result.report.unresolved] == [("池田町", 2)]
    assert set(values(result).code) == {load_context.registry.by_pref_and_name("福井県", "南越前町")}


def test_columns_out_of_order_among_duplicated_names_stop_the_load(shared_data, load_context, tmp_path):
    rows = real_rows(shared_data, MUNICIPAL)
    gifu_ikeda = [i for i, name in enumerate(rows[0]) if name == "池田町"][3]
    order = list(range(len(rows[0])))
    order.remove(gifu_ikeda)
    order.insert(3, gifu_ikeda)  # right after 札幌市
    path = write_csv(tmp_path / "shuffled.csv", _columns(rows, order))
    with pytest.raises(LoaderError) as caught:
        loader("digital_agency_municipal").load(path, load_context)
    assert caught.value.row == 1 and "団体コード順" in caught.value.message


@pytest.mark.parametrize(
    "line, column, text",
    [
        (5, 10, "abc"),  # 全庁的な体制構築
        (2, 7, "75%"),  # a percent in a 実施/未実施 row
        (12, 4, "72"),  # マイナンバーカード without %
        (15, 20, "2.5"),  # a fractional procedure count
    ],
)
def test_invalid_cell_names_row_and_column(shared_data, load_context, tmp_path, line, column, text):
    rows = real_rows(shared_data, MUNICIPAL)
    rows[line - 1][column] = text
    path = write_csv(tmp_path / "edited.csv", rows)
    with pytest.raises(LoaderError) as caught:
        loader("digital_agency_municipal").load(path, load_context)
    assert (caught.value.row, caught.value.column) == (line, column)
    assert text in caught.value.message


def test_unknown_and_missing_rows_are_warnings(shared_data, load_context, tmp_path):
    rows = _columns(real_rows(shared_data, MUNICIPAL), [0, 1, 2, 3, -1])
    assert rows[4][1] == "全庁的な体制構築"
    rows[4][1] = "架空の指標"
    path = write_csv(tmp_path / "edited.csv", rows)
    result = loader("digital_agency_municipal").load(path, load_context)
    places = {(w.row, w.column): w.message for w in result.report.warnings}
    assert "架空の指標" in places[(5, 1)]
    assert any("全庁的な体制構築" in w.message and w.row is None for w in result.report.warnings)
    assert "da_org" not in set(values(result).indicator_id)
    assert values(result).indicator_id.nunique() == 14


def test_rate_cross_checks(shared_data, load_context, tmp_path):
    rows = _columns(real_rows(shared_data, MUNICIPAL), [0, 1, 2, 3, 4, -1])
    rate, denominator, numerator = rows[13], rows[14], rows[15]
    assert rate[1].startswith("よく使う32手続") and denominator[1].endswith("（分母）")
    numerator[2], denominator[2] = "30", "24"  # 札幌市: 分子 > 分母
    denominator[3], numerator[3], rate[3] = "0", "0", "0%"  # 函館市: a rate without procedures
    rate[4] = "99%"  # 小樽市: does not match 8/23
    rows[12][4] = "120%"  # 小樽市: 子育て・介護26手続 above 100
    result = loader("digital_agency_municipal").load(write_csv(tmp_path / "edited.csv", rows), load_context)
    places = {(w.row, w.column) for w in result.report.warnings if "登録簿" not in w.message}
    assert places == {(16, 2), (14, 3), (14, 4), (13, 4)}
    stored = values(result).set_index(["code", "indicator_id"])
    hakodate = stored.loc[("012025", "da_online_top32")]
    assert hakodate.raw == "0%" and pd.isna(hakodate.value)
