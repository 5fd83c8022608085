"""The metrics on a real build of ../shared/data (デジタル庁 exports + 住民基本台帳 population).

Expected numbers were measured on the files themselves, not copies of our output.
Skipped only when the build holds no デジタル庁 indicator values.
"""

from __future__ import annotations

import importlib.util

import duckdb
import pandas as pd
import pytest

import loaders.build as build_module
from metrics.composite import composite, indicator_scores
from metrics.crosstab import MISSING, TOTAL, cross_table, measure_values, pop_band_order
from metrics.definitions import COMPOSITE
from metrics.filters import Filter
from metrics.gaps import gaps
from metrics.peers import similar_municipalities
from metrics.priority import NOT_ASSESSED, support_priority

# measured on the real files: 調査無し in rows 1–7 (推進体制 and 人材 indicators) for these 8 石川県 municipalities
ISHIKAWA_NOT_SURVEYED = {"金沢市", "七尾市", "小松市", "輪島市", "珠洲市", "内灘町", "中能登町", "能登町"}
NEEDED_LOADERS = ("loaders.digital_agency", "loaders.population")


@pytest.fixture(scope="module")
def real(shared_data, tmp_path_factory):
    # only the loaders these metrics need, so an unrelated loader cannot break this test
    modules = tuple(m for m in NEEDED_LOADERS if importlib.util.find_spec(m) is not None)
    target = tmp_path_factory.mktemp("real") / "real.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "LOADER_MODULES", modules)
        build_module.build([shared_data / "digital-agency", shared_data / "soumu-juki-population"], target)
    con = duckdb.connect(str(target), read_only=True)
    loaded = con.execute("SELECT count(*) FROM indicator_values WHERE source LIKE 'digital_agency%'").fetchone()[0]
    if loaded == 0:
        con.close()
        pytest.skip("no デジタル庁 indicator values in the build (loader not installed)")
    yield con
    con.close()


def test_composite_is_missing_exactly_where_pillars_were_not_surveyed(real):
    scores = composite(real)
    names = dict(real.execute("SELECT code, name FROM municipalities").fetchall())
    overall = scores[scores["pillar"] == COMPOSITE]
    assert len(overall) == 1741
    missing = overall[overall["score"].isna()]
    assert {names[c] for c in missing["code"]} == ISHIKAWA_NOT_SURVEYED
    assert (missing["n_missing"] == 7).all() and (missing["n_pillars_missing"] == 2).all()
    # their デジタル技術 and 住民サービス pillars are still scored: missing is shown, not zeroed
    ishikawa = scores[scores["code"].isin(missing["code"]) & scores["pillar"].isin(["デジタル技術", "住民サービス"])]
    assert ishikawa["score"].notna().all()
    # bare % (分母 = 分子 = 0) at 草津町 and 天川村: one 住民サービス member missing, pillar kept
    kusatsu = scores[(scores["code"] == "104264") & (scores["pillar"] == "住民サービス")].iloc[0]
    assert kusatsu["n_available"] == 2 and pd.notna(kusatsu["score"])


def test_normalised_cio_share_matches_the_file(real):
    members = indicator_scores(real)
    cio = members[members["indicator_id"] == "da_cio"]["normalised"]
    assert cio.notna().sum() == 1733 and cio.sum() == 1270  # 実施 1270, 未実施 463, 調査無し 8


def test_gaps_on_real_values(real):
    table = gaps(real, indicator_ids=["da_cio", "da_mynumber_card", "da_online_top32"])
    first = table.groupby("indicator_id").first()
    assert first.loc["da_cio", "n_national"] == 1733 and first.loc["da_cio", "national_median"] == 1
    assert (
        50 <= first.loc["da_mynumber_card", "national_median"] <= 94
        and first.loc["da_mynumber_card", "n_national"] == 1741
    )
    assert first.loc["da_online_top32", "n_national"] == 1739
    # the prefecture file has a CIO row but no マイナンバーカード row
    bases = table.groupby("indicator_id")["pref_basis"].unique()
    assert list(bases["da_cio"]) == ["都道府県の値"] and list(bases["da_mynumber_card"]) == ["県内市区町村の中央値"]


def test_cross_table_and_peers_with_population(real):
    frame = measure_values(real, "da_cio")
    table = cross_table(frame, "pop_band", "label", pop_band_order(real), ["実施", "未実施"])
    assert table.loc[TOTAL, TOTAL] == 1741
    assert table.loc[TOTAL, ["実施", "未実施", MISSING]].tolist() == [1270, 463, 8]
    sapporo = similar_municipalities(real, Filter(codes=("011002",)))
    assert len(sapporo) == 5 and "011002" not in set(sapporo["peer_code"])


@pytest.mark.parametrize("pref_code, own", [("01", None), ("28", "hyogo_"), ("30", "wakayama_"), ("17", None)])
def test_priority_from_official_data_alone(real, pref_code, own):
    """No survey loaded: every municipality with official values is judged 「公開データによる判定」,
    from the rules of data/official_priority_rules.yaml, with at most three recommendations from
    the national menu and the prefecture's own (never another prefecture's)."""
    result = support_priority(real, Filter(pref_code=pref_code))
    with_values = {
        c
        for (c,) in real.execute(
            "SELECT DISTINCT code FROM indicator_values WHERE indicator_id LIKE 'da_%' AND value IS NOT NULL "
            "AND code LIKE ? AND code IN (SELECT code FROM municipalities)",
            [f"{pref_code}%"],
        ).fetchall()
    }
    assert set(result["code"]) == with_values  # the registry: every municipality has official values
    assert NOT_ASSESSED not in set(result["priority"])
    assert (result["basis_label"] == "公開データによる判定").all() and (result["response"] == "対象外").all()
    both_missing = {
        c
        for (c,) in real.execute(
            "SELECT code FROM indicator_values WHERE indicator_id IN ('da_cio', 'da_policy') AND value = 0 AND "
            "code LIKE ? "
            "GROUP BY code HAVING count(DISTINCT indicator_id) = 2",
            [f"{pref_code}%"],
        ).fetchall()
    }
    flagged = set(
        result.loc[
            result["reasons"].str.contains("CIOが任命されておらず、DX推進の全体方針も策定されていません"), "code"
        ]
    )
    assert flagged == both_missing
    assert (result.loc[result["code"].isin(both_missing), "priority"] != "低").all()  # 2 points at least → 中 or 高
    ids = result["recommended_ids"].str.split(",").explode()
    ids = ids[ids.astype(bool)]
    assert (result["recommended_ids"].str.split(",").str.len() <= 3).all() and len(ids)
    assert ids.str.startswith("nat_").any() and not ids.str.startswith("miyagi_").any()
    assert ids.str.startswith(own).any() if own else ids.str.startswith("nat_").all()
    reasons = result.loc[result["recommended_ids"] != "", "recommended_reasons"].str.split("｜")
    assert (
        reasons.str.len() == result.loc[result["recommended_ids"] != "", "recommended_ids"].str.split(",").str.len()
    ).all()
