"""Generated commentary (metrics/commentary.py): every sentence is checked against numbers computed
here independently — from counts measured on the real files, SQL on the store, or the metrics tables
aggregated with pandas — on the real store and on the demo store (assessment rounds)."""

from __future__ import annotations

import re

import pytest

from metrics import commentary
from metrics.assessment import assessment_scores
from metrics.change import assessment_change
from metrics.composite import composite
from metrics.filters import Filter
from metrics.priority import support_priority

HYOGO = "28"


def test_formatting_helpers():
    assert commentary.count_text(1741) == "1,741団体"
    assert commentary.share_text(70.7) == "71%"
    assert commentary.difference_text(8.4, "binary", "全国平均") == "全国平均を8ポイント上回る"
    assert commentary.difference_text(-2.96, "binary", "全国平均") == "全国平均を3ポイント下回る"
    assert commentary.difference_text(0.3, "binary", "全国平均") == "全国平均と同じ水準"
    assert commentary.difference_text(-10.84, "score", "全国の中央値") == "全国の中央値を10.8点下回る"
    assert commentary.value_text(float("nan"), "score") == "データなし"
    assert commentary.difference_text(-17724.0, "count", "全国の中央値", "人") == "全国の中央値を17,724人下回る"


def test_binary_share_matches_data_md_and_the_store(real_con):
    # measured on the real files: CIOの任命 nationally 実施 1270, 未実施 463, 調査無し 8
    national = 100 * 1270 / (1270 + 463)
    hyogo = real_con.execute("""
        SELECT count(v.value), count(*) FILTER (WHERE v.value = 1)
        FROM indicator_values v JOIN municipalities m USING (code)
        WHERE v.indicator_id = 'da_cio' AND m.pref_code = '28'""").fetchone()
    with_data, done = hyogo
    assert (with_data, done) == (41, 29)  # the example of issue 6
    share = 100 * done / with_data
    sentences = commentary.measure_commentary(real_con, "da_cio", HYOGO)
    direction = "上回る" if share > national else "下回る"
    assert sentences[0] == (
        f"「CIOの任命」を実施している団体は{with_data}団体中{done}団体（{share:.0f}%）で、"
        f"全国平均（{national:.0f}%）を{abs(share - national):.0f}ポイント{direction}。"
    )
    assert sentences[1].startswith("兵庫県は47都道府県中") and sentences[1].endswith("位。")


def test_national_binary_says_missing_data_as_missing(real_con):
    sentences = commentary.measure_commentary(real_con, "da_cio")
    assert sentences[0].startswith(f"「CIOの任命」を実施している団体は{1270 + 463:,}団体中1,270団体（73%）")
    assert sentences[-1] == "データのない団体が8団体あり、計算から除いている。"
    assert not any(re.search(r"(?<![\d,])0団体", s) for s in sentences)  # missing is never said as zero


def test_score_statistic_and_rank(real_con):
    scores = composite(real_con)
    scores = scores[scores["pillar"] == "総合"].merge(
        real_con.execute("SELECT code, pref_code, name FROM municipalities").df(), on="code"
    )
    median = scores[scores["pref_code"] == HYOGO]["score"].median()
    national = scores["score"].median()
    first = commentary.measure_commentary(real_con, "composite", HYOGO)[0]
    assert first.startswith(
        f"兵庫県の「デジタル庁指標 総合得点」の中央値は{median:.1f}点で、全国の中央値（{national:.1f}点）を"
        f"{abs(median - national):.1f}点"
    )
    by_pref = scores.groupby("pref_code")["score"].median().sort_values(ascending=False)
    rank = list(by_pref.index).index(HYOGO) + 1
    assert commentary.measure_commentary(real_con, "composite", HYOGO)[1] == f"兵庫県は47都道府県中{rank}位。"


def test_ranking_names_best_and_worst(real_con):
    scores = composite(real_con, Filter(pref_code=HYOGO))
    scores = scores[scores["pillar"] == "総合"].merge(
        real_con.execute("SELECT code, name FROM municipalities").df(), on="code"
    )
    ordered = scores.dropna(subset=["score"]).sort_values(["score", "code"], ascending=[False, True])
    top = "、".join(f"{r.name}（{r.score:.1f}点）" for r in ordered.head(3).itertuples())
    worst = ordered.iloc[-1]
    assert commentary.ranking_commentary(real_con, "composite", HYOGO) == [
        f"兵庫県で「デジタル庁指標 総合得点」が高い順に、{top}。",
        f"最も低いのは{worst['name']}（{worst['score']:.1f}点）。",
    ]


def test_crosstab_names_the_band_behind(real_con):
    frame = real_con.execute("""
        SELECT m.pop_band, p."order" AS pop_band_order, v.value FROM municipalities m
        JOIN pop_bands p ON p.label = m.pop_band
        LEFT JOIN indicator_values v ON v.code = m.code AND v.indicator_id = 'da_cio'
        WHERE m.pref_code = '28'""").df()
    shares = frame.groupby(["pop_band_order", "pop_band"])["value"].agg(["mean", "size"]).dropna()
    behind, ahead = shares["mean"].idxmin(), shares["mean"].idxmax()
    sentences = commentary.crosstab_commentary(real_con, "da_cio", HYOGO)
    assert sentences[0] == (
        f"人口規模別にみると、「CIOの任命」の実施率が最も遅れているのは{behind[1]}"
        f"（{shares.loc[behind, 'size']}団体）の{100 * shares.loc[behind, 'mean']:.0f}%。"
    )
    assert sentences[1].startswith(f"最も進んでいるのは{ahead[1]}")


def test_priority_without_assessment_uses_official_data(real_con):
    sentences = commentary.priority_commentary(real_con, HYOGO)
    levels = support_priority(real_con, Filter(pref_code=HYOGO))["priority"]
    high = int((levels == "高").sum())
    assert len(levels) == 41 and "判定不可" not in set(levels)
    assert sentences[0] == (
        f"兵庫県の41団体は公開データ（デジタル庁指標）で判定し、支援優先度「高」は{high}団体"
        f"（{100 * high / 41:.0f}%）。"
    )
    assert commentary.progress_commentary(real_con, HYOGO) == [
        "比較できる調査回が2回分そろっていないため、変化はまだ示せない。"
    ]
    assert "アセスメントの回答がない" in commentary.stage_field_commentary(real_con, HYOGO)[0]


def test_priority_counts_on_demo(demo_con):
    priority = support_priority(demo_con, Filter(pref_code=HYOGO))
    assessed = priority[priority["priority"].isin(["高", "中", "低"])]
    high, middle = (assessed["priority"] == "高").sum(), (assessed["priority"] == "中").sum()
    items = priority["recommended"].str.split("、").explode().value_counts()
    sentences = commentary.priority_commentary(demo_con, HYOGO)
    assert sentences[0] == (
        f"兵庫県でアセスメントに回答した{len(assessed)}団体のうち、支援優先度「高」は{high}団体"
        f"（{100 * high / len(assessed):.0f}%）、「中」は{middle}団体。"
    )
    most = set(items[items == items.iloc[0]].index)  # ties: the first in menu order is named
    assert any(
        sentences[1] == f"推奨する支援（1団体最大3件）で最も多いのは「{name}」（{items.iloc[0]}団体）。"
        for name in most
    )


def test_progress_counts_on_demo(demo_con):
    change = assessment_change(demo_con, Filter(pref_code=HYOGO))
    overall = change[change["level"] == "overall"].dropna(subset=["change"])
    counts = overall["trend_label"].value_counts()
    names = demo_con.execute("SELECT code, name FROM municipalities").df().set_index("code")["name"]
    best = overall.sort_values(["change", "code"], ascending=[False, True]).iloc[0]
    sentences = commentary.progress_commentary(demo_con, HYOGO)
    assert f"比べられる{len(overall)}団体のうち改善{counts.get('改善', 0)}団体" in sentences[0]
    assert f"停滞{counts.get('停滞', 0)}団体、後退{counts.get('後退', 0)}団体。" in sentences[0]
    assert sentences[1].startswith(f"最も改善したのは{names[best['code']]}（{best['change']:+.1f}点）")


def test_stage_field_weakest_cell_on_demo(demo_con):
    scores = assessment_scores(demo_con, Filter(pref_code=HYOGO))
    newest = scores[scores["round_id"] == scores["round_id"].max()]
    cells = newest[newest["level"] == "cell"].groupby(["stage", "field"])["score"].median()
    low = cells.idxmin()
    sentence = commentary.stage_field_commentary(demo_con, HYOGO)[0]
    assert f"最も低いのは「STEP{low[0]}" in sentence and f"×{low[1]}」（{cells.min():.1f}点）" in sentence


def test_municipality_commentary_on_demo(demo_con):
    sentences = commentary.municipality_commentary(demo_con, "282014")
    assert sentences[0].startswith("姫路市の成熟度はレベル")
    priority = support_priority(demo_con, Filter(codes=("282014",))).iloc[0]
    assert sentences[1].startswith(f"支援優先度は「{priority['priority']}」")
    with pytest.raises(KeyError, match="999999"):
        commentary.municipality_commentary(demo_con, "999999")


@pytest.mark.parametrize(
    "store, measure_id",
    [
        ("demo_con", "composite"),
        ("demo_con", "pillar:住民サービス"),
        ("demo_con", "da_cio"),
        ("real_con", "population_juki"),
        ("demo_con", "assessment"),
        ("demo_con", "maturity"),
        ("demo_con", "priority"),
        ("demo_con", "change"),
        ("real_con", "composite"),
        ("real_con", "opendata_file_count"),
        ("real_con", "area_km2"),
    ],
)
def test_sentences_from_the_page_frames_equal_the_stored_commentary(request, store, measure_id):
    """The overview passes the frames it already holds (``*_sentences``); a committee deck reads the
    store (``*_commentary``): both say the same for every kind of measure, nationally and for a
    prefecture, and for a prefecture code the directory does not know."""
    from metrics.views import composite_measures, measure_options

    con = request.getfixturevalue(store)
    measure = measure_options(con).set_index("measure_id", drop=False).loc[measure_id]
    _, values, places = commentary.measure_inputs(con, measure_id)
    if measure_id.startswith(("composite", "pillar:")):
        values = composite_measures(con)[measure_id]  # what the page holds: the bundle, not measure_frame
    for pref_code in (None, HYOGO, "13", "99"):
        assert commentary.measure_sentences(measure, values, places, pref_code) == commentary.measure_commentary(
            con, measure_id, pref_code
        )
        assert commentary.ranking_sentences(measure, values, places, pref_code) == commentary.ranking_commentary(
            con, measure_id, pref_code
        )
        assert commentary.crosstab_sentences(measure, values, places, pref_code) == commentary.crosstab_commentary(
            con, measure_id, pref_code
        )
