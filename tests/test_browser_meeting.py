"""会議モード in a real browser at a projector's 1920×1080 (server, browser and helpers of
tests/test_browser.py): no sidebar or Streamlit header, one chart filling most of the screen, a
title readable from the back of the room, the keyboard steps the slides (arrow keys and a presenter
clicker's PageDown) and the URL follows, nothing is fetched from outside. Every slide of the default
deck fits 1366×768 and 1920×1080 without scrolling (title, whole chart, sentences, 出典／調査時点 line,
前へ/次へ). Screenshots go to artifacts/screenshots/ (git-ignored) for a look."""

from __future__ import annotations

import shutil
import time
from urllib.parse import quote

import pytest
import test_browser
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
# a meeting room's projector (1366×768) and a full-HD screen
SCREENS = ((1366, 768), (1920, 1080))
SCROLL_TOLERANCE_PX = 2
FIT_BUDGET_SECONDS = 110  # each scope's 8 slides at both sizes (about 35 s on an idle machine)
# the slide's parts from top to bottom; each lies inside the screen, below the one before
SLIDE_PARTS = (
    ("title", "h1"),
    ("chart", '[data-testid="stPlotlyChart"]'),
    ("sentences", ".st-key-mt_commentary"),
    ("出典／調査時点", ".st-key-mt_footer"),
    ("前へ", ".st-key-mt_previous"),
    ("次へ", ".st-key-mt_next"),
)
MEASURE_SLIDE = """(parts) => {
  const boxes = {};
  for (const [name, selector] of parts) {
    const element = document.querySelector(selector);
    if (element) {
      const box = element.getBoundingClientRect();
      boxes[name] = {top: box.top, bottom: box.bottom, left: box.left, right: box.right};
    }
  }
  const svg = document.querySelector('[data-testid="stPlotlyChart"] .main-svg');
  const main = document.querySelector('[data-testid="stMain"]');
  return {
    boxes,
    svgHeight: svg ? svg.getBoundingClientRect().height : null,
    pageScroll: document.scrollingElement.scrollHeight,
    mainScroll: main.scrollHeight,
    mainHeight: main.clientHeight,
    width: innerWidth,
    height: innerHeight,
    footer: (document.querySelector('.st-key-mt_footer') || {}).innerText || '',
  };
}"""


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
    assert "兵庫県" in page.locator(".st-key-mt_header").inner_text()
    assert "調査時点" in page.locator(".st-key-mt_footer").inner_text()
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
    assert deck.name == "カルテ_兵庫県_神戸市.pptx"  # the カルテ opens on 兵庫県's first municipality, 神戸市
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


def assert_slide_fits(page, where: str) -> None:
    """Every part of the slide inside the screen, in order and not overlapping, the chart whole
    (its drawing as high as its frame) and nothing to scroll, neither the page nor Streamlit's main area."""
    found = page.evaluate(MEASURE_SLIDE, [list(part) for part in SLIDE_PARTS])
    boxes, width, height = found["boxes"], found["width"], found["height"]
    missing = {name for name, _ in SLIDE_PARTS} - set(boxes) - {"chart"}
    assert not missing, f"{where}: {missing} not on the slide"
    placed = [(name, boxes[name]) for name, _ in SLIDE_PARTS if name in boxes]
    for name, box in placed:
        assert box["top"] >= 0 and box["bottom"] <= height + 1, f"{where}: {name} outside the screen {box}"
        assert box["left"] >= 0 and box["right"] <= width + 1, f"{where}: {name} outside the screen {box}"
    column = [(name, box) for name, box in placed if name != "次へ"]  # 次へ sits beside 前へ
    for (upper, above), (lower, below) in zip(column, column[1:]):
        assert above["bottom"] <= below["top"] + 1, f"{where}: {upper} runs into {lower} ({above}, {below})"
    if "chart" in boxes:
        chart = boxes["chart"]
        assert chart["bottom"] - chart["top"] >= 0.35 * height, f"{where}: the chart is too small {chart}"
        assert abs(found["svgHeight"] - (chart["bottom"] - chart["top"])) <= 2, f"{where}: the chart is cut"
    assert found["pageScroll"] <= height + SCROLL_TOLERANCE_PX, f"{where}: the page scrolls"
    assert found["mainScroll"] <= found["mainHeight"] + SCROLL_TOLERANCE_PX, f"{where}: the slide scrolls"
    assert "出典" in found["footer"] and "調査" in found["footer"], f"{where}: {found['footer']!r}"


CHART_REDRAWN = """() => {
  const frame = document.querySelector('[data-testid="stPlotlyChart"]');
  const svg = frame && frame.querySelector('.main-svg');
  if (!frame) return true;
  const a = frame.getBoundingClientRect(), b = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return svg && Math.abs(a.width - b.width) <= 2 && Math.abs(a.height - b.height) <= 2;
}"""


@pytest.fixture()
def fit_clock():
    """Each scope of the fit test has its own time budget (test_browser's clock counts per module)."""
    test_browser._clock["started"] = time.monotonic() - (MODULE_BUDGET_SECONDS - FIT_BUDGET_SECONDS)
    yield


@pytest.mark.parametrize("prefecture", ["兵庫県", "北海道", None])
def test_every_slide_fits_the_projector_and_full_hd(context, server, tmp_path, fit_clock, prefecture):
    """Every slide of the default deck, at 1366×768 and 1920×1080, for a prefecture with 41
    municipalities, one with 179 and the nation (47 prefectures)."""
    page = context.new_page()
    name = prefecture or "全国"
    page.goto(f"{server}/?mode=meeting" + (f"&pref={quote(prefecture)}" if prefecture else ""))
    wait_for_text_slide(page, 1)
    total = int(counter(page).split("/")[1])
    shots = []
    for number in range(1, total + 1):
        if number > 1:
            page.keyboard.press("ArrowRight")
            wait_for_text_slide(page, number)
        assert_no_error(page)
        for width, height in SCREENS:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(CHART_REDRAWN, timeout=min(15.0, remaining()) * 1000)
            shots.append(tmp_path / f"meeting_fit_{name}_{number}_{width}x{height}.png")
            page.screenshot(path=str(shots[-1]))
            assert_slide_fits(page, f"{name} slide {number} at {width}×{height}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        shutil.copy(shot, SHOTS / shot.name)


def wait_for_text_slide(page, number: int) -> None:
    """The slide is drawn (a slide may be a message without a chart)."""
    page.wait_for_url(f"**slide={number}**", timeout=min(30.0, remaining()) * 1000)
    settle(page)
    page.wait_for_function(
        "(n) => (document.querySelector('.st-key-mt_counter') || {}).innerText?.trim().startsWith(n + ' /')",
        arg=number,
        timeout=min(30.0, remaining()) * 1000,
    )
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=min(30.0, remaining()) * 1000)
    page.wait_for_timeout(300)  # plotly's first frame
