"""Support priority: the 宮城県 table (総務省「地域社会DX事例集」) reproduced by the default rules, the store-backed
priority list, and the ``python -m metrics priority`` command."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import MIYAGI_TABLE
from metrics_fixtures import (
    WAKAYAMA,
    answers_for,
    fill,
    indicator_rows,
    municipality_rows,
    new_store,
    questions_grid,
    rounds_frame,
)

from metrics.__main__ import main, read_stage_sheet
from metrics.definitions import DefinitionError
from metrics.filters import Filter
from metrics.menus import load_support_menu, support_menu
from metrics.priority import NOT_ASSESSED, prioritise, support_priority
from metrics.rules import load_priority_rules
from store.paths import DATA_DIR


def _items(text: str) -> set[str]:
    return {part for part in text.replace("、", "・").split("・") if part}


def _miyagi_stages() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"code": f"行{i:02d}", "stage": stage, "points": points, "max_points": None}
            for i, row in enumerate(MIYAGI_TABLE, start=1)
            for stage, points in enumerate(row[:4])
        ]
    )


def test_miyagi_table_is_reproduced_exactly():
    result = prioritise(_miyagi_stages(), menu=support_menu("宮城県"))
    assert len(result) == 14
    for row, (_a, _b, _c, _d, priority, support) in zip(result.itertuples(), MIYAGI_TABLE):
        assert row.priority == priority, row
        assert _items(row.support) == _items(support), row
    counts = result["priority"].value_counts().to_dict()
    assert counts == {"低": 7, "中": 4, "高": 3}


def test_miyagi_reasons_explain_the_rule():
    result = prioritise(_miyagi_stages(), menu=support_menu("宮城県")).set_index("code")
    assert result.loc["行13", "weak_stages"] == "STEP0・STEP3"
    assert "10/30点" in result.loc["行13", "reasons"] and "後回し" in result.loc["行13", "reasons"]
    assert result.loc["行01", "reasons"].startswith("弱い段階なし")
    # 宮城's own items and the national ones; never another prefecture's
    assert "全体方針策定" in result.loc["行06", "recommended"]  # STEP1 5/30 is the largest gap
    assert not any(
        item.startswith("hyogo_") or item.startswith("wakayama_")
        for item in ",".join(result["candidate_ids"]).split(",")
    )
    assert result.loc["行01", "recommended"] == ""
    # the same sheet seen by 兵庫県: its own menu instead of 宮城's, no 支援内容 named by 宮城's table
    hyogo = prioritise(_miyagi_stages(), menu=support_menu("兵庫県")).set_index("code")
    assert "DX推進リエゾン" in hyogo.loc["行06", "candidates"]  # 高
    assert "CIOフォーラム" in hyogo.loc["行06", "candidates"]  # STEP1 is weak
    assert (hyogo["support"] == "").all() and "miyagi_" not in ",".join(hyogo["candidate_ids"])


def test_rules_are_data(tmp_path):
    strict = tmp_path / "rules.yaml"
    text = (DATA_DIR / "priority_rules.yaml").read_text(encoding="utf-8")
    strict.write_text(text.replace("share_below: 0.5", "share_below: 0.7"), encoding="utf-8")
    rules = load_priority_rules(strict)
    result = prioritise(_miyagi_stages(), rules=rules, menu=support_menu("宮城県")).set_index("code")
    assert result.loc["行01", "priority"] == "高"  # 15/30 and 20/30 now count as weak
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("0: miyagi_development", "0: no_such_item"), encoding="utf-8")
    with pytest.raises(DefinitionError, match="no_such_item"):
        load_priority_rules(broken)


def test_menu_has_both_seed_menus():
    menu = load_support_menu()
    names = {item.name for item in menu.values()}
    assert {
        "DX推進リエゾン",
        "地域DX出前講座（トップマネジメント）",
        "地域DX出前講座（カイゼンDX）",
        "地域DX出前講座（データ利活用）",
        "CIOフォーラム",
        "外部デジタル人材会議",
        "システム標準化支援",
        "DX推進リーダー育成",
        "研修の充実・共同調達",
        "広域連携（e-ひょうご・共同調達）",
    } <= names
    assert {"育成取組み", "全体方針策定", "推進体制", "取組み実行"} <= names
    assert all(item.description and item.source for item in menu.values())


def _store_with_sheets():
    questions = questions_grid(per_cell=2)
    con = new_store()
    fill(
        con,
        municipalities=municipality_rows(WAKAYAMA),
        questions=questions,
        indicators=indicator_rows(),
        survey_rounds=rounds_frame("2026-baseline"),
    )
    strong = answers_for("302015", "2026-baseline", questions, [1.0] * 32)
    # 海南市: everything answered yes except データ利活用 (a weak field, no weak stage)
    data_weak = answers_for(
        "302023",
        "2026-baseline",
        questions,
        [0.0 if q.field == "データ利活用" else 1.0 for q in questions.itertuples()],
    )
    prescored = pd.DataFrame(
        {
            "code": "302031",
            "round_id": "2026-baseline",
            "stage": [0, 1, 2, 3],
            "score": [5, 5, 15, 18],
            "max_points": None,
        }
    )
    fill(con, survey_answers=pd.concat([strong, data_weak]), survey_stage_scores=prescored)
    values = pd.DataFrame(
        {
            "code": ["302015", "304271"],
            "indicator_id": "da_cio",
            "value": [0.0, 0.0],
            "source": "digital_agency_municipal",
            "as_of": pd.Timestamp("2026-04-01"),
        }
    )
    return fill(con, indicator_values=values)


def test_support_priority_from_the_store():
    result = support_priority(_store_with_sheets(), Filter(pref_code="30")).set_index("code")
    assert result.loc["302031", "priority"] == "高" and result.loc["302031", "basis"] == "stage_scores"
    assert result.loc["302015", "priority"] == "低"
    # an indicator weakness adds a menu item of 和歌山県 (or the national menu) and a reason, the level stays
    assert "DX入門研修・研修動画（トップセミナー）" in result.loc["302015", "recommended"]
    assert "CIOの任命" in result.loc["302015", "reasons"] and "CIOの任命" in result.loc["302015", "recommended_reasons"]
    # a weak field adds its menu item, the level stays 低
    assert result.loc["302023", "priority"] == "低"
    assert "よろず相談：分野別相談（情報システム・BPR・データ利活用）" in result.loc["302023", "recommended"]
    # no sheet in a surveyed prefecture: 未回答 in the survey, judged from its official values
    assert result.loc["304271", "response"] == "未回答" and result.loc["304271", "survey_priority"] == "未回答"
    assert result.loc["304271", "basis_label"] == "公開データによる判定" and result.loc["304271", "priority"] == "低"
    assert "DX入門研修・研修動画（トップセミナー）" in result.loc["304271", "recommended"]
    # no sheet and no official value: not assessed, nothing recommended
    assert result.loc["303810", "priority"] == NOT_ASSESSED and result.loc["303810", "recommended"] == ""
    assert result.index[0] == "302031"  # 高 first
    assert (result["recommended_ids"].str.split(",").str.len() <= 3).all()
    assert not result["candidate_ids"].str.contains("hyogo_|miyagi_").any()


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _miyagi_rows() -> list[list[str]]:
    header = ["市町村名", "STEP0", "ＳＴＥＰ１", "STEP2", "STEP3", "満点"]
    return [header] + [[f"町{i:02d}", *map(str, row[:4]), "30"] for i, row in enumerate(MIYAGI_TABLE, start=1)]


def test_cli_priority_reproduces_miyagi_from_a_cp932_crlf_csv(tmp_path, capsys):
    source = _write_csv(tmp_path / "miyagi.csv", _miyagi_rows(), "cp932")
    assert main(["priority", str(source)]) == 0
    output = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["支援優先度"] for row in output] == [row[4] for row in MIYAGI_TABLE]
    assert [_items(row["支援内容"]) for row in output] == [_items(row[5]) for row in MIYAGI_TABLE]
    assert output[0]["市区町村"] == "町01" and set(output[0]) >= {"弱い段階", "推奨する支援", "理由", "STEP3"}


def test_cli_priority_reads_excel_and_writes_a_bom_csv(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["宮城県 市町村DX推進状況"])  # a title row above the header
    for row in _miyagi_rows():
        sheet.append([int(v) if v.isdigit() else v for v in row])
    source = tmp_path / "miyagi.xlsx"
    workbook.save(source)
    out = tmp_path / "out.csv"
    assert main(["priority", str(source), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert table["支援優先度"].tolist() == [row[4] for row in MIYAGI_TABLE]


def test_cli_priority_errors_name_the_place(tmp_path, capsys):
    rows = _miyagi_rows()
    rows[3][3] = "たくさん"
    assert main(["priority", str(_write_csv(tmp_path / "bad.csv", rows))]) == 2
    message = capsys.readouterr().err
    assert "bad.csv" in message and "4行目" in message and "D列" in message
    assert main(["priority", str(_write_csv(tmp_path / "none.csv", [["a", "b"], ["1", "2"]]))]) == 2
    assert "STEP0" in capsys.readouterr().err
    garbage = tmp_path / "random.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    assert main(["priority", str(garbage)]) == 2


def test_sheet_without_a_name_column_names_rows_by_line(tmp_path):
    source = _write_csv(
        tmp_path / "plain.csv", [["STEP0", "STEP1", "STEP2", "STEP3"], ["0", "30", "15", "18"], ["", "", "", ""]]
    )
    stages = read_stage_sheet(source)
    assert set(stages["municipality"]) == {"2行目"} and stages["max_points"].isna().all()
