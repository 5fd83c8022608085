"""会議モード in AppTest on the embedded demo: the URL opens a slide of the default deck for a
prefecture, 前へ/次へ step through it, the slide says where, when and from what, the dashboard's
sidebar is not drawn, and the exit and the sidebar switch lead out of and into the mode."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from test_app_pages import open_app

from metrics import commentary, views
from metrics.dates import measure_dates
from metrics.views import measure_options
from ui.chrome import DEMO_LABEL, plain
from views.render import DEFAULT_DECK, load_deck

DECK = load_deck(DEFAULT_DECK)


def open_meeting(monkeypatch, db: Path, page: str = "app_pages/meeting.py", **query) -> AppTest:
    return open_app(monkeypatch, db, page, **query)


def header(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if not m.value.startswith("<style>")]


def measure(db: Path, measure_id: str):
    with duckdb.connect(str(db), read_only=True) as con:
        options = measure_options(con)
    return options[options["measure_id"] == measure_id].iloc[0]


def slide_of(at: AppTest) -> str:
    return next(m.value for m in at.markdown if " / " in m.value and m.value.split(" / ")[0].isdigit())


@pytest.fixture()
def hyogo(demo_db, monkeypatch):
    """The default deck's third slide (分布 of CIOの任命) for 兵庫県, opened from a link."""
    return open_meeting(monkeypatch, demo_db, mode="meeting", slide="3", pref="兵庫県")


def test_link_opens_the_slide_with_prefecture_as_of_and_source(hyogo, demo_db):
    at = hyogo
    assert not at.exception, [e.message for e in at.exception]
    spec = DECK.views[2]
    assert spec.view == "distribution"
    cio = measure(demo_db, spec.measure)
    assert [t.value for t in at.title] == [plain(f"分布：{cio['title']}")]
    assert slide_of(at) == f"3 / {len(DECK.views)}"
    texts = header(at)
    con = duckdb.connect(str(demo_db), read_only=True)
    dated = measure_dates(con, cio).text()  # 調査時点 per indicator group, from the one date helper
    con.close()
    assert dated.startswith("調査時点 ")
    assert "兵庫県" in texts, texts
    assert DEMO_LABEL in texts
    # 出典 and 調査時点 on the slide's one footer line
    assert any("出典" in t and plain(cio["credit"]) in t and plain(dated) in t for t in texts), texts
    assert len(at.get("plotly_chart")) == 1, "one chart per screen"


def test_commentary_under_the_chart_is_the_computed_one(hyogo, demo_db):
    with duckdb.connect(str(demo_db), read_only=True) as con:
        expected = commentary.measure_commentary(con, DECK.views[2].measure, "28")
    assert 2 <= len(expected) <= 3
    shown = header(hyogo)
    position = shown.index(plain(expected[0]))
    assert shown[position : position + len(expected)] == [plain(s) for s in expected]


def test_dashboard_chrome_is_not_drawn(hyogo):
    at = hyogo
    assert len(at.sidebar) == 0, "no sidebar (filters, source line, switch) in the meeting"
    assert not [w for w in at.warning if DEMO_LABEL in w.value], "the demo banner gives way to the slide's label"
    assert not at.get("expander"), "no credits expander below the slide"
    assert at.selectbox(key="pref").value == "28", "the prefecture is a setting of the meeting, kept in the URL"


def test_next_and_previous_step_through_the_deck(hyogo, demo_db):
    at = hyogo
    at.button(key="mt_next").click().run()
    assert not at.exception
    assert at.query_params["slide"] == "4"
    assert slide_of(at) == f"4 / {len(DECK.views)}"
    assert DECK.views[3].view == "crosstab"
    assert at.title[0].value.startswith(plain("人口規模 × "))
    at.button(key="mt_previous").click().run()
    at.button(key="mt_previous").click().run()
    assert at.query_params["slide"] == "2"
    assert at.title[0].value == plain(f"順位：{measure(demo_db, DECK.views[1].measure)['title']}")
    assert at.query_params["pref"] == "28" and at.query_params["mode"] == "meeting", "the URL names it by code"


def test_clicker_keys_step_too(hyogo):
    at = hyogo
    at.button(key="mt_next_clicker").click().run()
    assert at.query_params["slide"] == "4"
    at.button(key="mt_previous_clicker").click().run()
    assert at.query_params["slide"] == "3"
    at.button(key="mt_next_space").click().run()
    assert at.query_params["slide"] == "4"


@pytest.mark.parametrize("slide, shown", [("99", None), ("abc", 1), ("0", 1)])
def test_slide_number_out_of_range_is_kept_in_the_deck(demo_db, monkeypatch, slide, shown):
    shown = shown or len(DECK.views)
    at = open_meeting(monkeypatch, demo_db, mode="meeting", slide=slide, pref="兵庫県")
    assert not at.exception
    assert at.query_params["slide"] == str(shown)
    assert slide_of(at) == f"{shown} / {len(DECK.views)}"
    assert at.button(key="mt_next").disabled == (shown == len(DECK.views))
    assert at.button(key="mt_previous").disabled == (shown == 1)


def test_changing_the_prefecture_starts_the_deck_again(hyogo):
    at = hyogo
    at.selectbox(key="pref").select("13").run()
    assert not at.exception
    assert at.selectbox(key="pref").value == "13" and at.query_params["slide"] == "1"
    assert any(t.startswith("東京都") for t in header(at))


def test_exit_returns_to_the_dashboard_with_the_prefecture(hyogo):
    at = hyogo
    at.button(key="mt_exit").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["概要"]
    assert "mode" not in at.query_params and "slide" not in at.query_params
    assert at.selectbox(key="pref").value == "28", "the sidebar takes the meeting's prefecture"


def test_sidebar_switch_enters_the_mode(demo_db, monkeypatch):
    at = open_meeting(monkeypatch, demo_db, "app_pages/karte.py", pref="兵庫県")
    assert at.toggle(key="mt_switch").value is False
    at.toggle(key="mt_switch").set_value(True).run()
    assert not at.exception
    assert at.query_params["mode"] == "meeting" and at.query_params["slide"] == "1"
    assert slide_of(at) == f"1 / {len(DECK.views)}"
    assert any(t.startswith("兵庫県") for t in header(at))


def test_another_deck_and_a_broken_one(demo_db, monkeypatch, tmp_path):
    (tmp_path / "short.yaml").write_text(
        "title: 短い資料\nviews:\n  - view: priority\n  - view: stage_field\n", encoding="utf-8"
    )
    (tmp_path / "broken.yaml").write_text("title: 壊れた資料\nviews:\n  - view: pie_chart\n", encoding="utf-8")
    monkeypatch.setattr("ui.meeting.DECK_DIR", tmp_path)
    at = open_meeting(monkeypatch, demo_db, mode="meeting", pref="兵庫県", deck="短い資料")
    assert not at.exception
    menu = at.selectbox(key="deck")
    assert menu.options == ["broken.yaml（誤りがあり読めません）", "短い資料"]
    assert slide_of(at) == "1 / 2"
    assert at.title[0].value == "支援優先度と推奨する支援"
    menu.select("broken").run()
    assert not at.exception
    assert any("pie_chart" in e.value and "broken.yaml" in e.value for e in at.error), "the mistake is named"


# ---- the hooks on the dashboard's pages: commentary under the charts, downloads built on demand


def test_pages_carry_the_commentary_and_build_files_only_when_asked(demo_db, monkeypatch):
    drawn = []
    monkeypatch.setattr("exports.images.figure_png", lambda *args, **kwargs: drawn.append(args) or b"")
    at = open_meeting(monkeypatch, demo_db, "app_pages/overview.py", pref="兵庫県")
    assert not at.exception
    with duckdb.connect(str(demo_db), read_only=True) as con:
        expected = {
            "map": commentary.measure_commentary(con, "composite", "28"),
            "bands": commentary.crosstab_commentary(con, "composite", "28"),
            # under the chart of the prefectures: the prefectures, not 兵庫県's municipalities
            "ranking": commentary.prefecture_ranking_sentences(
                views.measure_options(con).set_index("measure_id", drop=False).loc["composite"],
                views.measure_ranking(con, "composite"),
                "28",
            ),
        }
    shown = [m.value for m in at.markdown]
    for part, sentences in expected.items():
        assert "".join(plain(s) for s in sentences) in shown, part
    assert "兵庫県" in expected["map"][0] and "47都道府県中" in expected["map"][1]
    labels = [b.label for b in at.get("download_button")]
    # the deck is built by its own button (with a progress bar, tests/test_deck_progress.py)
    assert labels.count("グラフ（PNG）") == 2 and "会議資料（PPTX）" in [b.label for b in at.button]
    assert drawn == [], "no chart is rendered to PNG until its button is pressed"

    at.switch_page("app_pages/support.py").run()
    assert not at.exception
    assert any(m.value.startswith(plain("兵庫県でアセスメントに回答した41団体のうち")) for m in at.markdown)
    at.switch_page("app_pages/karte.py").run()
    assert "カルテ（PPTX・A4横1枚）" in [b.label for b in at.get("download_button")]


def test_progress_commentary_counts_the_selection(demo_db, monkeypatch):
    at = open_meeting(monkeypatch, demo_db, "app_pages/progress.py", pref="兵庫県")
    assert not at.exception
    counts = {label: next(m.value for m in at.metric if m.label == label) for label in ("改善", "停滞", "後退")}
    sentence = next(m.value for m in at.markdown if m.value.startswith(plain("兵庫県のアセスメント総合得点")))
    assert plain(f"改善{counts['改善']}") in sentence and plain(f"停滞{counts['停滞']}") in sentence
    assert plain(f"後退{counts['後退']}") in sentence and "比べられる41団体" in sentence


def test_names_from_the_data_are_shown_as_text():
    shown = plain("<script>alert(1)</script> **太字** :red[赤] [link](javascript:x) $x$ &lt;")
    assert "<" not in shown.replace("\\<", "") and "[" not in shown.replace("\\[", "")
    assert shown.replace("\\", "") == "<script>alert(1)</script> **太字** :red[赤] [link](javascript:x) $x$ &lt;"
