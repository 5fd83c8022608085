"""The デジタル庁 indicator composite: normalisation, pillars, missing values."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_fixtures import DA_INDICATORS, WAKAYAMA, fill, indicator_rows, municipality_rows, new_store

from metrics.composite import composite, composite_wide, indicator_scores
from metrics.definitions import COMPOSITE, PILLARS

CODES = [code for code, *_ in WAKAYAMA]
IDS = [entry[0] for entry in DA_INDICATORS]
KIND = {entry[0]: entry[2] for entry in DA_INDICATORS}
PILLAR = {entry[0]: entry[3] for entry in DA_INDICATORS}


def _values(rows: list[tuple], as_of: str = "2026-04-01") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["code", "indicator_id", "value"])
    frame["raw"] = frame["value"].map(
        lambda v: "調査無し" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    )
    frame["source"] = "digital_agency_municipal"
    frame["as_of"] = pd.Timestamp(as_of)
    return frame


def _store(values: pd.DataFrame, indicators: pd.DataFrame | None = None):
    con = new_store()
    fill(
        con,
        municipalities=municipality_rows(WAKAYAMA),
        indicators=indicators if indicators is not None else indicator_rows(),
        indicator_values=values,
    )
    return con


def _full(code: str, binary: float = 1.0, percent: float = 50.0) -> list[tuple]:
    return [(code, i, binary if KIND[i] == "binary" else percent) for i in IDS]


def test_normalisation_and_pillars():
    rows = _full("302015", 1.0, 80.0) + _full("302023", 0.0, 40.0)
    scores = composite(_store(_values(rows)))
    first = scores[scores["code"] == "302015"].set_index("pillar")["score"]
    assert first[["推進体制", "人材", "デジタル技術"]].tolist() == [100, 100, 100]
    assert first["住民サービス"] == pytest.approx(80.0)  # percent / 100
    assert first[COMPOSITE] == pytest.approx((100 * 3 + 80) / 4)  # pillars weigh equally, not indicators
    second = scores[scores["code"] == "302023"].set_index("pillar")["score"]
    assert second[COMPOSITE] == pytest.approx(40 / 4)


def test_catalog_weights_and_polarity():
    indicators = indicator_rows(da_cio={"weight": 3.0}, da_mynumber_card={"polarity": "lower_is_better"})
    rows = [(c, i, 1.0 if i == "da_cio" else v) for c, i, v in _full("302015", 0.0, 100.0)]
    scores = composite(_store(_values(rows), indicators)).query("code == '302015'").set_index("pillar")["score"]
    assert scores["推進体制"] == pytest.approx(100 * 3 / 6)  # weights 3,1,1,1
    # 住民サービス: mynumber turned round (1 − 1.0 = 0), the two online rates at 1.0
    assert scores["住民サービス"] == pytest.approx(100 * 2 / 3)


def test_members_exclude_components_zero_weights_neutral_and_other_sources():
    extra = pd.DataFrame(
        [
            {
                **indicator_rows().iloc[0].to_dict(),
                "id": "da_online_top32_denominator",
                "kind": "count",
                "component": True,
                "target": None,
            },
            {**indicator_rows().iloc[0].to_dict(), "id": "da_proc_top32_01", "kind": "percent", "weight": 0.0},
            {**indicator_rows().iloc[0].to_dict(), "id": "od_status", "source": "opendata_survey"},
            {**indicator_rows().iloc[0].to_dict(), "id": "da_neutral", "polarity": "neutral"},
        ]
    )
    con = new_store()
    fill(con, municipalities=municipality_rows(WAKAYAMA), indicators=pd.concat([indicator_rows(), extra]))
    members = indicator_scores(con)
    assert set(members["indicator_id"]) == set(IDS)
    assert len(members) == len(IDS) * len(CODES)
    assert members["normalised"].isna().all()  # no values at all: every member missing, none zero


def test_pillar_missing_below_half_and_composite_missing_with_any_pillar():
    rows = _full("302015")
    # 推進体制 has 4 members: 2 available is "not fewer than half" → pillar available
    rows = [r for r in rows if r[1] not in ("da_cio", "da_cio_aide")]
    # 人材 has 3 members: only 1 available → fewer than half → missing
    rows = [r for r in rows if r[1] not in ("da_external_talent", "da_staff_development")]
    rows += [("302015", "da_cio", None)]  # an explicit NULL (調査無し) is as missing as an absent row
    scores = composite(_store(_values(rows))).query("code == '302015'").set_index("pillar")
    assert scores.loc["推進体制", "score"] == pytest.approx(100.0)
    assert scores.loc["推進体制", "n_available"] == 2 and scores.loc["推進体制", "n_missing"] == 2
    assert pd.isna(scores.loc["人材", "score"]) and scores.loc["人材", "n_available"] == 1
    assert pd.isna(scores.loc[COMPOSITE, "score"])
    assert scores.loc[COMPOSITE, "n_missing"] == 4 and scores.loc[COMPOSITE, "n_pillars_missing"] == 1
    wide = composite_wide(composite(_store(_values(rows))))
    assert wide.loc[wide["code"] == "302015", "n_missing"].item() == 4


def test_newest_snapshot_is_used_and_not_filled_from_older():
    old = _values(_full("302015", 1.0, 30.0), "2025-04-01")
    new = _values([(c, i, None if i == "da_ai" else v) for c, i, v in _full("302015", 0.0, 60.0)], "2026-04-01")
    con = _store(pd.concat([old, new]))
    members = indicator_scores(con).set_index(["code", "indicator_id"])
    assert pd.isna(members.loc[("302015", "da_ai"), "normalised"])
    assert members.loc[("302015", "da_mynumber_card"), "normalised"] == pytest.approx(0.6)
    earlier = indicator_scores(con, as_of="2025-12-31").set_index(["code", "indicator_id"])
    assert earlier.loc[("302015", "da_ai"), "normalised"] == 1.0


value_strategy = st.one_of(st.none(), st.sampled_from([0.0, 1.0]))
percent_strategy = st.one_of(st.none(), st.floats(0, 100, allow_nan=False))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_composite_never_treats_missing_as_zero(data):
    """Against an independent computation that drops missing values; and a municipality whose
    missing values are filled with 0 scores at most as high (strictly lower when a filled pillar
    had a positive mean)."""
    values = {i: data.draw(value_strategy if KIND[i] == "binary" else percent_strategy, label=i) for i in IDS}
    rows = [("302015", i, v) for i, v in values.items() if v is not None]
    rows += [("302023", i, 0.0 if v is None else v) for i, v in values.items()]
    scores = composite(_store(_values(rows))).set_index(["code", "pillar"])["score"]
    pillar_scores = {}
    for pillar in PILLARS:
        members = [i for i in IDS if PILLAR[i] == pillar]
        shares = [values[i] / (100 if KIND[i] == "percent" else 1) for i in members if values[i] is not None]
        pillar_scores[pillar] = 100 * sum(shares) / len(shares) if 2 * len(shares) >= len(members) else None
        got = scores[("302015", pillar)]
        assert (pd.isna(got) and pillar_scores[pillar] is None) or got == pytest.approx(pillar_scores[pillar])
    expected = None if None in pillar_scores.values() else sum(pillar_scores.values()) / 4
    got = scores[("302015", COMPOSITE)]
    assert (pd.isna(got) and expected is None) or got == pytest.approx(expected)
    if expected is not None:
        assert scores[("302023", COMPOSITE)] <= expected + 1e-9
