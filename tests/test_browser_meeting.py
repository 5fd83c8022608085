"""会議モード in a real browser at a projector's 1920×1080 (server, browser and helpers of
tests/test_browser.py): no sidebar or Streamlit header, one chart filling most of the screen, a
title readable from the back of the room, the keyboard steps the slides (arrow keys and a presenter
clicker's PageDown) and the URL follows, nothing is fetched from outside. Screenshots of three
slides go to artifacts/screenshots/ (git-ignored) for a look."""

from __future__ import annotations

import shutil

import pytest
from test_browser import (  # noqa: F401 (fixtures)
    HYOGO,
    MODULE_BUDGET_SECONDS,
    SHOTS,
    assert_no_error,
    browser,
    browser_db,
    context,
    module_clock,
    remaining,
    server,
    settle,
)

pytestmark = pytest.mark.timeout(MODULE_BUDGET_SECONDS)
WIDTH, HEIGHT = 1920, 1080
MIN_TITLE_PX = 32


def wait_for_slide(page, number: int) -> None:
    page.wait_for_url(f"**slide={number}**", timeout=min(30.0, remaining()) * 1000)
    settle(page)
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=min(30.0, remaining()) * 1000)
    page.wait_for_timeout(500)  # plotly's first frame


def counter(page) -> str:
    return page.locator(".st-key-mt_counter").inner_text().strip()


def test_meeting_mode_on_a_projector(context, server, tmp_path):
    page = context.new_page()
    page.goto(f"{server}/?mode=meeting&pref={HYOGO}")
    wait_for_slide(page, 1)
    assert_no_error(page)
    shots = [tmp_path / "meeting_1.png"]
    page.screenshot(path=str(shots[0]))

    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.count() == 0 or not sidebar.is_visible(), "the filters are hidden"
    for chrome in ("stHeader", "stToolbar"):
        found = page.locator(f'[data-testid="{chrome}"]')
        assert found.count() == 0 or not found.first.is_visible(), f"{chrome} is hidden"
    title_px = float(page.evaluate("() => getComputedStyle(document.querySelector('h1')).fontSize").removesuffix("px"))
    assert title_px >= MIN_TITLE_PX
    box = page.locator('[data-testid="stPlotlyChart"]').first.bounding_box()
    assert box["width"] >= 0.9 * WIDTH and box["height"] >= 0.55 * HEIGHT, box
    assert page.evaluate("() => document.documentElement.scrollHeight") <= HEIGHT + 2, "the slide fits the screen"
    header = page.locator(".st-key-mt_header").inner_text()
    assert "兵庫県" in header and "調査時点" in header
    total = int(counter(page).split("/")[1])
    assert counter(page) == f"1 / {total}" and total >= 3
    assert page.get_by_text("デモ用の架空データ").first.is_visible()
    first_title = page.locator("h1").inner_text()

    page.keyboard.press("ArrowRight")
    wait_for_slide(page, 2)
    assert counter(page) == f"2 / {total}"
    assert page.locator("h1").inner_text() != first_title
    shots.append(tmp_path / "meeting_2.png")
    page.screenshot(path=str(shots[-1]))

    page.keyboard.press("PageDown")  # what a presenter's clicker sends
    wait_for_slide(page, 3)
    assert_no_error(page)
    third_title = page.locator("h1").inner_text()
    shots.append(tmp_path / "meeting_3.png")
    page.screenshot(path=str(shots[-1]))

    page.keyboard.press("ArrowLeft")
    wait_for_slide(page, 2)
    assert counter(page) == f"2 / {total}"

    # the URL reproduces the slide
    page.goto(f"{server}/?mode=meeting&slide=3&pref={HYOGO}")
    wait_for_slide(page, 3)
    assert page.locator("h1").inner_text() == third_title

    assert all(shot.stat().st_size > 20_000 for shot in shots)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        shutil.copy(shot, SHOTS / shot.name)
    foreign = [url for url in context.requests if not url.startswith(server) and not url.startswith(("data:", "blob:"))]
    assert not foreign, f"会議モード must work offline, but it requested {foreign[:3]}"


def test_chart_png_and_karte_pptx_are_built_on_click(context, server, tmp_path):
    """The downloads the pages add for committee papers: a chart as PNG (kaleido, drawn on click)
    and the one-slide カルテ, each opened again."""
    from PIL import Image
    from pptx import Presentation

    page = context.new_page()
    page.goto(f"{server}/?pref={HYOGO}")
    settle(page)
    with page.expect_download(timeout=min(60.0, remaining()) * 1000) as info:
        page.get_by_role("button", name="グラフ（PNG）").first.click()
    png = tmp_path / info.value.suggested_filename
    info.value.save_as(png)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1600, 900)
        assert len(image.convert("RGB").getcolors(maxcolors=1600 * 900)) > 50, "a drawn chart, not a blank image"

    page.goto(f"{server}/karte?pref={HYOGO}")
    settle(page)
    with page.expect_download(timeout=min(60.0, remaining()) * 1000) as info:
        page.get_by_role("button", name="カルテ（PPTX・A4横1枚）").click()
    deck = tmp_path / info.value.suggested_filename
    info.value.save_as(deck)
    assert deck.name == "karte_281000.pptx"  # the カルテ opens on 兵庫県's first municipality, 神戸市
    slides = Presentation(str(deck)).slides
    assert len(slides) == 1
    text = "".join(shape.text_frame.text for shape in slides[0].shapes if shape.has_text_frame)
    assert "神戸市" in text
    assert_no_error(page)


def test_every_slide_control_moves_exactly_one_slide(context, server):
    """A clicker's PageDown/PageUp, the keyboard's →/←/Space and the on-screen 前へ/次へ (by mouse,
    and by Enter/Space on the focused button) each move one slide, never two."""
    page = context.new_page()
    page.goto(f"{server}/?mode=meeting&pref={HYOGO}")
    wait_for_slide(page, 1)
    total = int(counter(page).split("/")[1])
    assert total >= 4
    steps = [
        ("PageDown", lambda: page.keyboard.press("PageDown"), 2),
        ("PageUp", lambda: page.keyboard.press("PageUp"), 1),
        ("Space", lambda: page.keyboard.press("Space"), 2),
        ("→", lambda: page.keyboard.press("ArrowRight"), 3),
        ("←", lambda: page.keyboard.press("ArrowLeft"), 2),
        ("次へ (click)", lambda: page.get_by_role("button", name="次へ").click(), 3),
        ("Space on the focused 次へ", lambda: page.keyboard.press("Space"), 4),
        ("前へ (click)", lambda: page.get_by_role("button", name="前へ").click(), 3),
        ("Enter on the focused 前へ", lambda: page.keyboard.press("Enter"), 2),
    ]
    for name, act, expected in steps:
        act()
        wait_for_slide(page, expected)
        page.wait_for_timeout(600)  # a second step would have started by now
        settle(page)
        assert counter(page) == f"{expected} / {total}", f"{name}: {counter(page)}, expected {expected}"
        assert f"slide={expected}" in page.url, f"{name}: {page.url}"
    assert_no_error(page)
