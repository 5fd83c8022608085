"""Maps: the spec of the interactive pydeck choropleth the pages show (drawn by ui/maps.py), and a
plotly choropleth for export.

The browser gets the simplified, rounded shapes the boundaries loader stored
(``boundaries.geojson_simplified``). Their GeoJSON text is read once per database version and kept
(``Geometry``); a rerun only writes each feature's small properties — code, name, value text,
fill colour — around the cached text, so recolouring costs string joins, not JSON encoding of
coordinates. pydeck's own ``to_json`` pretty-prints (indent=2), which would multiply the payload;
``SpecDeck`` hands Streamlit the compact spec instead.

Municipalities without a polygon (lost islands such as 利島村, 青ヶ島村, 座間味村) are drawn as points
at their registry coordinates; with no boundaries loaded at all, every municipality is a point.
No basemap and no tile server: the map works offline. Missing values are grey and labelled
「データなし」; colours follow ``views.style`` (viridis, PuOr around 0, Okabe–Ito categories).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import shapely

from metrics.geometry import national_geojson
from metrics.views import BINARY_ORDER
from views import style

LAYER_POLYGONS = "municipalities"
LAYER_POINTS = "points"
FILL_ALPHA = 235
# The national view: Hokkaidō to Okinawa main island (remote islands such as 南鳥島 would shrink Japan).
NATIONAL_BOUNDS = (128.0, 26.1, 145.8, 45.55)
FAR_ISLANDS_DEGREES = 8.0
MAP_WIDTH_PX = 860  # the map column at 1920 px with the sidebar open
# No tile server: Streamlit's front end adds a Carto basemap unless mapStyle is pydeck's "default"
# sentinel, which it removes; the sea is a plain polygon under the municipalities instead.
MAP_STYLE = "__MAP_STYLE__"
SEA_LAYER = (
    '{"@@type":"SolidPolygonLayer","id":"sea","data":[{"polygon":[[-179,-80],[179,-80],[179,80],[-179,80]]}],'
    '"getPolygon":"@@=polygon","getFillColor":[232,238,244,255],"pickable":false}'
)
# Outlining every municipality (deck.gl draws the outlines as a path layer) took ~4 s of the national
# map's first draw in chromium without a GPU against ~1 s for the fills (benchmarks/README.md,
# "Profile"); at national scale the 0.4 px outlines are barely visible, so only smaller maps (a
# prefecture: 北海道 has 179 municipalities) get them. The selected municipality is always outlined.
OUTLINE_MAX_FEATURES = 400
TOOLTIP_STYLE = {"backgroundColor": "#1f2937", "color": "#ffffff", "fontSize": "13px", "padding": "6px 10px"}


@dataclass(frozen=True)
class Geometry:
    """Browser shapes of one database version: code → GeoJSON geometry text, and each shape's
    bounding box (minx, miny, maxx, maxy; index code)."""

    shapes: dict[str, str]
    bounds: pd.DataFrame

    @property
    def empty(self) -> bool:
        return not self.shapes


def load_geometry(con) -> Geometry:
    collection = national_geojson(con)
    shapes = {f["properties"]["code"]: json.dumps(f["geometry"], separators=(",", ":")) for f in collection["features"]}
    geoms = shapely.from_geojson(list(shapes.values())) if shapes else np.array([])
    bounds = pd.DataFrame(
        shapely.bounds(geoms) if len(geoms) else np.empty((0, 4)),
        index=pd.Index(list(shapes), name="code"),
        columns=["minx", "miny", "maxx", "maxy"],
    )
    return Geometry(shapes, bounds)


@dataclass(frozen=True)
class Colouring:
    """Fill colours (RGB, one per row of the frame coloured) and the legend that explains them."""

    rgb: list[list[int]]
    legend_html: str


def colour_measure(values: pd.DataFrame, measure: pd.Series, category_order: list[str] | None = None) -> Colouring:
    """Colours for ``values`` (value, label) of ``measure`` (a row of metrics.views.measure_options)."""
    kind, unit = measure["kind"], measure["unit"]
    if kind in ("binary", "category"):
        labels = values["label"].astype("object").where(values["label"].notna(), style.MISSING_LABEL)
        order = category_order or (list(BINARY_ORDER) if kind == "binary" else sorted(labels.dropna().unique()))
        order = [c for c in order if c != style.MISSING_LABEL] + [style.MISSING_LABEL]
        colours = style.category_colours(order)
        rgb = [_rgb(colours.get(label, style.MISSING_HEX)) for label in labels]
        present = set(labels)
        items = "".join(
            f'<span><span class="swatch" style="background:{colours[c]}"></span>{html.escape(str(c))}</span>'
            for c in order
            if c in present or c == style.MISSING_LABEL
        )
        return Colouring(rgb, f'<div class="dx-legend">{items}</div>')
    diverging = bool(measure["diverging"])
    lo, hi = style.value_range(values["value"], kind, measure["domain_min"], measure["domain_max"], diverging)
    scale = style.DIVERGING if diverging else style.SEQUENTIAL
    reverse = measure["polarity"] == "lower_is_better"
    rgb = style.rgb_for(values["value"], lo, hi, scale, reverse)
    unanswered = (values["label"].astype("object") == style.NOT_ANSWERED_LABEL).to_numpy()
    for i in unanswered.nonzero()[0]:
        rgb[i] = _rgb(style.NOT_ANSWERED_HEX)
    stops = style.lut(scale)[:: style.LUT_SIZE // 8].tolist() + [style.lut(scale)[-1].tolist()]
    if reverse:
        stops = stops[::-1]
    gradient = ", ".join(style.hex_of(c) for c in stops)
    low, high = style.format_value(lo, kind, unit), style.format_value(hi, kind, unit)
    note = (
        "（良い方向が右）"
        if measure["polarity"] != "neutral" and not diverging
        else "（0 を中心に、右が改善）"
        if diverging
        else ""
    )
    legend = (
        f'<div class="dx-legend"><span>{html.escape(low)}'
        f'<span class="bar" style="background:linear-gradient(90deg,{gradient})">'
        f'</span>{html.escape(high)}</span><span class="dx-muted">{html.escape(note)}</span>'
        + (
            f'<span><span class="swatch" style="background:{style.NOT_ANSWERED_HEX}"></span>'
            f"{html.escape(style.NOT_ANSWERED_LABEL)}</span>"
            if unanswered.any()
            else ""
        )
        + f'<span><span class="swatch" style="background:{style.MISSING_HEX}"></span>'
        f"{html.escape(style.MISSING_LABEL)}</span></div>"
    )
    return Colouring(rgb, legend)


def _rgb(hex_colour: str) -> list[int]:
    return [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]


def view_state(frame: pd.DataFrame, geometry: Geometry, national: bool, height: int) -> dict:
    """Centre and zoom that fit the municipalities of ``frame`` (columns code, lat, lng). When a
    prefecture's far islands would shrink the rest (東京都の小笠原, 沖縄県の先島), the first view covers
    the 5th–95th percentile of the members' positions; the islands are a pan away."""
    if national or frame.empty:
        box = NATIONAL_BOUNDS
    else:
        lng, lat = frame["lng"].astype(float), frame["lat"].astype(float)
        spread = max(lng.max() - lng.min(), lat.max() - lat.min())
        if len(frame) >= 20 and spread > FAR_ISLANDS_DEGREES:
            keep = lng.between(*lng.quantile([0.05, 0.95])) & lat.between(*lat.quantile([0.05, 0.95]))
        else:
            keep = pd.Series(True, index=frame.index)
        shapes = geometry.bounds.reindex(frame.loc[keep, "code"]).dropna()
        xs = pd.concat([lng[keep], shapes["minx"], shapes["maxx"]])
        ys = pd.concat([lat[keep], shapes["miny"], shapes["maxy"]])
        box = (xs.min(), ys.min(), xs.max(), ys.max())
    minx, miny, maxx, maxy = box

    # deck.gl's web-mercator world is 512 px wide at zoom 0
    def mercator_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    span_x = max(maxx - minx, 0.05) / 360.0
    span_y = max(mercator_y(maxy) - mercator_y(miny), 0.001) / (2 * math.pi)
    margin = 0.05 if box == NATIONAL_BOUNDS else 0.3  # the national box already has its margin
    zoom = min(math.log2(MAP_WIDTH_PX / 512 / span_x), math.log2(height / 512 / span_y)) - margin
    centre_y = (mercator_y(maxy) + mercator_y(miny)) / 2
    return {
        "longitude": round((minx + maxx) / 2, 4),
        "latitude": round(math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2), 4),
        "zoom": round(max(min(zoom, 11.0), 3.5), 2),
        "pitch": 0,
        "bearing": 0,
    }


def tooltip(measure: pd.Series) -> dict:
    """The map's tooltip: the measure's name is written once here, not into each of 1,741 features."""
    # deck.gl fills {n} and {v} from the feature; braces in the name itself would be read as fields
    title = html.escape(str(measure["short_title"])).replace("{", "（").replace("}", "）")
    return {"html": f"<b>{{n}}</b><br/>{title}: {{v}}", "style": TOOLTIP_STYLE}


def deck_spec(
    frame: pd.DataFrame, colours: list[list[int]], geometry: Geometry, view: dict, selected: str | None = None
) -> str:
    """The deck.gl JSON spec as text. ``frame``: code, tip_name, tip_text, lat, lng (one row per
    municipality drawn, in the order of ``colours``). Shapes come as cached text."""
    features, points, highlight = [], [], []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for (code, name, value, lat, lng), rgb in zip(
        frame[["code", "tip_name", "tip_text", "lat", "lng"]].itertuples(index=False, name=None), colours
    ):
        props = {"c": code, "n": name, "v": value, "f": [*rgb, FILL_ALPHA]}
        shape = geometry.shapes.get(code)
        if shape is not None:
            feature = f'{{"type":"Feature","geometry":{shape},"properties":{dumps(props)}}}'
            features.append(feature)
            if code == selected:
                highlight.append(feature)
        elif not (pd.isna(lat) or pd.isna(lng)):
            points.append(dumps({**props, "p": [round(float(lng), 4), round(float(lat), 4)]}))
    layers = [SEA_LAYER]
    if features:
        layers.append(
            '{"@@type":"GeoJsonLayer","id":"%s","data":{"type":"FeatureCollection","features":[%s]},'  # noqa: UP031 - JSON braces
            '"pickable":true,"stroked":%s,"filled":true,"autoHighlight":true,"highlightColor":[255,255,255,110],'
            '"getFillColor":"@@=properties.f","getLineColor":[255,255,255,170],"lineWidthUnits":"pixels",'
            '"getLineWidth":0.4}'
            % (LAYER_POLYGONS, ",".join(features), "true" if len(features) <= OUTLINE_MAX_FEATURES else "false")
        )
    if highlight:
        layers.append(
            '{"@@type":"GeoJsonLayer","id":"selected","data":{"type":"FeatureCollection","features":[%s]},'  # noqa: UP031
            '"pickable":false,"stroked":true,"filled":false,"getLineColor":[17,24,39,255],"lineWidthUnits":"pixels",'
            '"getLineWidth":2.5,"lineWidthMinPixels":2.5}' % ",".join(highlight)
        )
    if points:
        layers.append(
            '{"@@type":"ScatterplotLayer","id":"%s","data":[%s],"pickable":true,"autoHighlight":true,'  # noqa: UP031
            '"getPosition":"@@=p","getFillColor":"@@=f","getRadius":%s,"radiusUnits":"pixels",'
            '"stroked":true,"getLineColor":[55,65,81,255],"lineWidthUnits":"pixels","getLineWidth":0.8}'
            % (LAYER_POINTS, ",".join(points), 3.5 if features else 3)
        )
    return '{"initialViewState":%s,"mapStyle":%s,"layers":[%s]}' % (  # noqa: UP031 - JSON braces
        json.dumps(view),
        json.dumps(MAP_STYLE),
        ",".join(layers),
    )


class SpecDeck(pdk.Deck):
    """A pydeck Deck whose JSON is a spec built beforehand (compact, shapes spliced in as text)."""

    def __init__(self, spec: str, tooltip: dict):
        super().__init__(layers=[], map_provider=None, map_style=None, tooltip=tooltip)
        self._spec = spec

    def to_json(self) -> str:
        return self._spec


def map_frame(values: pd.DataFrame, municipalities: pd.DataFrame, measure: pd.Series) -> pd.DataFrame:
    """Join a measure's values onto the municipalities drawn and write the tooltip texts: tip_name
    (prefecture and name), tip_text (the value as shown), tip_value (the measure's name and the value).
    ``municipalities``: code, pref_name, name, lat, lng; ``values``: code, value, label."""
    frame = municipalities[["code", "pref_name", "name", "lat", "lng"]].merge(values, on="code", how="left")
    frame["tip_name"] = frame["pref_name"] + " " + frame["name"]
    kind, unit = measure["kind"], measure["unit"]
    frame["tip_text"] = [
        style.format_value(v, kind, unit, label) for v, label in zip(frame["value"], frame["label"].astype("object"))
    ]
    frame["tip_value"] = f"{measure['short_title']}: " + frame["tip_text"]
    return frame


def build_deck(
    frame: pd.DataFrame,
    measure: pd.Series,
    geometry: Geometry,
    national: bool,
    height: int,
    selected: str | None = None,
    category_order: list[str] | None = None,
) -> tuple[SpecDeck, Colouring]:
    colouring = colour_measure(frame, measure, category_order)
    spec = deck_spec(frame, colouring.rgb, geometry, view_state(frame, geometry, national, height), selected)
    return SpecDeck(spec, tooltip(measure)), colouring


def picked_code(state) -> str | None:
    """The municipality code a click selected (pydeck selection state), or None."""
    if not state:
        return None
    objects = (state.get("selection") or {}).get("objects") or {}
    for layer in (LAYER_POLYGONS, LAYER_POINTS):
        for obj in objects.get(layer) or []:
            props = obj.get("properties", obj) if isinstance(obj, dict) else {}
            if props.get("c"):
                return str(props["c"])
    return None


def export_figure(
    frame: pd.DataFrame, measure: pd.Series, geometry: Geometry, title: str, category_order: list[str] | None = None
) -> go.Figure:
    """A plotly choropleth of the same data for export (PNG/PowerPoint): a colour bar in the
    measure's unit (or one legend entry per category), 「データなし」 in grey as its own legend
    entry, points for municipalities without a polygon, the view fitted to the municipalities."""
    kind, unit = measure["kind"], measure["unit"]
    has_shape = frame["code"].isin(list(geometry.shapes))
    shapes = frame[has_shape]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code}, "geometry": json.loads(geometry.shapes[code])}
            for code in shapes["code"]
        ],
    }
    fig = go.Figure()
    categorical = kind in ("binary", "category")
    labels = frame["label"].astype("object").where(frame["label"].notna(), style.MISSING_LABEL)
    if categorical:
        order = category_order or (
            list(BINARY_ORDER) if kind == "binary" else sorted(set(labels) - {style.MISSING_LABEL})
        )
        groups = [c for c in order if c != style.MISSING_LABEL] + [style.MISSING_LABEL]
        colours = style.category_colours(groups)
    else:
        groups = (
            ["値"]
            + ([style.NOT_ANSWERED_LABEL] if (labels == style.NOT_ANSWERED_LABEL).any() else [])
            + [style.MISSING_LABEL]
        )
        diverging = bool(measure["diverging"])
        lo, hi = style.value_range(frame["value"], kind, measure["domain_min"], measure["domain_max"], diverging)
        scale = style.DIVERGING if diverging else style.SEQUENTIAL
    for group in groups:
        if categorical:
            members = labels == group
        else:
            unanswered = (labels == style.NOT_ANSWERED_LABEL).to_numpy()
            members = (
                frame["value"].notna()
                if group == "値"
                else pd.Series(unanswered, index=frame.index)
                if group == style.NOT_ANSWERED_LABEL
                else frame["value"].isna() & ~unanswered
            )
        part = frame[members & has_shape]
        colour = (
            colours[group]
            if categorical
            else (style.NOT_ANSWERED_HEX if group == style.NOT_ANSWERED_LABEL else style.MISSING_HEX)
        )
        text = part["tip_name"] + "<br>" + part["tip_value"]
        if len(part) and not categorical and group == "値":
            fig.add_trace(
                go.Choropleth(
                    geojson=collection,
                    locations=part["code"],
                    z=part["value"],
                    featureidkey="properties.code",
                    colorscale=scale,
                    reversescale=measure["polarity"] == "lower_is_better",
                    zmin=lo,
                    zmax=hi,
                    marker_line_color="white",
                    marker_line_width=0.3,
                    text=text,
                    hoverinfo="text",
                    colorbar={"title": {"text": style.unit_label(kind, unit)}, "thickness": 14},
                    name=measure["short_title"],
                )
            )
        elif len(part):
            fig.add_trace(
                go.Choropleth(
                    geojson=collection,
                    locations=part["code"],
                    z=[1] * len(part),
                    featureidkey="properties.code",
                    colorscale=[[0, colour], [1, colour]],
                    showscale=False,
                    showlegend=True,
                    name=str(group),
                    marker_line_color="white",
                    marker_line_width=0.3,
                    text=text,
                    hoverinfo="text",
                )
            )
        points = frame[members & ~has_shape & frame["lat"].notna()]
        if len(points):
            if categorical or group != "値":
                marker = {"size": 7, "color": colour}
            else:
                marker = {
                    "size": 7,
                    "color": points["value"],
                    "colorscale": scale,
                    "cmin": lo,
                    "cmax": hi,
                    "reversescale": measure["polarity"] == "lower_is_better",
                }
            fig.add_trace(
                go.Scattergeo(
                    lon=points["lng"],
                    lat=points["lat"],
                    mode="markers",
                    showlegend=False,
                    name=str(group),
                    marker={**marker, "line": {"width": 0.6, "color": "#374151"}},
                    text=points["tip_name"] + "<br>" + points["tip_value"],
                    hoverinfo="text",
                )
            )
    fig.update_geos(fitbounds="locations", visible=False)
    fig.update_layout(
        title={"text": title, "x": 0.01},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        height=620,
        font={"family": style.FONT_FAMILY},
        legend={"orientation": "h", "y": -0.02},
    )
    return fig
