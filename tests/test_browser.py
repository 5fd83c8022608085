"""The dashboard in a real browser: `streamlit run app.py` on a free loopback port, driven by
Playwright with Debian's chromium. Every page opens without an error box, the deck.gl map is drawn
on 概要 (from the embedded shapes: no request leaves the machine), a sidebar filter change updates
the URL, and that URL reproduces the view in a fresh browser context. Screenshots (1920×1080) go to
artifacts/screenshots/ (git-ignored). The module stays within about two minutes."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest

from benchmarks.browser import wait_healthy

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
MODULE_BUDGET_SECONDS = 120
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "": "概要",
    "karte": "市町村カルテ",
    "compare": "比較・分析",
    "progress": "進捗",
    "support": "支援計画",
    "data": "データ管理",
}
HYOGO = quote("兵庫県")

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {CHROMIUM} (apt-get install chromium fonts-noto-cjk)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.timeout(MODULE_BUDGET_SECONDS)
_clock: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def module_clock():
    """The module's time budget starts with its first test, not when pytest collects it."""
    _clock["started"] = time.monotonic()
    yield


def remaining() -> float:
    left = MODULE_BUDGET_SECONDS - (time.monotonic() - _clock.get("started", time.monotonic()))
    if left <= 0:
        pytest.fail(f"the browser tests took longer than {MODULE_BUDGET_SECONDS} s")
    return left


@pytest.fixture(scope="module")
def browser_db(tmp_path_factory, demo_db):
    """The demo as a machine with the public files builds it (real shapes, indicators and
    population; synthetic assessment rounds); without ../shared/data, the bare demo."""
    shared = Path(os.environ.get("DX_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not shared.is_dir():
        return demo_db
    from loaders.demo import build_demo

    target = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    build_demo(target, sources=[shared])
    return target


@pytest.fixture(scope="module")
def server(browser_db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DX_DB": str(browser_db)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(f"{base}/", process, timeout=30)
        except (RuntimeError, TimeoutError) as error:
            process.terminate()
            raise RuntimeError(
                f"streamlit did not start: {process.stdout.read().decode(errors='replace')[-2000:]}"
            ) from error
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def context(browser, server):
    """A fresh browser context (no cookies, no session) that records every request it makes."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="ja-JP")
    context.requests = []
    context.on("request", lambda request: context.requests.append(request.url))
    yield context
    context.close()


def settle(page, timeout: float = 60.0) -> float:
    """Wait until the script run has finished (no "Running…" status widget) and everything is drawn;
    returns the seconds until the run finished (the server's rerun as the browser sees it)."""
    started = time.monotonic()
    limit = min(timeout, remaining()) * 1000
    page.wait_for_selector('[data-testid="stApp"]', timeout=limit)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=limit)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=limit)
    waited = time.monotonic() - started
    # elements whose code loads lazily (charts, tables, the map) show a skeleton until drawn
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], '
        '[data-testid="stAppSkeleton"]\')',
        timeout=limit,
    )
    return waited


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def map_colours(page) -> int:
    """Distinct colours in the drawn deck.gl canvas: a map of polygons has many, a blank one ~1."""
    from PIL import Image

    deck = page.locator('[data-testid="stDeckGlJsonChart"]').first
    deck.locator("canvas").first.wait_for(timeout=min(30.0, remaining()) * 1000)
    page.wait_for_timeout(800)  # the first frame of the polygons
    image = Image.open(io.BytesIO(deck.screenshot())).convert("RGB").resize((240, 160))
    return len(image.getcolors(maxcolors=240 * 160))


def test_every_page_renders_and_the_map_is_drawn(context, server):
    page = context.new_page()
    # the first request to the fresh server is a bookmarked page link, not the front page
    page.goto(f"{server}/karte?pref={HYOGO}")
    settle(page)
    assert_no_error(page)
    assert page.locator("h1", has_text="市町村カルテ").count() == 1
    assert "pref=" in page.url
    page.goto(f"{server}/")
    settle(page)
    assert_no_error(page)
    assert page.locator("h1", has_text="概要").count() == 1
    assert page.get_by_text("デモ用の架空データ").first.is_visible()
    assert map_colours(page) > 30, "the choropleth should be drawn in many colours"
    shoot(page, "01_overview_national")
    # a click on the map selects a municipality and its card opens the カルテ. (In software WebGL a
    # click on the national map is slower to pick than deck.gl's tap limit, so click a prefecture.)
    page.goto(f"{server}/?pref={HYOGO}")
    settle(page)
    map_colours(page)
    box = page.locator('[data-testid="stDeckGlJsonChart"]').first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_timeout(300)
    settle(page)
    opener = page.get_by_role("button", name="この団体のカルテを開く")
    opener.wait_for(timeout=min(20.0, remaining()) * 1000)
    picked = page.locator("h2").filter(has_text="（兵庫県）").first.inner_text().split("（")[0]
    shoot(page, "01b_overview_clicked")
    opener.click()
    page.wait_for_timeout(300)
    settle(page)
    assert_no_error(page)
    assert page.locator("h1", has_text="市町村カルテ").count() == 1
    header = page.locator('[data-testid="stMarkdown"]').filter(has_text="支援優先度").first.inner_text()
    assert header.startswith(picked), f"the カルテ should open on {picked}, not {header[:20]}"
    for index, (path, title) in enumerate(PAGES.items(), start=2):
        page.goto(f"{server}/{path}?pref={HYOGO}")
        settle(page)
        assert_no_error(page)
        assert page.locator("h1", has_text=title).count() == 1, f"{path}: title {title} missing"
        if path in ("", "progress"):
            assert map_colours(page) > 10
        shoot(page, f"{index:02d}_{path or 'overview'}_hyogo")
        assert page.get_by_text("Page not found").count() == 0, f"/{path} is not a page"
    foreign = [url for url in context.requests if not url.startswith(server) and not url.startswith(("data:", "blob:"))]
    assert not foreign, f"the dashboard must work offline, but it requested {foreign[:3]}"


def choose(page, text: str) -> None:
    """In the open select box: type ``text``, wait until the list shows a matching option (typing and
    filtering lag under load), then pick it with Enter as a keyboard user does."""
    page.keyboard.type(text)
    page.get_by_role("option").filter(has_text=text).first.wait_for(timeout=min(20.0, remaining()) * 1000)
    page.keyboard.press("Enter")


def test_filter_change_updates_url_and_url_reproduces_view(context, browser, server):
    page = context.new_page()
    page.goto(f"{server}/")
    settle(page)
    timings = {}
    for name, label, choice in (("prefecture", "都道府県", "兵庫県"), ("indicator", "指標", "CIOの任命")):
        box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=label).first
        box.click()
        choose(page, choice)
        page.wait_for_timeout(200)
        timings[name] = round(settle(page), 3)
        assert_no_error(page)
    query = parse_qs(urlparse(page.url).query)
    # the prefecture by its code (ui.links), the indicator by its label
    assert query.get("pref") == ["28"] and query.get("ind") == ["CIOの任命"], page.url
    assert page.get_by_text("兵庫県：41団体").first.is_visible()
    assert page.get_by_text("地図：CIOの任命").first.is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "rerun_seconds.json").write_text(json.dumps(timings, ensure_ascii=False), encoding="utf-8")

    fresh = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="ja-JP")
    try:
        other = fresh.new_page()
        other.goto(page.url)
        settle(other)
        assert_no_error(other)
        assert other.get_by_text("兵庫県：41団体").first.is_visible()
        assert other.get_by_text("地図：CIOの任命").first.is_visible()
        shoot(other, "08_overview_from_url")
    finally:
        fresh.close()


def test_deep_link_to_a_page_with_the_comparison_set(context, server):
    link = (
        f"{server}/compare?pref={HYOGO}&cmp={quote('姫路市（兵庫県）')}&cmp={quote('神戸市（兵庫県）')}"
        f"&cm_tab={quote('比較セット')}"
    )
    page = context.new_page()
    page.goto(link)
    settle(page)
    assert_no_error(page)
    assert page.get_by_text("比較・分析").first.is_visible()
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="比較セット")
    assert "姫路市（兵庫県）" in chips.inner_text() and "神戸市（兵庫県）" in chips.inner_text()
    query = parse_qs(urlparse(page.url).query)
    assert query.get("cmp") == ["282014", "281000"] and query.get("pref") == ["28"], "the old link now reads in codes"
    shoot(page, "09_compare_set")
