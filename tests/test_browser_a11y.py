"""Accessibility in a real browser (JIS X 8341-3:2016 AA = WCAG 2.0 AA; docs/ACCESSIBILITY.md): axe-core
(the copy that the axe-playwright-python package ships) checks every page, each tab of 比較・分析, the カルテ
and 会議モード, for 全国 and for 兵庫県, with the rules of WCAG 2.0/2.1 A and AA and axe's best practices.
No critical or serious violation is allowed, nor a heading out of order or a page language other than ja.
Streamlit's own remaining findings are minor and listed, with their upstream issues, in
docs/ACCESSIBILITY.md; none is excluded here. The results go to artifacts/accessibility/ (git-ignored).
Server, browser and helpers are those of tests/test_browser.py."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import test_browser
from test_browser import (  # noqa: F401 (fixtures)
    HYOGO,
    ROOT,
    assert_no_error,
    browser,
    browser_db,
    choose,
    context,
    remaining,
    server,
    settle,
)

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
TEST_BUDGET_SECONDS = 150
pytestmark = pytest.mark.timeout(TEST_BUDGET_SECONDS + 30)
REPORTS = ROOT / "artifacts" / "accessibility"
DOC = ROOT / "docs" / "ACCESSIBILITY.md"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
FAILING_IMPACTS = {"critical", "serious"}
# moderate in axe, but named by the issue: headings in order and the page's language
ALWAYS_FAILING_RULES = {"heading-order", "html-has-lang", "html-lang-valid", "valid-lang"}
COMPARE_TABS = ("散布図", "人口規模別の分布", "クロス集計（兵庫県方式）", "団体 × 指標ヒートマップ", "比較セット")
PAGES = ("", "karte", "progress", "support", "data")
SCOPES = {"全国": "", "兵庫県": f"pref={HYOGO}"}


@pytest.fixture(autouse=True)
def test_clock():
    """Each test here has its own time budget (test_browser's clock counts per module)."""
    test_browser._clock["started"] = time.monotonic() - (test_browser.MODULE_BUDGET_SECONDS - TEST_BUDGET_SECONDS)
    yield


@pytest.fixture(scope="module")
def axe():
    return axe_module.Axe()


def failures(violations: list[dict]) -> list[str]:
    lines = []
    for violation in violations:
        if violation["impact"] not in FAILING_IMPACTS and violation["id"] not in ALWAYS_FAILING_RULES:
            continue
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} — "
                f"{' '.join(map(str, node['target']))}: {node['html'][:200]}"
            )
    return lines


def open_expanders(page) -> None:
    """Open every collapsed expander on screen (the tables behind the charts) so that axe checks them too."""
    page.evaluate("""() => document.querySelectorAll('[data-testid="stExpander"] details:not([open]) > summary')
                          .forEach(summary => { if (summary.offsetParent) summary.click(); })""")
    page.wait_for_timeout(300)
    settle(page)


def check(page, axe, name: str, found: dict) -> None:
    """axe on what the page shows now; the failing nodes are collected under ``name``."""
    assert_no_error(page)
    assert page.evaluate("() => document.documentElement.lang") == "ja", f"{name}: the page's language is not ja"
    violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8")
    found[name] = failures(violations)


def visit(page, url: str) -> None:
    page.goto(url)
    settle(page)
    page.wait_for_timeout(300)


def report(found: dict) -> str:
    return "\n".join(f"[{name}] {line}" for name, lines in found.items() for line in lines)


@pytest.mark.parametrize("scope", list(SCOPES))
def test_every_page_has_no_serious_violation(context, server, axe, scope):
    page = context.new_page()
    found: dict[str, list[str]] = {}
    query = SCOPES[scope]
    for path in PAGES:
        visit(page, f"{server}/{path}?{query}")
        open_expanders(page)
        check(page, axe, f"{scope}_{path or 'overview'}", found)
    for tab in COMPARE_TABS:
        visit(page, f"{server}/compare?{query}&cm_tab={quote(tab)}")
        open_expanders(page)
        check(page, axe, f"{scope}_compare_{tab}", found)
    assert not any(found.values()), f"accessibility violations:\n{report(found)}"
    assert len(found) == len(PAGES) + len(COMPARE_TABS)


def test_meeting_mode_has_no_serious_violation(context, server, axe):
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for scope, query in SCOPES.items():
        for slide in (1, 2, 3):
            page.goto(f"{server}/?mode=meeting&slide={slide}&{query}")
            page.wait_for_url(f"**slide={slide}**", timeout=min(30.0, remaining()) * 1000)
            settle(page)
            page.locator('[data-testid="stPlotlyChart"], [data-testid="stDataFrame"]').first.wait_for(
                timeout=min(30.0, remaining()) * 1000
            )
            check(page, axe, f"{scope}_meeting_{slide}", found)
    assert not any(found.values()), f"accessibility violations:\n{report(found)}"


def test_conformance_statement_is_there():
    """docs/ACCESSIBILITY.md carries the items of the 総務省 guideline's statement and names the
    upstream issue of every Streamlit finding it lists."""
    text = DOC.read_text(encoding="utf-8")
    for item in ("JIS X 8341-3:2016", "目標とする適合レベル", "対象範囲", "試験日", "試験方法", "既知の例外"):
        assert item in text, f"docs/ACCESSIBILITY.md lacks {item}"
    for issue in ("streamlit/streamlit/issues/1353", "streamlit/streamlit/issues/13500"):
        assert issue in text


FOCUSED = r"""() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e), box = e.getBoundingClientRect();
  const text = (e.innerText || '').replace(/\s+/g, ' ').trim();
  // a region that takes the focus (the main area after 「Skip to main content」) is named by its tag, not its text
  const name = e.getAttribute('aria-label') || (text.length <= 80 ? text : '') || e.getAttribute('title')
    || e.tagName.toLowerCase();
  return {name, role: e.getAttribute('role') || e.tagName.toLowerCase(), visible: box.width > 0 && box.height > 0,
          ring: e.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""


def walk(page, wanted: list[str], limit: int = 160) -> list[dict]:
    """Tab through the page from the top until every wanted control had the focus (or ``limit``
    presses); each stop must show a focus ring."""
    stops, missing = [], list(wanted)
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None:
            continue
        stops.append(stop)
        assert stop["visible"] and stop["ring"], f"the focus on {stop} is not visible"
        missing = [name for name in missing if name not in stop["name"]]
        if not missing:
            break
    assert not missing, f"the keyboard does not reach {missing}; it went through {[s['name'][:30] for s in stops]}"
    return stops


def test_keyboard_reaches_every_control_with_a_visible_focus(context, server):
    page = context.new_page()
    visit(page, f"{server}/?pref={HYOGO}")
    stops = walk(
        page,
        [
            "都道府県",
            "地域区分",
            "人口規模",
            "団体区分",
            "指標",
            "比較セット",
            "会議モード",
            "市町村カルテ",
            "比較・分析",
            "データ管理",
            "地図の団体を名前で選ぶ",
            "地図の値を表で見る",
            "この指標の値（CSV）",
            "表で見る",
            "グラフ（PNG）",
            "会議資料（PPTX）",
        ],
    )
    # Shift+Tab goes back one stop
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUSED)["name"] == stops[-2]["name"]

    # the map's list: type a name, Enter, and the municipality opens as a click on the map does
    page.get_by_role("combobox", name="地図の団体を名前で選ぶ（地図をクリックするのと同じ）").focus()
    choose(page, "姫路市")
    page.wait_for_timeout(200)
    settle(page)
    opener = page.get_by_role("button", name="この団体のカルテを開く")
    opener.wait_for(timeout=min(20.0, remaining()) * 1000)
    assert page.locator("h2").filter(has_text="姫路市（兵庫県）").count() == 1
    opener.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    settle(page)
    assert page.locator("h1", has_text="市町村カルテ").count() == 1
    assert (
        page.locator('[data-testid="stMarkdown"]').filter(has_text="支援優先度").first.inner_text().startswith("姫路市")
    )

    # tabs: reached by Tab, the next one by an arrow key, opened by Enter
    visit(page, f"{server}/compare?pref={HYOGO}")
    walk(page, ["散布図"])
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED)["name"] == "人口規模別の分布"
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    settle(page)
    assert page.get_by_role("tab", name="人口規模別の分布").get_attribute("aria-selected") == "true"

    # 会議モード: the slide controls
    visit(page, f"{server}/?mode=meeting&pref={HYOGO}")
    walk(page, ["次へ", "都道府県・資料", "会議モードを終了", "表で見る"], limit=40)
    assert_no_error(page)


def test_kpi_cards_fit_a_1366_screen(browser, server):
    """At 1366×768 (the common office laptop) no KPI label, value or delta is cut; screenshots at
    1366×768 and 1920×1080 go to artifacts/screenshots/ for a look."""
    cut = r"""() => [...document.querySelectorAll('[data-testid="stMetric"] p')]
        .filter(p => p.scrollWidth > p.clientWidth + 1 || getComputedStyle(p).textOverflow === 'ellipsis'
                     && p.scrollWidth > p.clientWidth).map(p => p.textContent)"""
    shots = ROOT / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 768), (1920, 1080)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
        try:
            page = context.new_page()
            for path in ("karte", "", "progress"):
                visit(page, f"{server}/{path}?pref={HYOGO}")
                assert page.locator('[data-testid="stMetric"]').count() >= 3
                assert page.evaluate(cut) == [], f"/{path} at {width}×{height}: cut {page.evaluate(cut)}"
                deltas = page.locator('[data-testid="stMetricDelta"]')
                for index in range(deltas.count()):
                    box, card = (
                        deltas.nth(index).bounding_box(),
                        deltas.nth(index).locator("xpath=ancestor::*[@data-testid='stMetric']").bounding_box(),
                    )
                    assert box["x"] + box["width"] <= card["x"] + card["width"] + 1, f"/{path}: a delta leaves its card"
                page.screenshot(path=str(shots / f"kpi_{path or 'overview'}_{width}x{height}.png"))
        finally:
            context.close()
