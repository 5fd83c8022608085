"""No raw id on any surface: every page (AppTest), the committee deck (python-pptx text and the
figures drawn on its slides) and the カルテ export, on the demo database (which has assessment
rounds), show rounds by their label (survey_rounds.label), indicators by their title and sources
by their title — never a round_id (2026-baseline), an indicator id (da_cio) or a source id
(digital_agency_municipal)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest
from test_app_pages import open_app

from exports import images
from exports.karte import build_karte
from exports.pptx_deck import build_deck
from views.render import load_deck

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "app_pages/overview.py",
    "app_pages/karte.py",
    "app_pages/compare.py",
    "app_pages/progress.py",
    "app_pages/support.py",
    "app_pages/data.py",
]
# proto fields that are not shown: widget ids, URL keys, file handles, icons, element kinds
HIDDEN_FIELDS = {
    "id",
    "query_param_key",
    "form_id",
    "deferred_file_id",
    "url",
    "icon",
    "type",
    "theme",
    "tag",
    "element_type",
    "format",
}
# データ管理's survey-template form asks the administrator to name a new round: an identifier by design
ID_INPUTS = {"dm_round"}

needs_browser = pytest.mark.skipif(
    images.chromium_path() is None, reason="Chromium がないためグラフの画像を作れません（CI は chromium を入れます）"
)


@pytest.fixture(scope="module")
def store(demo_db, tmp_path_factory) -> Path:
    """The demo database under a neutral file name (the sidebar shows the file's name)."""
    target = tmp_path_factory.mktemp("ids") / "dashboard.duckdb"
    shutil.copy(demo_db, target)
    return target


@pytest.fixture(scope="module")
def real_store(real_db, tmp_path_factory) -> Path:
    """The build of ../shared/data (no assessment rounds; an ingest log of real files)."""
    target = tmp_path_factory.mktemp("ids_real") / "dashboard.duckdb"
    shutil.copy(real_db, target)
    return target


def _id_pattern(path: Path) -> tuple[re.Pattern, set[str]]:
    """Every round, indicator and source id of a store, as whole words."""
    with duckdb.connect(str(path), read_only=True) as con:
        ids = [r for (r,) in con.execute("SELECT round_id FROM survey_rounds").fetchall()]
        ids += [i for (i,) in con.execute("SELECT id FROM indicators").fetchall()]
        ids += [s for (s,) in con.execute("SELECT id FROM sources").fetchall()]
    words = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_\-])({words})(?![A-Za-z0-9_\-])"), set(ids)


@pytest.fixture(scope="module")
def raw_ids(store) -> re.Pattern:
    pattern, ids = _id_pattern(store)
    assert {"2026-baseline", "2026-evaluation", "da_cio", "digital_agency_municipal"} <= ids
    return pattern


@pytest.fixture(scope="module")
def real_ids(real_store) -> re.Pattern:
    pattern, ids = _id_pattern(real_store)
    assert {"da_cio", "population_juki", "digital_agency_municipal", "juki_population"} <= ids
    return pattern


def _strings(value) -> list[str]:
    """The texts in a figure's JSON (titles, ticks, hover texts, annotations, map tooltips)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _proto_texts(message) -> list[str]:
    texts = []
    for field, value in message.ListFields():
        if field.name in HIDDEN_FIELDS:
            continue
        items = value if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else [value]
        for item in items:
            if isinstance(item, str):
                if field.name in ("spec", "json"):  # plotly and pydeck figures
                    texts += _strings(json.loads(item))
                else:
                    texts.append(item)
            elif hasattr(item, "ListFields"):
                texts += _proto_texts(item)
    return texts


def visible_texts(at: AppTest) -> list[str]:
    """All text a user can see on the page: element and widget texts, options as shown, help,
    table cells and headers, figure texts."""
    texts = []

    def walk(node):
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)
        if getattr(node, "type", None) == "dataframe":
            frame = node.value
            texts.extend(str(c) for c in frame.columns)
            texts.extend(str(v) for v in frame.astype(str).to_numpy().ravel())
            return
        if getattr(node, "key", None) in ID_INPUTS:
            return
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            texts.extend(_proto_texts(proto))

    walk(at._tree)
    # markdown shows 2026\\-evaluation as 2026-evaluation (ui.chrome.plain escapes data texts)
    return [re.sub(r"\\(.)", r"\1", text) for text in texts]


def _leaks(texts: list[str], pattern: re.Pattern) -> list[str]:
    return sorted({f"{m.group(1)} in 「{t[:120]}」" for t in texts for m in [pattern.search(t)] if m})


@pytest.mark.parametrize(
    "page, query",
    [
        *[(page, {}) for page in PAGES],
        # the survey measures: the header's as-of line names the round, the change measure both rounds
        ("app_pages/overview.py", {"ind": "アセスメント総合得点", "pref": "兵庫県"}),
        ("app_pages/overview.py", {"ind": "アセスメント総合得点の変化（当初→評価）"}),
        ("app_pages/overview.py", {"ind": "成熟度レベル（0〜4）", "band": ["5万未満"]}),
        ("app_pages/progress.py", {"pref": "和歌山県", "pr_part": "分野「BPR」"}),
        ("app_pages/karte.py", {"pref": "兵庫県"}),
        ("app_pages/meeting.py", {"mode": "meeting", "pref": "兵庫県", "slide": "5"}),
        ("app_pages/meeting.py", {"mode": "meeting", "slide": "6"}),
        ("app_pages/meeting.py", {"mode": "meeting", "pref": "兵庫県", "slide": "7"}),
    ],
)
def test_pages_show_no_raw_ids(store, raw_ids, monkeypatch, page, query):
    at = open_app(monkeypatch, store, page, **query)
    assert not at.exception, [e.message for e in at.exception]
    texts = visible_texts(at)
    assert len(texts) > 20
    assert _leaks(texts, raw_ids) == []


@pytest.mark.parametrize("page", PAGES)
def test_pages_of_the_real_files_show_no_raw_ids(real_store, real_ids, monkeypatch, page):
    """The real build: its ingest log names loaders and results in Japanese, the fetch plan sources by title."""
    at = open_app(monkeypatch, real_store, page)
    assert not at.exception, [e.message for e in at.exception]
    assert _leaks(visible_texts(at), real_ids) == []


def test_the_check_sees_what_a_page_shows(store, raw_ids, monkeypatch):
    """The collector reads captions, sentences, options and table cells: a round's label it finds,
    and an id written anywhere it reads would be reported."""
    at = open_app(monkeypatch, store, "app_pages/progress.py")
    texts = visible_texts(at)
    assert any("2026年度 評価（年度末）" in t for t in texts)  # a round label, in options, captions and sentences
    assert any("神戸市" in t for t in texts)  # a table cell
    assert any(
        "2026年度 ベースライン（当初）→2026年度 評価（年度末）" in t for t in texts
    )  # the sentence (escaped markdown)
    assert _leaks(["調査回 2026-evaluation", "da_cio.csv", "出典 digital_agency_municipal"], raw_ids) == [
        "2026-evaluation in 「調査回 2026-evaluation」",
        "da_cio in 「da_cio.csv」",
        "digital_agency_municipal in 「出典 digital_agency_municipal」",
    ]
    assert _leaks(["da_cio_extra", "x2026-baseline"], raw_ids) == []


def _pptx_texts(path: Path) -> list[str]:
    texts = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts.extend(cell.text for row in shape.table.rows for cell in row.cells)
    return texts


@needs_browser
@pytest.mark.parametrize("prefecture", [None, "兵庫県"])
def test_deck_shows_no_raw_ids(store, raw_ids, tmp_path, prefecture):
    with duckdb.connect(str(store), read_only=True) as con:
        summary = build_deck(con, load_deck(), prefecture, tmp_path / "deck.pptx")
    texts = _pptx_texts(summary.path)
    assert any(
        "調査回 2026年度 ベースライン（当初）→2026年度 評価（年度末）" in t for t in texts
    )  # the progress slide's footer
    for result in summary.views:  # the charts drawn on the slides
        if result.figure is not None:
            texts += _strings(result.figure.to_plotly_json())
    assert _leaks(texts, raw_ids) == []


@needs_browser
def test_karte_export_shows_no_raw_ids(store, raw_ids, tmp_path):
    with duckdb.connect(str(store), read_only=True) as con:
        out = build_karte(con, "282014", tmp_path / "karte.pptx")
    texts = _pptx_texts(out)
    footer = next(t for t in texts if "出典" in t)
    assert "2026年度 評価（年度末）" in footer
    assert _leaks(texts, raw_ids) == []
