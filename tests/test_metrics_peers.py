"""Peer groups: the committed regions and "similar municipalities"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from metrics_fixtures import HYOGO, WAKAYAMA, fill, municipality_rows, new_store

from metrics.filters import Filter, select_municipalities
from metrics.peers import similar_municipalities

REGIONS = Path(__file__).resolve().parent.parent / "data" / "regions.csv"
HYOGO_SET = "兵庫県 県民局・センター"
WAKAYAMA_SET = "和歌山県 紀北・紀南"


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return pd.read_csv(REGIONS, dtype=str, comment="#")


def test_regions_are_valid_codes_named_as_in_the_registry(regions, registry):
    municipalities = registry.municipalities.set_index("code")
    assert regions["code"].isin(municipalities.index).all()
    assert not regions.duplicated(["code", "region_set"]).any()
    assert (regions["name"] == municipalities.loc[regions["code"], "name"].to_numpy()).all()


def test_hyogo_ten_areas_cover_all_41(regions, registry):
    hyogo = regions[regions["region_set"] == HYOGO_SET]
    all_hyogo = set(registry.municipalities.query("pref_name == '兵庫県'")["code"])
    assert set(hyogo["code"]) == all_hyogo and len(hyogo) == 41  # 兵庫県「市町DX支援パッケージ」: 41市町
    sizes = hyogo["region"].value_counts().to_dict()
    assert sizes == {
        "神戸": 1,
        "阪神南": 3,
        "阪神北": 5,
        "東播磨": 5,
        "北播磨": 6,
        "中播磨": 4,
        "西播磨": 7,
        "但馬": 5,
        "丹波": 2,
        "淡路": 3,
    }
    assert hyogo.loc[hyogo["region"] == "神戸", "name"].tolist() == ["神戸市"]


def test_wakayama_kihoku_13_kinan_17(regions, registry):
    wakayama = regions[regions["region_set"] == WAKAYAMA_SET]
    assert set(wakayama["code"]) == set(registry.municipalities.query("pref_name == '和歌山県'")["code"])
    assert wakayama["region"].value_counts().to_dict() == {"紀北": 13, "紀南": 17}  # 和歌山県's two advisory teams
    assert {"和歌山市", "橋本市", "有田市"} <= set(wakayama.query("region == '紀北'")["name"])
    assert {"田辺市", "新宮市", "串本町"} <= set(wakayama.query("region == '紀南'")["name"])


def test_region_filter_selects_the_set(regions, registry):
    con = new_store()
    fill(
        con,
        municipalities=registry.municipalities.assign(population=10_000, pop_band="5万未満", synthetic=False),
        regions=regions[["code", "region_set", "region"]],
    )
    assert len(select_municipalities(con, Filter(region_set=HYOGO_SET))) == 41
    kinan = select_municipalities(con, Filter(region_set=WAKAYAMA_SET, region="紀南"))
    assert len(kinan) == 17 and set(kinan["region"]) == {"紀南"}
    assert len(select_municipalities(con, Filter(pref_code="280003", types=("町",)))) == 12


def _features(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "name", "pref_name", "log_population", "composite", "assessment"])


SPECS = WAKAYAMA + HYOGO


def test_similar_ties_go_to_the_lower_code_and_self_is_excluded():
    con = fill(new_store(), municipalities=municipality_rows(SPECS))
    # 302023, 302031 and 303810 are equally far from 302015; 282014 is identical to it
    features = _features(
        [
            ("302015", "和歌山市", "和歌山県", 5.0, 50.0, 50.0),
            ("302023", "海南市", "和歌山県", 4.0, 50.0, 50.0),
            ("302031", "橋本市", "和歌山県", 6.0, 50.0, 50.0),
            ("303810", "美浜町", "和歌山県", 4.0, 50.0, 50.0),
            ("304271", "北山村", "和歌山県", 1.0, 10.0, 90.0),
            ("282014", "姫路市", "兵庫県", 5.0, 50.0, 50.0),
        ]
    )
    result = similar_municipalities(con, k=3, feature_frame=features)
    first = result[result["code"] == "302015"]
    assert first["peer_code"].tolist() == ["282014", "302023", "302031"]
    assert first["rank"].tolist() == [1, 2, 3] and first["distance"].iloc[0] == 0
    assert not (result["code"] == result["peer_code"]).any()
    shuffled = similar_municipalities(con, k=3, feature_frame=features.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(result, shuffled)


def test_similar_with_missing_features_and_candidate_pool():
    con = fill(new_store(), municipalities=municipality_rows(SPECS))
    features = _features(
        [
            ("302015", "和歌山市", "和歌山県", 5.0, np.nan, np.nan),  # only population known
            ("302023", "海南市", "和歌山県", 4.6, 20.0, np.nan),
            ("302031", "橋本市", "和歌山県", 4.8, np.nan, 70.0),
            ("303810", "美浜町", "和歌山県", 3.8, 40.0, 40.0),
            ("304271", "北山村", "和歌山県", np.nan, np.nan, np.nan),  # nothing known: no neighbours
            ("282014", "姫路市", "兵庫県", 5.7, 60.0, 60.0),
        ]
    )
    result = similar_municipalities(con, k=2, feature_frame=features)
    assert "304271" not in set(result["code"])
    assert result[result["code"] == "302015"]["peer_code"].tolist() == ["302031", "302023"]
    assert result.loc[result["code"] == "302015", "features_used"].iloc[0] == "人口（常用対数）"
    # 美浜町 uses all three features, so only candidates with all three qualify
    assert result[result["code"] == "303810"]["peer_code"].tolist() == ["282014"]
    wakayama_only = similar_municipalities(
        con, Filter(codes=("302015",)), k=5, candidates=Filter(pref_code="30"), feature_frame=features
    )
    assert set(wakayama_only["peer_code"]) == {"302023", "302031", "303810"}
