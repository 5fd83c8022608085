"""Browser cases: the app served by ``streamlit run`` and driven by headless chromium (Playwright).

- cold start: from launching ``streamlit run app.py`` to the overview fully drawn (script run
  finished, the map's canvas on screen and two animation frames later);
- map drawn: on a running server, from navigation to the overview's map drawn;
- memory: the server's peak RSS (VmHWM) while 10 sessions open the app's pages concurrently;
- navigation: a new user (a new browser context) clicks through the top navigation and changes the
  sidebar's 都道府県; each action timed from the click to the page drawn again, p50 of all.

Each has the same measurement of a blank Streamlit page as its floor; the overview's elements and the
pages' elements alone (the specs the app sent, drawn on bare pages) are measured the same way, as the
floor of what the pages draw. Chromium is Debian's
(/usr/bin/chromium, no browser download); without it or Playwright the cases are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.core import ROOT, Result, Run, Samples

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
COLD_START_TARGET_S = 3.0
MAP_DRAWN_TARGET_S = 2.0
RSS_TARGET_MIB = 1024.0
# issue 18: the same cases relative to the blank app measured in the same run
COLD_START_RATIO = 2.0
MAP_DRAWN_RATIO = 2.0
NAVIGATION_RATIO = 1.5
SESSIONS = 10
MAP_ELEMENT = '[data-testid="stDeckGlJsonChart"]'
MAP_CANVAS = f"{MAP_ELEMENT} canvas"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
BLANK_APP = 'import streamlit as st\nst.title("blank")\nst.write("ready")\n'
_URL_PATH = re.compile(r"""url_path\s*=\s*["']([^"']+)["']""")
_TITLE = re.compile(r"""st\.Page\([^)]*title\s*=\s*["']([^"']+)["']""")
NAV_PREFECTURES = ("兵庫県", "宮城県", "北海道")
NATIONAL = "全国"  # the sidebar's 都道府県 before a choice
# the blank app's navigation: two empty pages and the same sidebar selectbox
BLANK_NAV_APP = """
import streamlit as st
choice = st.sidebar.selectbox("都道府県", ["全国", "北海道", "宮城県", "兵庫県"], key="pref")
def first():
    st.title("blank one")
    st.write("ready", choice)
def second():
    st.title("blank two")
    st.write("ready", choice)
pages = [st.Page(first, title="一つ目", default=True), st.Page(second, title="二つ目", url_path="second")]
st.navigation(pages, position="top").run()
"""
BLANK_NAV_TITLES = ("一つ目", "二つ目")
# the server's report that a script run ended, as it reaches the page: a run that starts and ends
# between two renders leaves no trace in the DOM (the script-state attribute never changes), so an
# action is timed to this message (then to the page drawn), on the app and the blank app alike
FINISHED_RUNS = (0, 3)  # ForwardMsg.ScriptFinishedStatus: FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY
SMALL_FRAME = 1024  # a script_finished message is a few bytes; the element deltas are not parsed


class FinishedRuns:
    """Counts the script runs the server reports finished on a page's websocket."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.count = 0
        self._message = ForwardMsg
        page.on("websocket", lambda socket: socket.on("framereceived", self._received))

    def _received(self, payload) -> None:
        if not isinstance(payload, bytes) or len(payload) > SMALL_FRAME:
            return
        message = self._message.FromString(payload)
        if message.WhichOneof("type") == "script_finished" and message.script_finished in FINISHED_RUNS:
            self.count += 1

    def wait_past(self, page, seen: int, timeout_ms: float) -> None:
        """Until more than ``seen`` runs have finished."""
        deadline = time.perf_counter() + timeout_ms / 1000
        while self.count <= seen:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no script run finished within {timeout_ms / 1000:.0f} s")
            page.wait_for_timeout(5)  # lets Playwright deliver the frames


# the overview's own elements with nothing computed: the deck.gl map, the plotly charts and as many
# tables as the page draws, from the specs the app sent in one run (``capture_elements``)
ELEMENTS_APP = """
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from views.maps import SpecDeck

captured = json.loads((Path(__file__).parent / "elements.json").read_text(encoding="utf-8"))
st.title("elements")
for deck in captured["decks"]:
    st.pydeck_chart(SpecDeck(deck["json"], deck["tooltip"]), height=560)
for figure in captured["figures"]:
    st.plotly_chart(figure)
for _ in range(captured["tables"]):
    st.dataframe(pd.DataFrame({"a": range(5), "b": list("abcde")}), hide_index=True)
st.write("ready")
"""


def _app_run(db: Path, app: Path = ROOT / "app.py", page: str | None = None, prefecture: str = NATIONAL):
    """An AppTest run of ``app`` on ``db`` (``DX_DB``, restored after) as a new session opening ``page``
    (the default page when None) with ``prefecture`` chosen in the sidebar; raises if the page failed."""
    from streamlit.testing.v1 import AppTest

    previous = os.environ.get("DX_DB")
    os.environ["DX_DB"] = str(db)
    try:
        at = AppTest.from_file(str(app), default_timeout=120)
        if prefecture != NATIONAL:
            at.query_params["pref"] = prefecture
        if page is not None:
            at.switch_page(page)
        at.run()
    finally:
        if previous is None:
            os.environ.pop("DX_DB", None)
        else:
            os.environ["DX_DB"] = previous
    if at.exception:
        raise RuntimeError(f"{page or app.name} {prefecture}: {at.exception[0].message[:200]}")
    return at


def _drawn_elements(at) -> dict:
    """The maps, charts, tables and metrics an AppTest run drew, as the element pages read them."""
    import json

    return {
        "metrics": [[m.label, m.value] for m in at.metric],
        "decks": [
            {"json": e.proto.json, "tooltip": json.loads(e.proto.tooltip) if e.proto.tooltip else None}
            for e in at.get("deck_gl_json_chart")
        ],
        "figures": [json.loads(e.proto.spec) for e in at.get("plotly_chart")],
        "tables": [frame.value.to_json(orient="split", force_ascii=False) for frame in at.dataframe],
    }


def capture_elements(db: Path, folder: Path) -> Path:
    """The overview as the app draws it for a new session (AppTest, ``DX_DB`` = ``db``), reduced to its
    elements: writes ``elements.json`` and the page that draws them into ``folder``; returns the page."""
    import json

    drawn = _drawn_elements(_app_run(db))
    captured = {"decks": drawn["decks"], "figures": drawn["figures"], "tables": len(drawn["tables"])}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "elements.json").write_text(json.dumps(captured, ensure_ascii=False), encoding="utf-8")
    page = folder / "elements.py"
    page.write_text(ELEMENTS_APP, encoding="utf-8")
    return page


# the app's pages reduced to their elements, for the navigation tour: under the same titles and the
# same sidebar selectbox, each page draws — for the prefecture chosen — the maps, charts, tables and
# metrics the app's page sent in an AppTest run of that state (``capture_navigation_elements``)
ELEMENTS_NAVIGATION_APP = """
import io
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from views.maps import SpecDeck

captured = json.loads((Path(__file__).parent / "navigation.json").read_text(encoding="utf-8"))
choice = st.sidebar.selectbox("都道府県", captured["prefectures"], key="pref")


def draw(title):
    states = captured["pages"][title]
    state = states.get(choice) or next(iter(states.values()))  # the tour visits only captured states
    st.title(title)
    st.caption(choice)
    for label, value in state["metrics"]:
        st.metric(label, value)
    for deck in state["decks"]:
        st.pydeck_chart(SpecDeck(deck["json"], deck["tooltip"]), height=560)
    for figure in state["figures"]:
        st.plotly_chart(figure)
    for table in state["tables"]:
        st.dataframe(pd.read_json(io.StringIO(table), orient="split"), hide_index=True)


titles = list(captured["pages"])
st.navigation(
    [st.Page(lambda t=t: draw(t), title=t, url_path=f"page{i}", default=i == 0) for i, t in enumerate(titles)],
    position="top",
).run()
"""
_PAGE = re.compile(r"""st\.Page\(\s*["']([^"']+)["'][^)]*?title\s*=\s*["']([^"']+)["']""")


def tour_states(titles: list[str]) -> list[tuple[str, str]]:
    """The (page title, sidebar 都道府県) states a new user's tour passes through, in order."""
    page, prefecture = titles[0], NATIONAL
    states = [(page, prefecture)]
    for kind, value in navigation_actions(titles):
        page, prefecture = (value, prefecture) if kind == "navigate" else (page, value)
        if (page, prefecture) not in states:
            states.append((page, prefecture))
    return states


def capture_navigation_elements(db: Path, folder: Path, app: Path = ROOT / "app.py") -> Path:
    """Every state of the navigation tour as the app draws it (AppTest, ``DX_DB`` = ``db``), reduced to its
    maps, charts, tables and metrics: writes ``navigation.json`` and the app that draws them into
    ``folder``; returns the app."""
    import json

    scripts = {title: script for script, title in _PAGE.findall(app.read_text(encoding="utf-8"))}
    titles = page_titles(app)
    pages: dict[str, dict[str, dict]] = {title: {} for title in titles}
    for title, prefecture in tour_states(titles):
        pages[title][prefecture] = _drawn_elements(_app_run(db, app, scripts[title], prefecture))
    folder.mkdir(parents=True, exist_ok=True)
    captured = {"prefectures": [NATIONAL, *NAV_PREFECTURES], "pages": pages}
    (folder / "navigation.json").write_text(json.dumps(captured, ensure_ascii=False), encoding="utf-8")
    script = folder / "elements_navigation.py"
    script.write_text(ELEMENTS_NAVIGATION_APP, encoding="utf-8")
    return script


def available() -> str | None:
    """None when the browser cases can run, else why not."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "chromium is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_kb(pid: int, field: str) -> int | None:
    """A kB field of /proc/PID/status (VmRSS, VmHWM …); None when the process or field is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """Terminate ``process``; kill it if it has not exited after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once the streamlit server at ``url`` (ending in "/") answers its health check; raise
    RuntimeError if ``process`` exits first, TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("streamlit did not become healthy")


class Server:
    """``streamlit run script`` on a free loopback port, with DX_DB pointing at ``db``."""

    def __init__(self, script: Path, db: Path | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        if db is not None:
            env["DX_DB"] = str(db)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(script),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(self.port),
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
                "--server.runOnSave",
                "false",
            ],
            cwd=script.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_healthy(self, timeout: float = 60.0) -> None:
        wait_healthy(self.url, self.process, timeout)

    def peak_rss_mib(self) -> float:
        """VmHWM: the process's peak resident set size so far."""
        peak = status_kb(self.process.pid, "VmHWM")
        if peak is None:
            raise RuntimeError("no VmHWM in /proc status")
        return peak / 1024

    def stop(self) -> None:
        stop_process(self.process, timeout=10)


def _drawn(page, timeout_ms: float) -> bool:
    """Wait until the script run has finished, every element has loaded (no skeleton left), the map
    (if the page has one) shows its canvas, and two animation frames have passed. Returns whether
    the page has a map."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    # elements load their code lazily: a skeleton stands in until it has, the map's included
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms)
    has_map = page.locator(MAP_ELEMENT).count() > 0
    if has_map:
        page.wait_for_selector(MAP_CANVAS, state="visible", timeout=timeout_ms)
    else:
        page.wait_for_selector(
            '[data-testid="stMain"] [data-testid="stElementContainer"]', state="attached", timeout=timeout_ms
        )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return has_map


def _open(browser, url: str, timeout_ms: float) -> tuple[float, bool]:
    """Seconds from navigation to the page drawn (see ``_drawn``), and whether it has a map."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=timeout_ms)
        has_map = _drawn(page, timeout_ms)
        return time.perf_counter() - started, has_map
    finally:
        context.close()


def _cold_started(browser, script: Path, db: Path | None, timeout_ms: float) -> tuple[Server, float, bool]:
    """Start a server and draw its first page: the server (still running), the seconds from launch
    and whether the page has a map."""
    server = Server(script, db)
    try:
        server.wait_healthy()
        _, has_map = _open(browser, server.url, timeout_ms)
        return server, time.perf_counter() - server.started, has_map
    except BaseException:
        server.stop()
        raise


def page_urls(app: Path = ROOT / "app.py") -> list[str]:
    """The url paths of app.py's pages, in menu order."""
    return _URL_PATH.findall(app.read_text(encoding="utf-8")) if app.exists() else []


def _sessions(browser, server: Server, paths: list[str], timeout_ms: float) -> float:
    """Open ``SESSIONS`` sessions at once (pages cycled) and wait until the server has finished every
    session's script run (not for the browser to paint ten maps: the memory is the server's); return
    the server's peak RSS in MiB."""
    contexts, pages = [], []
    try:
        for index in range(SESSIONS):
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
            contexts.append(context)
            page = context.new_page()
            path = paths[index % len(paths)] if paths else ""
            page.goto(server.url + path, wait_until="commit", timeout=timeout_ms)
            pages.append(page)
        for page in pages:
            page.wait_for_selector(IDLE, timeout=timeout_ms)
        return server.peak_rss_mib()
    finally:
        for context in contexts:
            context.close()


def _measure(
    browser, script: Path, db: Path | None, paths: list[str] | None, runs: int, timeout_ms: float
) -> tuple[Samples, Samples, float | None, bool]:
    """Cold starts (``runs`` servers), then on the last, warm server: ``runs`` navigations to the first
    page (new browser context each), then ``SESSIONS`` sessions at once over ``paths`` (none when
    ``paths`` is None). Returns (cold start s, drawn after navigation s, peak RSS MiB or None, whether
    the first page has a map)."""
    cold = []
    for attempt in range(runs):
        server, seconds, has_map = _cold_started(browser, script, db, timeout_ms)
        cold.append(seconds)
        if attempt < runs - 1:
            server.stop()
    try:
        drawn = Samples([_open(browser, server.url, timeout_ms)[0] for _ in range(runs)])
        rss = None if paths is None else _sessions(browser, server, paths, timeout_ms)
    finally:
        server.stop()
    return Samples(cold), drawn, rss, has_map


def page_titles(app: Path = ROOT / "app.py") -> list[str]:
    """The titles of app.py's pages (the top navigation's links), in menu order."""
    return _TITLE.findall(app.read_text(encoding="utf-8")) if app.exists() else []


def navigation_actions(titles: list[str]) -> list[tuple[str, str]]:
    """What a user does on a first visit: every other page by the top navigation, then back to the
    first, with a prefecture chosen in the sidebar after every second step. ("navigate", title) or
    ("filter", prefecture)."""
    tour = [*titles[1:], titles[0]] if len(titles) > 2 else [titles[-1], titles[0]] * 3
    actions: list[tuple[str, str]] = []
    prefectures = iter(NAV_PREFECTURES)
    for index, title in enumerate(tour):
        actions.append(("navigate", title))
        if index % 2 == 0:
            prefecture = next(prefectures, None)
            if prefecture:
                actions.append(("filter", prefecture))
    return actions


def _act(page, runs: FinishedRuns, action: tuple[str, str], timeout_ms: float) -> float:
    """Seconds from the click (or the choice) to the page drawn again after its script run."""
    kind, value = action
    seen = runs.count
    started = time.perf_counter()
    if kind == "navigate":
        page.locator('[data-testid="stTopNavLink"]', has_text=value).first.click(timeout=timeout_ms)
    else:
        box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="都道府県").first
        box.click(timeout=timeout_ms)
        page.keyboard.type(value)
        page.keyboard.press("Enter")
    try:
        runs.wait_past(page, seen, timeout_ms)
    except TimeoutError as error:
        raise TimeoutError(f"{kind} {value}: {error}") from None
    _drawn(page, timeout_ms)
    return time.perf_counter() - started


def _navigate(browser, server: Server, titles: list[str], timeout_ms: float) -> list[float]:
    """A new user's first visit: open the first page, then every action of ``navigation_actions``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
    try:
        page = context.new_page()
        runs = FinishedRuns(page)
        page.goto(server.url, wait_until="commit", timeout=timeout_ms)
        _drawn(page, timeout_ms)
        return [_act(page, runs, action, timeout_ms) for action in navigation_actions(titles)]
    finally:
        context.close()


def _tour_times(browser, script: Path, db: Path | None, titles: list[str], runs: int, timeout_ms: float) -> list[float]:
    """Every action's seconds of ``runs`` new users touring ``script``'s pages on one running server."""
    server = Server(script, db)
    try:
        server.wait_healthy()
        # one unmeasured tour fills the server's caches (cold start is its own case): then each
        # measured tour is a new user on a running server
        _navigate(browser, server, titles, timeout_ms)
        return [seconds for _ in range(runs) for seconds in _navigate(browser, server, titles, timeout_ms)]
    finally:
        server.stop()


def navigation_cases(
    browser, app: Path, db: Path, blank: Path, elements_folder: Path, runs: int, timeout_ms: float
) -> list[Result]:
    """p50 of a new user's navigations and filter changes, beside the same on the blank app; then the
    same tour over the app's elements alone (``capture_navigation_elements``)."""
    titles = page_titles(app)
    blank_times = Samples(_tour_times(browser, blank, None, list(BLANK_NAV_TITLES), runs, timeout_ms))
    app_times = Samples(_tour_times(browser, app, db, titles, runs, timeout_ms))
    actions = len(navigation_actions(titles))
    results = [
        Result.of(
            NAVIGATION_NAME,
            "s",
            app_times,
            blank_times,
            "blank app: the same clicks on two empty pages",
            ratio_target=NAVIGATION_RATIO,
            note=f"p50 of {actions} actions × {runs} new users (navigation links, sidebar 都道府県); "
            f"app max {app_times.max:.2f} s",
        )
    ]
    try:
        elements_app = capture_navigation_elements(db, elements_folder, app)
        elements = Samples(_tour_times(browser, elements_app, None, titles, runs, timeout_ms))
    except Exception as error:  # noqa: BLE001 - reported in the table
        results.append(Result.failure(ELEMENTS_NAVIGATION_NAME, "s", error))
        return results
    results.append(
        Result.of(
            ELEMENTS_NAVIGATION_NAME,
            "s",
            elements,
            blank_times,
            "blank app: the same clicks on two empty pages",
            note=f"the same tour; each page draws the maps, charts, tables and metrics the app's page sent for "
            f"that state, nothing computed; the app's p50 ({app_times.median:.2f} s) is "
            f"{app_times.median / elements.median:.2f}× this",
        )
    )
    return results


NAVIGATION_NAME = "browser: navigation / filter change drawn, p50 (new user)"
ELEMENTS_NAME = "browser: the overview's elements alone, drawn after navigation (nothing computed)"
ELEMENTS_COLD_NAME = "browser: the overview's elements alone, cold start (nothing computed)"
ELEMENTS_NAVIGATION_NAME = "browser: navigation over the pages' elements alone, p50 (nothing computed)"
NAMES = (
    "browser: cold start, streamlit run → overview drawn",
    "browser: map drawn after navigation (overview, national)",
    f"browser: server peak RSS, {SESSIONS} concurrent sessions",
)
UNITS = ("s", "s", "MiB")
TARGETS = (COLD_START_TARGET_S, MAP_DRAWN_TARGET_S, RSS_TARGET_MIB)


RATIOS = (COLD_START_RATIO, MAP_DRAWN_RATIO, None)


def skip_all(run: Run, why: str) -> None:
    for name, unit, target, ratio in zip(NAMES, UNITS, TARGETS, RATIOS):
        run.add(Result.skip(name, unit, why, target, ratio))
    run.add(Result.skip(ELEMENTS_NAME, "s", why))
    run.add(Result.skip(ELEMENTS_COLD_NAME, "s", why))
    run.add(Result.skip(NAVIGATION_NAME, "s", why, ratio_target=NAVIGATION_RATIO))
    run.add(Result.skip(ELEMENTS_NAVIGATION_NAME, "s", why))


def run_cases(run: Run, db: Path, work: Path, runs: int, quick: bool = False, timeout: float = 60.0) -> None:
    """The three browser cases. ``quick``: every session opens the first page (its results are then
    cached on the server), so the memory case runs in seconds; the full run cycles through the pages."""
    why = available()
    if why:
        skip_all(run, why)
        return
    from playwright.sync_api import sync_playwright

    app = ROOT / "app.py"
    blank = work / "blank_app" / "blank.py"
    blank.parent.mkdir(parents=True, exist_ok=True)
    blank.write_text(BLANK_APP, encoding="utf-8")
    blank_nav = work / "blank_app" / "blank_navigation.py"
    blank_nav.write_text(BLANK_NAV_APP, encoding="utf-8")
    timeout_ms = timeout * 1000
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            floors = _measure(browser, blank, None, [], runs, timeout_ms)
            measured = _measure(browser, app, db, [] if quick else page_urls(app), runs, timeout_ms)
        except Exception as error:  # noqa: BLE001 - reported in the table
            for name, unit, target, ratio in zip(NAMES, UNITS, TARGETS, RATIOS):
                run.add(Result.failure(name, unit, error, target, ratio))
            run.add(Result.failure(ELEMENTS_NAME, "s", error))
            run.add(Result.failure(ELEMENTS_COLD_NAME, "s", error))
            run.add(Result.failure(NAVIGATION_NAME, "s", error, ratio_target=NAVIGATION_RATIO))
            run.add(Result.failure(ELEMENTS_NAVIGATION_NAME, "s", error))
            browser.close()
            return
        try:
            # measured as the app's overview is: cold starts, then drawn after navigation (no sessions)
            elements = _measure(browser, capture_elements(db, work / "elements_app"), None, None, runs, timeout_ms)[:2]
        except Exception as error:  # noqa: BLE001 - reported in the table
            elements = error
        try:
            navigation = navigation_cases(browser, app, db, blank_nav, work / "elements_navigation", runs, timeout_ms)
        except Exception as error:  # noqa: BLE001 - reported in the table
            navigation = [
                Result.failure(NAVIGATION_NAME, "s", error, ratio_target=NAVIGATION_RATIO),
                Result.failure(ELEMENTS_NAVIGATION_NAME, "s", error),
            ]
        finally:
            browser.close()
    note = "" if measured[3] else "the overview draws no map: timed to the end of its script run; "
    run.add(
        Result.of(
            NAMES[0],
            "s",
            measured[0],
            floors[0],
            "cold start of a blank page",
            COLD_START_TARGET_S,
            note=f"{note}launch of the process to the page drawn",
            ratio_target=COLD_START_RATIO,
        )
    )
    run.add(
        Result.of(
            NAMES[1],
            "s",
            measured[1],
            floors[1],
            "blank page drawn after navigation",
            MAP_DRAWN_TARGET_S,
            note=f"{note}new browser context each run, server warm",
            ratio_target=MAP_DRAWN_RATIO,
        )
    )
    run.add(
        Result.of(
            NAMES[2],
            "MiB",
            Samples([measured[2]]),
            floors[2],
            f"blank page, {SESSIONS} sessions",
            RSS_TARGET_MIB,
            note="VmHWM of the streamlit process; "
            + (
                "quick mode: every session opens the first page"
                if quick
                else "the sessions open the app's pages in turn"
            ),
        )
    )
    if isinstance(elements, Exception):
        run.add(Result.failure(ELEMENTS_NAME, "s", elements))
        run.add(Result.failure(ELEMENTS_COLD_NAME, "s", elements))
    else:
        elements_cold, elements_drawn = elements
        run.add(
            Result.of(
                ELEMENTS_NAME,
                "s",
                elements_drawn,
                floors[1],
                "blank page drawn after navigation",
                note=f"the app's overview ({measured[1].median:.2f} s) is "
                f"{measured[1].median / elements_drawn.median:.2f}× this page: the rest of the overview's time is "
                "the framework's loading and drawing of its map, charts and tables in a browser without a GPU",
            )
        )
        run.add(
            Result.of(
                ELEMENTS_COLD_NAME,
                "s",
                elements_cold,
                floors[0],
                "cold start of a blank page",
                note=f"launch of the process to the page drawn; the app's cold start ({measured[0].median:.2f} s) "
                f"is {measured[0].median / elements_cold.median:.2f}× this page",
            )
        )
    for result in navigation:
        run.add(result)
