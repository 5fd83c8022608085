"""The maps: payload size of the spec sent to the browser, points for municipalities without a
polygon (and for all when no boundaries are loaded), missing data in grey, no tile server."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from metrics import views
from metrics.filters import Filter, select_municipalities
from views import maps, style

NATIONAL_LIMIT = 1_500_000
PREFECTURE_LIMIT = 200_000
# measured on the real files: no polygon in the N03 2021 files after both are combined
WITHOUT_POLYGON = {
    "133621": "利島村",
    "134023": "青ヶ島村",
    "313840": "日吉津村",
    "383562": "上島町",
    "304221": "太地町",
    "443221": "姫島村",
    "473545": "座間味村",
    "473553": "粟国村",
    "473561": "渡名喜村",
}


@pytest.fixture(scope="module")
def real(real_db):
    with duckdb.connect(str(real_db), read_only=True) as con:
        options = views.measure_options(con).set_index("measure_id", drop=False)
        yield {
            "geometry": maps.load_geometry(con),
            "municipalities": select_municipalities(con),
            "options": options,
            "composite": views.measure_frame(con, "composite"),
            "da_cio": views.measure_frame(con, "da_cio"),
        }


def spec_of(data, measure_id, municipalities=None, national=True):
    measure = data["options"].loc[measure_id]
    frame = maps.map_frame(
        data[measure_id], data["municipalities"] if municipalities is None else municipalities, measure
    )
    deck, colouring = maps.build_deck(frame, measure, data["geometry"], national, 560)
    return deck.to_json(), frame, colouring


def layers(spec: str) -> dict:
    return {layer["id"]: layer for layer in json.loads(spec)["layers"]}


def test_national_payload_is_small(real):
    spec, frame, _ = spec_of(real, "composite")
    assert len(spec.encode("utf-8")) <= NATIONAL_LIMIT
    assert len(frame) == 1741


def test_every_prefecture_payload_is_small(real):
    municipalities = real["municipalities"]
    sizes = {
        pref: len(spec_of(real, "composite", group, national=False)[0].encode("utf-8"))
        for pref, group in municipalities.groupby("pref_code")
    }
    assert len(sizes) == 47
    assert max(sizes.values()) <= PREFECTURE_LIMIT, max(sizes.items(), key=lambda item: item[1])


def test_municipalities_without_a_polygon_are_points(real):
    drawn = layers(spec_of(real, "composite")[0])
    polygons = {f["properties"]["c"] for f in drawn[maps.LAYER_POLYGONS]["data"]["features"]}
    points = {p["c"]: p for p in drawn[maps.LAYER_POINTS]["data"]}
    assert set(points) == set(WITHOUT_POLYGON)
    assert len(polygons) == 1732 and not polygons & set(points), "every municipality is drawn exactly once"
    assert points["133621"]["n"] == "東京都 利島村"


def test_missing_values_are_grey_and_labelled(real):
    # the 8 石川県 municipalities with 調査無し have no composite (docs/METHODOLOGY.md §3)
    drawn = layers(spec_of(real, "composite")[0])
    features = {f["properties"]["c"]: f["properties"] for f in drawn[maps.LAYER_POLYGONS]["data"]["features"]}
    missing = [code for code, value in zip(real["composite"]["code"], real["composite"]["value"]) if pd.isna(value)]
    assert len(missing) == 8 and all(code.startswith("17") for code in missing)
    for code in missing:
        assert features[code]["f"][:3] == list(style.MISSING_RGB)
        assert features[code]["v"].endswith(style.MISSING_LABEL)
    present = [code for code in features if code not in missing]
    assert all(features[code]["f"][:3] != list(style.MISSING_RGB) for code in present)


def test_binary_measure_has_a_categorical_legend(real):
    _, frame, colouring = spec_of(real, "da_cio")
    for label in ("実施", "未実施", style.MISSING_LABEL):
        assert label in colouring.legend_html
    assert frame["tip_value"].str.endswith("未実施").sum() == 463  # measured on the real files: CIOの任命 未実施 463


def test_no_tile_server_is_needed(real):
    spec = json.loads(spec_of(real, "composite")[0])
    assert spec["mapStyle"] == maps.MAP_STYLE
    assert "http" not in json.dumps(spec["layers"][0]) and "mapProvider" not in spec


def test_prefecture_view_fits_and_skips_far_islands(real):
    municipalities = real["municipalities"]
    tokyo = maps.view_state(municipalities[municipalities["pref_code"] == "13"], real["geometry"], False, 560)
    assert 34.0 < tokyo["latitude"] < 35.9, "小笠原 (27°N) must not pull the first view into the ocean"
    hyogo = maps.view_state(municipalities[municipalities["pref_code"] == "28"], real["geometry"], False, 560)
    assert 34.6 < hyogo["latitude"] < 35.3 and hyogo["zoom"] > tokyo["zoom"] - 1
    national = maps.view_state(municipalities, real["geometry"], True, 560)
    assert 3.5 < national["zoom"] < 5


def test_without_boundaries_the_whole_map_is_points(demo_db):
    with duckdb.connect(str(demo_db), read_only=True) as con:
        geometry = maps.load_geometry(con)
        measure = views.measure_options(con).set_index("measure_id").loc["assessment"]
        measure["measure_id"] = "assessment"
        frame = maps.map_frame(views.measure_frame(con, "assessment"), select_municipalities(con, Filter()), measure)
    assert geometry.empty
    deck, _ = maps.build_deck(frame, measure, geometry, True, 560)
    drawn = layers(deck.to_json())
    assert maps.LAYER_POLYGONS not in drawn and len(drawn[maps.LAYER_POINTS]["data"]) == 1741


def test_export_figure_keeps_missing_as_its_own_entry(real):
    measure = real["options"].loc["composite"]
    municipalities = real["municipalities"]
    frame = maps.map_frame(real["composite"], municipalities[municipalities["pref_code"] == "17"], measure)
    figure = maps.export_figure(frame, measure, real["geometry"], "石川県")
    names = [trace.name for trace in figure.data]
    assert style.MISSING_LABEL in names
    missing = next(trace for trace in figure.data if trace.name == style.MISSING_LABEL)
    assert len(missing.locations) == 8


def test_picked_code_reads_polygons_and_points():
    polygon = {"selection": {"objects": {maps.LAYER_POLYGONS: [{"type": "Feature", "properties": {"c": "282014"}}]}}}
    point = {"selection": {"objects": {maps.LAYER_POINTS: [{"c": "133621", "p": [139.28, 34.52]}]}}}
    assert maps.picked_code(polygon) == "282014"
    assert maps.picked_code(point) == "133621"
    assert maps.picked_code({"selection": {"objects": {}}}) is None
    assert maps.picked_code(None) is None


def test_unanswered_has_its_own_colour_and_legend_entry(real):
    """A municipality asked by its prefecture's survey that did not answer is 未回答: not grey
    「データなし」, but its own colour, legend entry (browser map and export) and tooltip text."""
    measure = real["options"].loc["composite"].copy()
    frame = real["composite"].copy()
    frame["label"] = frame["label"].astype("object")
    frame.loc[frame.index[:3], ["value", "label"]] = [float("nan"), style.NOT_ANSWERED_LABEL]
    frame.loc[frame.index[3:5], "value"] = float("nan")
    colouring = maps.colour_measure(frame, measure)
    assert colouring.rgb[0] == maps._rgb(style.NOT_ANSWERED_HEX) != maps._rgb(style.MISSING_HEX) == colouring.rgb[3]
    assert style.NOT_ANSWERED_LABEL in colouring.legend_html and style.MISSING_LABEL in colouring.legend_html
    drawn = maps.map_frame(frame[["code", "value", "label"]], real["municipalities"], measure)
    assert drawn.loc[drawn["code"] == frame["code"].iloc[0], "tip_text"].item() == style.NOT_ANSWERED_LABEL
    figure = maps.export_figure(drawn, measure, real["geometry"], "テスト")
    assert style.NOT_ANSWERED_LABEL in {trace.name for trace in figure.data}
