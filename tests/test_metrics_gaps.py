"""Gaps to target, peers, prefecture and nation, signed by polarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_fixtures import HYOGO, WAKAYAMA, fill, indicator_rows, municipality_rows, new_store

from metrics.filters import Filter
from metrics.gaps import gaps

# two prefectures, mixed sizes; 橋本市 (third) never has a value, so the medians below are over the others
MUNICIPALITIES = WAKAYAMA + HYOGO
PREFECTURES = pd.DataFrame(
    [
        {"pref_code": "28", "code": "280003", "name": "兵庫県"},
        {"pref_code": "30", "code": "300004", "name": "和歌山県"},
    ]
)


def _store(values: dict[str, list[float | None]], polarity: str = "higher_is_better", pref_value: float | None = None):
    """values: indicator id → one value per MUNICIPALITIES row."""
    con = new_store()
    indicators = indicator_rows(**{i: {"polarity": polarity} for i in values})
    rows = []
    for indicator, column in values.items():
        rows += [{"code": m[0], "indicator_id": indicator, "value": v} for m, v in zip(MUNICIPALITIES, column)]
    if pref_value is not None:
        rows.append({"code": "280003", "indicator_id": next(iter(values)), "value": pref_value})
    frame = pd.DataFrame(rows).assign(raw=None, source="digital_agency_municipal", as_of=pd.Timestamp("2026-04-01"))
    fill(
        con,
        municipalities=municipality_rows(MUNICIPALITIES),
        prefectures=PREFECTURES,
        indicators=indicators,
        indicator_values=frame,
    )
    fill(
        con,
        regions=pd.DataFrame(
            {
                "code": ["282014", "283819", "282022"],
                "region_set": "兵庫県 県民局・センター",
                "region": ["中播磨", "東播磨", "阪神南"],
            }
        ),
    )
    return con


def test_references_and_bases():
    con = _store({"da_mynumber_card": [80, 70, None, 60, 50, 90, 85, None]}, pref_value=None)
    table = gaps(con, indicator_ids=["da_mynumber_card"]).set_index("code")
    assert table.loc["302015", "national_median"] == pytest.approx(75.0)  # 6 values, the missing one ignored
    assert table.loc["302015", "n_national"] == 6
    assert table.loc["302015", "gap_national"] == pytest.approx(5.0)
    assert table.loc["302015", "gap_target"] == pytest.approx(-20.0)
    # no prefecture figure: the prefecture's municipal median, and it says so
    assert table.loc["302023", "pref_basis"] == "県内市区町村の中央値"
    assert table.loc["302023", "pref_value"] == pytest.approx(65.0)
    # pop_band peers: 10～20万 is empty here; 20～50万 holds 和歌山市 and 尼崎市 (the municipality included)
    assert table.loc["302015", "peer_group"] == "20～50万" and table.loc["302015", "peer_median"] == pytest.approx(82.5)
    assert pd.isna(table.loc["283819", "value"]) and pd.isna(table.loc["283819", "gap_national"])


def test_prefecture_own_value_is_preferred_and_named():
    con = _store({"da_cio": [1, 0, None, 0, 1, 1, 1, 0]}, pref_value=1.0)
    table = gaps(con, indicator_ids=["da_cio"]).set_index("code")
    assert table.loc["283819", "pref_basis"] == "都道府県の値" and table.loc["283819", "gap_pref"] == -1
    assert table.loc["303810", "pref_basis"] == "県内市区町村の中央値"


def test_filters_do_not_change_national_or_peer_references():
    con = _store({"da_mynumber_card": [80, 70, None, 60, 50, 90, 85, 40]})
    everyone = gaps(con, indicator_ids=["da_mynumber_card"]).set_index("code")
    hyogo = gaps(con, Filter(pref_code="28"), indicator_ids=["da_mynumber_card"]).set_index("code")
    assert set(hyogo.index) == {"282014", "282022", "283819"}
    for column in ("national_median", "peer_median", "pref_value"):
        assert (hyogo[column] == everyone.loc[hyogo.index, column]).all()


@pytest.mark.parametrize("peer, expected_group", [("type", "中核市"), ("prefecture", "28")])
def test_peer_kinds(peer, expected_group):
    con = _store({"da_mynumber_card": [80, 70, None, 60, 50, 90, 85, 40]})
    row = gaps(con, peer=peer, indicator_ids=["da_mynumber_card"]).set_index("code").loc["282014"]
    assert row["peer_group"] == expected_group
    assert row["peer_median"] == pytest.approx(85.0)  # 中核市: 80, 90, 85; 兵庫県: 90, 85, 40


def test_region_and_similar_peers():
    con = _store({"da_mynumber_card": [80, 70, None, 60, 50, 90, 85, 40]})
    with pytest.raises(ValueError):
        gaps(con, peer="region")
    region = gaps(
        con, peer="region", region_set="兵庫県 県民局・センター", indicator_ids=["da_mynumber_card"]
    ).set_index("code")
    assert region.loc["282014", "peer_group"] == "中播磨" and region.loc["282014", "n_peers"] == 1
    assert pd.isna(region.loc["302015", "peer_median"])  # not in the region set
    pairs = pd.DataFrame({"code": ["302015", "302015"], "peer_code": ["282014", "282022"]})
    similar = gaps(con, peer="similar", similar=pairs, indicator_ids=["da_mynumber_card"]).set_index("code")
    assert similar.loc["302015", "peer_median"] == pytest.approx(87.5) and similar.loc["302015", "n_peers"] == 2
    assert pd.isna(similar.loc["302023", "peer_median"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.one_of(st.none(), st.floats(0, 100, allow_nan=False)), min_size=8, max_size=8),
    polarity=st.sampled_from(["higher_is_better", "lower_is_better", "neutral"]),
)
def test_gap_signs_follow_polarity(values, polarity):
    con = _store({"da_mynumber_card": values}, polarity=polarity)
    table = gaps(con, indicator_ids=["da_mynumber_card"])
    direction = {"higher_is_better": 1, "lower_is_better": -1, "neutral": np.nan}[polarity]
    for reference, gap in (
        ("target", "gap_target"),
        ("national_median", "gap_national"),
        ("peer_median", "gap_peer"),
        ("pref_value", "gap_pref"),
    ):
        expected = direction * (table["value"] - table[reference])
        got = table[gap]
        assert (got.isna() == expected.isna()).all()
        assert np.allclose(got.dropna(), expected.dropna())
    if polarity != "neutral":
        better = table["value"] > table["national_median"]
        assert ((table.loc[better, "gap_national"] > 0) == (polarity == "higher_is_better")).all()
