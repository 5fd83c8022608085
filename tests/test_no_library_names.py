"""Users see Japanese labels, never library names: every page (and a 会議モード slide) rendered in
AppTest, every text an element shows — titles, markdown, captions, labels, help texts, options,
messages, table column names, chart titles, axis titles, legends, hover texts and map tooltips —
is scanned for the names of the libraries the dashboard is built with."""

from __future__ import annotations

import json
import re

import pytest
from test_app_pages import PAGES, open_app

LIBRARY_NAMES = re.compile(
    r"plotly|pydeck|deck\.gl|duckdb|streamlit|pandas|numpy|kaleido|gdal|pyogrio|geopandas|shapely|pyarrow|"
    r"openpyxl|python-pptx|pydantic|authlib|hypothesis|playwright",
    re.IGNORECASE,
)
# the parts of a chart's or a map's definition that are drawn as text
CHART_TEXT_KEYS = {"text", "name", "hovertemplate", "ticktext", "tooltip", "html", "title"}
DATA_ELEMENTS = {"arrow_data_frame", "arrow_table", "dataframe", "table"}
# style sheets and scripts the pages inject are code, not shown text
NOT_SHOWN = re.compile(r"<(style|script)\b.*?</\1>", re.IGNORECASE | re.DOTALL)


def chart_texts(value, key: str | None = None):
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from chart_texts(inner, name)
    elif isinstance(value, list):
        for inner in value:
            yield from chart_texts(inner, key)
    elif isinstance(value, str) and key in CHART_TEXT_KEYS:
        yield value


def shown_texts(node) -> list[str]:
    """What the elements under ``node`` show: chart and map definitions by their text parts, tables
    by their column names, every other element by all the strings of its message."""
    texts = []
    for child in getattr(node, "children", {}).values():
        texts += shown_texts(child)
    proto, kind = getattr(node, "proto", None), getattr(node, "type", None)
    if proto is None:
        return texts
    if kind in ("plotly_chart", "deck_gl_json_chart"):
        texts += list(chart_texts(json.loads(getattr(proto, "spec", "") or getattr(proto, "json", "") or "{}")))
        texts += [getattr(proto, "alt", "") or ""]
    elif kind in DATA_ELEMENTS:
        texts += [str(column) for column in node.value.columns]
    else:
        texts.append(NOT_SHOWN.sub("", str(proto)))
    return texts


def library_names(at) -> dict[str, str]:
    found = {}
    for text in shown_texts(at._tree):
        match = LIBRARY_NAMES.search(text)
        if match:
            found[match.group(0)] = text[max(0, match.start() - 60) : match.end() + 60]
    return found


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_name_no_library(demo_db, monkeypatch, page):
    at = open_app(monkeypatch, demo_db, page, pref="兵庫県")
    assert not at.exception, [e.message for e in at.exception]
    assert len(shown_texts(at._tree)) > 20, "the page was scanned"
    assert not library_names(at), library_names(at)


@pytest.mark.parametrize("slide", ["1", "2", "6"])
def test_meeting_slides_name_no_library(demo_db, monkeypatch, slide):
    at = open_app(monkeypatch, demo_db, "app_pages/meeting.py", mode="meeting", slide=slide, pref="兵庫県")
    assert not at.exception
    assert not library_names(at), library_names(at)


def test_the_scan_finds_a_library_name():
    """The scan itself: a chart title or a caption naming a library is caught."""
    assert LIBRARY_NAMES.search("エクスポート用の地図（plotly）")
    assert not NOT_SHOWN.sub("", "<style>/* Streamlit's subheader */</style>")
    assert list(chart_texts({"layout": {"title": {"text": "DuckDB の表"}}})) == ["DuckDB の表"]
