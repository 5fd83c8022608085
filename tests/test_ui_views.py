"""metrics.views — what the pages show: the measure menu and values, the national summary and
KPIs, prefecture ranking, maturity per field and its movement, support counts, the visit plan,
peer shares and the store's provenance. Real numbers counted on the real files; the demo for survey rounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import tables, views
from metrics.assessment import assessment_scores
from metrics.filters import Filter, select_municipalities
from metrics.menus import load_support_menu
from metrics.priority import NOT_ASSESSED, support_priority

# measured on the real files: CIOの任命 — 実施 1270, 未実施 463, 調査無し 8 (all 石川県)
CIO_YES, CIO_NO, CIO_MISSING = 1270, 463, 8


def test_measure_menu_on_real_data(real_con):
    options = views.measure_options(real_con)
    assert options["measure_id"].iloc[0] == "composite"
    assert options["title"].is_unique
    assert not options["group"].eq(views.GROUP_ASSESSMENT).any(), "no survey round in the public files"
    cio = options.set_index("measure_id").loc["da_cio"]
    assert cio["kind"] == "binary" and "デジタル庁" in cio["credit"] and cio["domain_max"] == 1.0
    assert set(options["group"]) <= set(views.GROUP_ORDER)


def test_measure_menu_with_survey_rounds(demo_con):
    options = views.measure_options(demo_con).set_index("measure_id")
    assert {"assessment", "stage:0", "stage:3", "field:BPR", "maturity", "priority", "change"} <= set(options.index)
    assert options.loc["change", "diverging"] and options.loc["maturity", "domain_max"] == 4
    assert options.loc["assessment", "synthetic"], "demo rounds are marked synthetic"


def test_binary_measure_keeps_missing_apart(real_con):
    cio = views.measure_frame(real_con, "da_cio")
    assert len(cio) == 1741 and cio["code"].is_unique
    assert (cio["label"] == "実施").sum() == CIO_YES and (cio["label"] == "未実施").sum() == CIO_NO
    missing = cio[cio["value"].isna()]
    assert len(missing) == CIO_MISSING and missing["code"].str.startswith("17").all() and missing["label"].isna().all()


def test_category_answers_in_their_own_order(real_con):
    files = views.measure_frame(real_con, "opendata_file_count")
    order = views.category_order(files)
    assert order.index("10以下") < order.index("11～50") < order.index("10000以上")
    shares = views.category_shares(files)
    assert shares["municipalities"].sum() == 1741 and shares["label"].iloc[-1] == views.MISSING_LABEL
    assert "" not in set(files["label"].dropna()), "a blank answer is missing, not a category"


def test_summary_statistics_and_ranking(real_con):
    cio = views.measure_frame(real_con, "da_cio")
    share, name = views.summary_statistic(cio["value"], "binary")
    assert name == "実施率" and share == pytest.approx(100 * CIO_YES / (CIO_YES + CIO_NO))
    ranking = views.measure_ranking(real_con, "da_cio")
    assert len(ranking) == 47 and ranking["rank"].min() == 1
    assert ranking["value"].is_monotonic_decreasing
    assert ranking["with_data"].sum() == CIO_YES + CIO_NO and ranking["municipalities"].sum() == 1741
    ishikawa = ranking.set_index("pref_name").loc["石川県"]
    assert ishikawa["municipalities"] - ishikawa["with_data"] == CIO_MISSING


def test_ranking_turns_round_for_lower_is_better():
    values = pd.DataFrame(
        {
            "code": ["1", "2", "3"],
            "pref_code": ["01", "02", "03"],
            "pref_name": ["A", "B", "C"],
            "value": [3.0, 1.0, np.nan],
        }
    )
    ranking = views.prefecture_ranking(values, "percent", "lower_is_better")
    assert ranking["pref_name"].tolist() == ["B", "A", "C"]
    assert ranking["rank"].iloc[0] == 1 and pd.isna(ranking["rank"].iloc[-1])
    assert views.measure_ranking.__doc__ and views.prefecture_ranking(values.iloc[0:0], "category", "neutral").empty


def test_national_summary_and_headline(real_con):
    summary = views.national_summary(real_con)
    assert len(summary) == 1741 and summary["code"].is_unique
    hyogo = summary[summary["pref_code"] == "28"]
    kpis = views.headline(hyogo, summary).set_index("item")
    assert kpis.loc["municipalities", "value"] == 41 and kpis.loc["municipalities", "national"] == 1741
    assert kpis.loc["composite", "value"] == pytest.approx(hyogo["composite"].median())
    assert "assessment" not in kpis.index, "no assessment KPI without survey rounds"


def test_band_summary_counts_the_selection(real_con):
    values = views.measure_frame(real_con, "composite").merge(
        select_municipalities(real_con)[["code", "pop_band"]], on="code"
    )
    hyogo = select_municipalities(real_con, Filter(pref_code="28"))["code"]
    bands = values["pop_band"].dropna().unique().tolist()
    table = views.band_summary(values, hyogo, "score", bands)
    assert table["municipalities"].sum() == 41
    assert (table["with_data"] <= table["municipalities"]).all()


def test_peer_shares_match_the_national_share(real_con):
    shares = views.peer_shares(real_con, "282014", "pop_band").set_index("indicator_id")
    cio = shares.loc["da_cio"]
    assert cio["national_share"] == pytest.approx(100 * CIO_YES / (CIO_YES + CIO_NO))
    assert cio["n_national"] == CIO_YES + CIO_NO
    assert 0 <= cio["peer_share"] <= 100 and cio["n_peers"] >= 1
    with pytest.raises(ValueError):
        views.peer_shares(real_con, "282014", "similar")


@pytest.mark.parametrize("peer", ["pop_band", "type", "prefecture"])
def test_peer_shares_are_the_peer_groups_own_share(real_con, peer):
    """The groups' shares are computed once for every municipality: each one's peer share is still
    the share among the municipalities of its own group (counted here from the newest values)."""
    newest = real_con.execute(
        """SELECT v.code, v.indicator_id, v.value, m.pop_band, m.type, m.pref_code AS prefecture
           FROM indicator_values AS v JOIN municipalities AS m USING (code)
           WHERE v.indicator_id IN ('da_cio', 'da_rpa')
           QUALIFY row_number() OVER (PARTITION BY v.code, v.indicator_id ORDER BY v.as_of DESC, v.synthetic) = 1"""
    ).df()
    groups = views.peer_group_shares(real_con, peer)
    for code in ("282014", "013030", "302023"):
        shares = views.peer_shares(real_con, code, peer, group_shares=groups).set_index("indicator_id")
        own_group = newest.loc[newest["code"] == code, peer].iloc[0]
        for indicator in ("da_cio", "da_rpa"):
            members = newest[(newest[peer] == own_group) & (newest["indicator_id"] == indicator)]
            members = members.dropna(subset=["value"])
            assert shares.loc[indicator, "n_peers"] == len(members)
            assert shares.loc[indicator, "peer_share"] == pytest.approx(100 * members["value"].mean())
    # without the groups given, the same result (up to the order of a parallel sum)
    pd.testing.assert_frame_equal(shares, views.peer_shares(real_con, "302023", peer).set_index("indicator_id"))


def test_maturity_per_field_and_transition(demo_con):
    scores = assessment_scores(demo_con, Filter(pref_code="28"))
    levels = views.field_maturity(scores)
    assert set(levels["field"]) == {"全体", "DX全般", "情報システム", "BPR", "データ利活用"}
    assert levels["maturity"].between(0, 4).all()
    codes = select_municipalities(demo_con, Filter(pref_code="28"))["code"].tolist()
    matrix = views.maturity_transition(levels, "2026-baseline", "2026-evaluation", "BPR", codes)
    assert matrix.loc["計", "計"] == 41
    # a municipality missing from the evaluation round is counted under 不明, not dropped
    partial = levels[~((levels["code"] == codes[0]) & (levels["round_id"] == "2026-evaluation"))]
    matrix = views.maturity_transition(partial, "2026-baseline", "2026-evaluation", "全体", codes)
    assert matrix.loc["計", "計"] == 41 and matrix["不明"].sum() == 2  # the row and the 計 row


def test_support_counts_and_visit_plan(demo_con):
    flt = Filter(pref_code="28", region_set="兵庫県 県民局・センター")
    priority = support_priority(demo_con, flt)
    counts = views.support_counts(priority, "28")
    for item_id, group in counts.groupby("item_id"):
        expected = priority["recommended_ids"].str.split(",").apply(lambda ids, item_id=item_id: item_id in ids).sum()
        assert group["municipalities"].sum() == expected
    recommended = priority["recommended_ids"].fillna("").str.split(",")
    for row in counts.itertuples():  # every item × priority cell, counted one municipality at a time
        assert row.municipalities == sum(
            row.item_id in ids and level == row.priority for ids, level in zip(recommended, priority["priority"])
        )
    menu = load_support_menu(prefecture="兵庫県")
    assert counts["item_id"].drop_duplicates().tolist() == list(menu)  # menu order, every item kept
    assert not counts["item_id"].str.startswith(("miyagi_", "wakayama_")).any()  # never another prefecture's
    assert (priority["recommended_ids"].str.split(",").str.len() <= 3).all()
    assert all(
        levels == ("高", "中", "低", NOT_ASSESSED) for levels in counts.groupby("item_id")["priority"].apply(tuple)
    )
    assert (counts["name"] == counts["item_id"].map({i: m.name for i, m in menu.items()})).all()
    assert list(counts.columns) == ["item_id", "name", "provider", "priority", "municipalities", "named_in_support"]
    plan = views.visit_plan(priority, select_municipalities(demo_con, flt))
    assert set(plan["priority"]) <= {"高", "中"} and len(plan) == priority["priority"].isin(["高", "中"]).sum()
    for _, visits in plan.groupby("region"):
        assert visits["visit_order"].tolist() == list(range(1, len(visits) + 1))
        assert visits["priority"].map({"高": 0, "中": 1}).is_monotonic_increasing
    assert list(plan.columns) == list(views.VISIT_PLAN_COLUMNS)


def test_score_history_and_group_scores(demo_con):
    scores = assessment_scores(demo_con, Filter(codes=("282014",)))
    history = views.score_history(scores, "282014", ["2026-baseline", "2026-evaluation"])
    assert history["series"].tolist()[:2] == ["総合", "総合"] and len(history) == 10
    medians = views.group_field_scores(scores, ["282014"], "2026-evaluation")
    assert set(medians.index) == {"DX全般", "情報システム", "BPR", "データ利活用"}


def test_store_views(real_con):
    sources = views.sources_overview(real_con).set_index("source")
    assert (
        sources.loc["digital_agency_municipal", "loaded"]
        and "PDL1.0" in sources.loc["digital_agency_municipal", "licence"]
    )
    assert views.unresolved_names(real_con).empty
    assert len(views.snapshots(real_con)) == 1
    counts = views.table_counts(real_con).set_index("item")["rows"]
    assert counts["市区町村"] == 1741 and counts["境界のある市区町村"] == 1732
    assert tables.build_info(real_con)["demo"] == "false"
    log = views.ingest_log(real_con)
    assert (log["status"].isin(["ok", "warning", "skipped"])).all() and len(log) > 0
    coverage = views.region_set_prefectures(real_con)
    assert set(coverage[coverage["region_set"].str.startswith("兵庫県")]["pref_code"]) == {"28"}
    prefectures = views.prefectures(real_con)
    assert len(prefectures) == 47 and prefectures["municipalities"].sum() == 1741
