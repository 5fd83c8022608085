"""Survey returns: web-form exports, 宮城県-style scored sheets, whole builds, and the synthetic demo rounds."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from conftest import MIYAGI_TABLE

from loaders import survey
from loaders.build import build, detect_loader
from loaders.errors import LoaderError
from loaders.questionnaire import load_questionnaire
from loaders.synthetic import ROUNDS, capability, synthetic_answers
from loaders.template import FIRST_DATA_ROW, write_template
from loaders.textio import sniff_head

# The seed names no municipality: these 14 宮城県 names are attached for the test. 美里町 and 川崎町 also
# exist in other prefectures, so the 都道府県 column has to decide them.
MIYAGI_NAMES = [
    "石巻市",
    "塩竈市",
    "気仙沼市",
    "白石市",
    "名取市",
    "角田市",
    "多賀城市",
    "岩沼市",
    "登米市",
    "栗原市",
    "蔵王町",
    "村田町",
    "美里町",
    "川崎町",
]
MIYAGI_MUNICIPALITIES = 35  # measured on the real files: 宮城 idx 252–286


@pytest.fixture(scope="module")
def definition():
    return load_questionnaire()


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig", newline: str = "\n") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator=newline).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def form_rows(definition, respondents: list[tuple[str, str, list[object]]], by_text: bool = True) -> list[list[object]]:
    """A Google-Forms-like export: タイムスタンプ, メールアドレス, 回, 都道府県, 市区町村名, one column per question."""
    questions = definition.questions[:6]
    header = [
        "タイムスタンプ",
        "メールアドレス",
        "回",
        "都道府県",
        "市区町村名",
        *(q.text if by_text else q.id for q in questions),
    ]
    return [header] + [
        [stamp, "dx@example.jp", "2026-baseline", pref, name, *answers]
        for stamp, (pref, name, answers) in zip(
            ("2026/05/10 10:00:00", "2026/05/12 9:30:00", "2026/05/11 17:45:12", "2026/05/09 8:00:00"), respondents
        )
    ]


GOOD = ["はい", "2：一部の幹部が受講した", "全職員を対象に実施", "いいえ", "", "○"]


def test_web_form_csv_in_cp932_with_question_texts(tmp_path, load_context, definition):
    rows = form_rows(
        definition,
        [("長野県", "池田町", GOOD), ("兵庫県", "神戸市", ["いいえ", "4", "希望者のみ受講", "はい", "はい", "×"])],
    )
    path = write_csv(tmp_path / "フォーム回答.csv", rows, encoding="cp932", newline="\r\n")
    assert detect_loader(path, survey.LOADERS).name == "survey_answers"
    result = survey.SurveyAnswersLoader().load(path, load_context)
    frame = result.tables["survey_answers"]
    assert sorted(frame.code.unique()) == ["204811", "281000"]  # 池田町 ×4 nationwide: the 長野県 one
    ikeda = frame[frame.code == "204811"].set_index("question_id")
    assert (
        ikeda.value.tolist()[:4] == [1.0, 0.5, 1.0, 0.0] and pd.isna(ikeda.value.iloc[4]) and ikeda.value.iloc[5] == 1.0
    )
    assert ikeda.answer.iloc[1] == "2：一部の幹部が受講した"
    assert not result.report.unresolved
    info = result.tables["survey_round_declarations"].iloc[0]
    assert info["round_id"] == "2026-baseline" and info["answer_date"].isoformat() == "2026-05-12"  # the last answer
    assert any("メールアドレス" in i.message for i in result.report.issues if i.level == "info")


def test_codes_with_lost_zeros_and_ids_as_headers(tmp_path, load_context, definition):
    header = ["団体コード", "市区町村名", *(q.id for q in definition.questions[:3])]
    rows = [
        header,
        ["11002", "札幌市", "はい", "3", "未回答"],
        ["1100", "札幌市", "いいえ", "", ""],
        ["131016", "千代田区", "いいえ", "0", "希望者のみ受講"],
    ]
    path = write_csv(tmp_path / "回答_2026-evaluation.csv", [header, rows[1], rows[3]])
    result = survey.SurveyAnswersLoader().load(path, load_context)
    frame = result.tables["survey_answers"]
    assert sorted(frame.code.unique()) == ["011002", "131016"]  # 札幌市 written without its leading zero
    assert set(frame.round_id) == {"2026-evaluation"}  # from the file name
    chiyoda = frame[frame.code == "131016"].set_index("question_id")
    assert chiyoda.value["S0-GEN-01"] == 0.0 and chiyoda.value["S0-GEN-02"] == 0.0
    both = write_csv(tmp_path / "dup_2026-baseline.csv", rows[:3])
    with pytest.raises(LoaderError) as err:
        survey.SurveyAnswersLoader().load(both, load_context)
    assert "2行目と3行目" in str(err.value) and "札幌市" in str(err.value) and err.value.row == 3


def test_errors_name_the_cell(tmp_path, load_context, definition):
    bad = ["はい", "7", "全職員を対象に実施", "多分", "", "○"]
    rows = form_rows(definition, [("長野県", "池田町", GOOD), ("兵庫県", "神戸市", bad)])
    path = write_csv(tmp_path / "bad.csv", rows, encoding="cp932", newline="\r\n")
    with pytest.raises(LoaderError) as err:
        survey.SurveyAnswersLoader().load(path, load_context)
    assert "bad.csv" in str(err.value) and "3行目 G列" in str(err.value) and "「7」" in str(err.value)
    assert "ほか 1 件" in str(err.value)
    assert [(i.row, i.column) for i in err.value.issues] == [(3, 6), (3, 8)]


def test_unknown_columns_and_municipalities_are_reported(tmp_path, load_context, definition):
    rows = form_rows(
        definition,
        [("長野県", "池田町", GOOD), ("兵庫県", "架空町", GOOD), ("", "美里町", GOOD), ("", "宮城県美里町", GOOD)],
    )
    for row, extra in zip(rows, ["感想", "", "", "", ""]):
        row.append(extra)
    path = write_csv(tmp_path / "extra.csv", rows)
    result = survey.SurveyAnswersLoader().load(path, load_context)
    unknown = [w for w in result.report.warnings if "感想" in w.message]
    assert len(unknown) == 1 and unknown[0].column == 11 and "L列" in str(unknown[0])
    reasons = {u["name"]: u["reason"] for u in result.report.unresolved}
    assert reasons["兵庫県架空町"] == "兵庫県に該当する市区町村がありません"
    assert "同名の市区町村が3団体" in reasons["美里町"]  # 宮城, 埼玉, 熊本: never guessed
    assert sorted(result.tables["survey_answers"].code.unique()) == ["045055", "204811"]  # 「宮城県美里町」 is explicit
    missing = [w.message for w in result.report.warnings if "回答がありません" in w.message]
    assert any("宮城県の35団体のうち34団体" in m for m in missing)


def test_round_is_required(tmp_path, load_context, definition):
    rows = [row[:2] + row[3:] for row in form_rows(definition, [("長野県", "池田町", GOOD)])]  # no 回 column
    path = write_csv(tmp_path / "answers.csv", rows)
    with pytest.raises(LoaderError, match="「回」列"):
        survey.SurveyAnswersLoader().load(path, load_context)
    named = write_csv(tmp_path / "answers_2026-baseline.csv", rows)
    assert set(survey.SurveyAnswersLoader().load(named, load_context).tables["survey_answers"].round_id) == {
        "2026-baseline"
    }
    rows[1][0] = "2026/05/10"
    bad_round = [r[:2] + [v] + r[2:] for r, v in zip(rows, ["回", "2026年度 当初"])]
    with pytest.raises(LoaderError, match="回の識別子「2026年度 当初」"):
        survey.SurveyAnswersLoader().load(write_csv(tmp_path / "b.csv", bad_round), load_context)


def miyagi_rows(with_max: bool = False) -> list[list[object]]:
    header = ["都道府県", "市町村名", "STEP0", "STEP1", "STEP2", "STEP3", "支援優先度", "支援内容"]
    subheader = ["", "", "育成取組み", "全体方針 の策定", "推進体制", "取組み実行", "", ""]
    rows = [[pref_name, name, *entry] for pref_name, name, entry in zip(["宮城県"] * 14, MIYAGI_NAMES, MIYAGI_TABLE)]
    if with_max:
        header += ["STEP0満点", "STEP1満点", "STEP2満点", "STEP3満点"]
        rows = [row + [25, 30, 30, 30] for row in rows]
    return [header, subheader, *rows]


def test_miyagi_scored_sheet_loads_into_stage_scores(tmp_path, load_context, registry):
    path = write_xlsx(tmp_path / "宮城県_2026-baseline.xlsx", miyagi_rows())
    assert detect_loader(path, survey.LOADERS).name == "survey_stage_scores"
    result = survey.SurveyStageScoresLoader().load(path, load_context)
    scores = result.tables["survey_stage_scores"]
    assert len(scores) == 14 * 4 and scores.max_points.isna().all()
    miyagi = registry.municipalities[registry.municipalities.pref_name == "宮城県"].set_index("name").code
    assert miyagi["美里町"] == "045055" and miyagi["川崎町"] in set(scores.code)
    wide = scores.pivot(index="code", columns="stage", values="score")
    expected = {miyagi[name]: entry[:4] for name, entry in zip(MIYAGI_NAMES, MIYAGI_TABLE)}
    assert {code: tuple(wide.loc[code]) for code in expected} == expected
    assert not result.report.unresolved
    assert any(f"宮城県の{MIYAGI_MUNICIPALITIES}団体のうち21団体" in w.message for w in result.report.warnings)


def test_scored_sheet_with_maxima_and_a_score_above_it(tmp_path, load_context):
    rows = miyagi_rows(with_max=True)
    path = write_csv(tmp_path / "scores_2026-baseline.csv", rows, encoding="cp932", newline="\r\n")
    result = survey.SurveyStageScoresLoader().load(path, load_context)
    assert set(result.tables["survey_stage_scores"].max_points) == {25.0, 30.0}
    rows[2][4] = 35  # STEP2 of the first municipality, above its 30
    with pytest.raises(LoaderError) as err:
        survey.SurveyStageScoresLoader().load(write_csv(tmp_path / "over_2026-baseline.csv", rows), load_context)
    assert "満点 30 を超えています" in str(err.value) and "3行目 E列" in str(err.value)


def test_survey_loaders_ignore_the_real_public_files(shared_data):
    files = [p for p in sorted(shared_data.rglob("*")) if p.is_file() and p.suffix in (".csv", ".xlsx")]
    assert len(files) >= 8
    for path in files:
        head = sniff_head(path)
        assert [loader.name for loader in survey.LOADERS if loader.sniff(path, head)] == [], path.name


def test_build_with_several_returns(tmp_path, registry, definition):
    source = tmp_path / "returns"
    source.mkdir()
    template = write_template(tmp_path / "hyogo.xlsx", "兵庫県", "2026-baseline", registry, definition)
    for name, code, answer in (("kobe.xlsx", "281000", "はい"), ("himeji.xlsx", "282014", "いいえ")):
        workbook = openpyxl.load_workbook(template)
        sheet = workbook[survey.ANSWER_SHEET]
        row = next(r for r in range(FIRST_DATA_ROW, sheet.max_row + 1) if sheet.cell(r, 1).value == code)
        sheet.cell(row, 4, answer)
        workbook[survey.INSTRUCTIONS_SHEET]["B6"] = "2026-05-15"
        workbook.save(source / name)
    write_xlsx(source / "宮城県_2025-evaluation.xlsx", miyagi_rows())
    target = tmp_path / "survey.duckdb"
    summary = build([source], target)
    assert [f["loader"] for f in summary.files] == ["survey_template", "survey_template", "survey_stage_scores"]
    con = duckdb.connect(str(target), read_only=True)
    rounds = con.execute(
        "SELECT round_id, label, kind, CAST(held_on AS VARCHAR), synthetic FROM survey_rounds ORDER BY 1"
    ).fetchall()
    assert rounds == [
        ("2025-evaluation", "2025年度 評価（年度末）", "evaluation", None, False),
        ("2026-baseline", "2026年度 ベースライン（当初）", "baseline", "2026-05-15", False),
    ]
    assert con.execute("SELECT count(*) FROM questions").fetchall() == [(len(definition.questions),)]
    assert con.execute(
        "SELECT code, value FROM survey_answers WHERE question_id = 'S0-GEN-01' ORDER BY 1"
    ).fetchall() == [("281000", 1.0), ("282014", 0.0)]
    assert con.execute("SELECT count(*) FROM survey_answers WHERE answer IS NULL AND value IS NOT NULL").fetchall() == [
        (0,)
    ]
    declared = con.execute("SELECT round_id, file FROM survey_round_declarations ORDER BY 1, 2").fetchall()
    assert {round_id for round_id, _ in declared} == {"2025-evaluation", "2026-baseline"}
    con.close()

    # the same return saved again under another name is the same file: loaded once, logged as a duplicate
    (source / "kobe_again.xlsx").write_bytes((source / "kobe.xlsx").read_bytes())
    again = build([source], target)
    assert [f["status"] for f in again.files if f["file"].endswith("kobe_again.xlsx")] == ["duplicate"]
    # a second, different return for the same municipality and round stops the build
    workbook = openpyxl.load_workbook(source / "kobe_again.xlsx")
    sheet = workbook[survey.ANSWER_SHEET]
    row = next(r for r in range(FIRST_DATA_ROW, sheet.max_row + 1) if sheet.cell(r, 1).value == "281000")
    sheet.cell(row, 4, "いいえ")
    workbook.save(source / "kobe_again.xlsx")
    before = target.read_bytes()
    with pytest.raises(LoaderError) as err:
        build([source], target)
    assert "281000" in str(err.value) and "kobe.xlsx" in str(err.value) and "kobe_again.xlsx" in str(err.value)
    assert target.read_bytes() == before  # the failed build left the previous database alone


# ---------------------------------------------------------------- synthetic demo rounds


def test_synthetic_answers_are_deterministic(registry, definition):
    municipalities = registry.municipalities.sort_values("code", ignore_index=True)
    first = synthetic_answers(definition, municipalities, {})
    again = synthetic_answers(definition, municipalities, {})
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 1741 * len(ROUNDS) * len(definition.questions)
    assert first.groupby("round_id").code.nunique().to_dict() == {"2026-baseline": 1741, "2026-evaluation": 1741}
    assert first.value.dropna().between(0, 1).all() and first.synthetic.all()
    theta = pd.Series(capability(municipalities, {}), index=municipalities.type)
    assert theta.groupby(level=0).mean()["政令市"] > theta.groupby(level=0).mean()["村"]


def test_demo_database_has_marked_rounds_and_populations(demo_db, definition):
    con = duckdb.connect(str(demo_db), read_only=True)
    rounds = con.execute(
        "SELECT round_id, label, kind, CAST(held_on AS VARCHAR), synthetic FROM survey_rounds ORDER BY 1"
    ).fetchall()
    assert [(r[0], r[2], r[3], r[4]) for r in rounds] == [
        ("2026-baseline", "baseline", "2026-05-15", True),
        ("2026-evaluation", "evaluation", "2027-01-31", True),
    ]
    assert all("（デモ用の架空データ）" in r[1] for r in rounds)
    assert con.execute("SELECT count(DISTINCT code), count(*), bool_and(synthetic) FROM survey_answers").fetchall() == [
        (1741, 1741 * 2 * len(definition.questions), True)
    ]
    change = con.execute(
        """
        WITH scored AS (
            SELECT a.code, a.round_id, sum(q.points * coalesce(a.value, 0)) / sum(q.points) AS score
            FROM survey_answers AS a JOIN questions AS q ON q.id = a.question_id WHERE q.answer_type <> 'text'
            GROUP BY ALL
        )
        SELECT count(*) FILTER (e.score > b.score), count(*) FILTER (e.score = b.score),
            count(*) FILTER (e.score < b.score)
        FROM scored AS b JOIN scored AS e
            ON e.code = b.code AND b.round_id = '2026-baseline' AND e.round_id = '2026-evaluation'
        """
    ).fetchall()[0]
    improved, same, regressed = change
    assert improved > 1741 / 2 and same > 50 and 20 < regressed < improved / 3
    populations = dict(
        ((t, k), v)
        for t, k, v in con.execute(
            """SELECT type, k, v
           FROM (SELECT type, min(population) AS lo, max(population) AS hi FROM municipalities GROUP BY type)
           UNPIVOT (v FOR k IN (lo, hi))"""
        ).fetchall()
    )
    assert populations[("政令市", "lo")] >= 700_000
    assert populations[("中核市", "lo")] >= 200_000 and populations[("中核市", "hi")] <= 600_000
    assert populations[("村", "hi")] < populations[("中核市", "lo")]
    assert con.execute("SELECT DISTINCT population_source, synthetic FROM municipalities").fetchall() == [
        ("demo", True)
    ]
    demo_ids = {
        r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM indicator_values WHERE source = 'demo'").fetchall()
    }
    assert {"population_demo", "da_cio", "da_mynumber_card", "da_online_top32"} <= demo_ids
    assert con.execute("SELECT bool_and(synthetic) FROM indicator_values").fetchall() == [(True,)]
