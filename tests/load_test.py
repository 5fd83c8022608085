"""Load test (issue #8 part 4): simultaneous users of a running dashboard while its database is swapped.

`streamlit run app.py` serves a database built by `python -m loaders build` on a free loopback port.
N browser sessions (one Playwright context each, all in one Debian chromium) open the pages that carry
no WebGL map (カルテ, 比較・分析, 支援計画, データ管理: in software GL 30 maps would measure the browser,
not the server) and, until the time is up, change the sidebar 都道府県 filter (a rerun of the same
session) with a pause of about five seconds between inputs, and now and then open another page by
URL (a new script run). A third of the way in, `python -m loaders build` writes a second database
into the same DX_DB path (one source folder fewer, so its content differs) and swaps it in; every
session keeps going until the time is up and it has run at least once on the new database.

One session opens the front page first (see ``warm_up``; ``--cold-start`` skips it). Each action is
timed from the input to the end of the script run it caused (the app root's ``data-test-script-state``
leaving ``running``, noted by a MutationObserver on the page's clock); the browser's drawing after
that is waited for but not timed. An error is: an exception box, an error message, a lost
connection, a run that does not finish within the limit, a browser-side exception, a traceback in
the server's log, or a session that does not show the new database's build time (sidebar) on a run
started after the swap. The result: sessions held, actions, errors, p50/p95/max rerun and page-load
times, the same for the rerun requests seen on the websockets (request sent → script_finished
received: the server's share, without the starved pages' drawing), the build's duration, the
server's peak RSS and CPU time.

    python -m tests.load_test --sessions 30 --seconds 300          # the long profile (one command)
    python -m tests.load_test --sessions 20 --seconds 60 --json artifacts/load_test.json

The short profile is tests/test_concurrent_users.py (opt-in: DX_LOAD_TEST=1).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import duckdb

from benchmarks.browser import free_port, status_kb, stop_process, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]
# Pages without a WebGL map. Not データ管理: its rerun (~40 ms) can end before a starved browser
# paints the "running" state, and runs are observed through that state (RUN_COUNTER), so a run
# that did happen would be counted as lost (seen: the page received the whole run's messages).
PAGES = ("karte", "compare", "support")
PREFECTURES = ("兵庫県", "北海道", "宮城県", "和歌山県", "東京都", "鳥取県", "沖縄県", "長野県", "福岡県", "秋田県")
DROPPED_FOLDER = "gsi-area"  # the second database is built without it
RUN_LIMIT_SECONDS = 180.0
LOST_RERUN_SECONDS = 60.0
SWAP_WAIT_SECONDS = 300.0
LOAD_EVERY = 4
THINK_SECONDS = 5.0  # mean pause between a session's inputs: a user reads the page
INPUT_ATTEMPTS, INPUT_SECONDS = 3, 30.0  # every 4th action opens another page by URL; the others change the filter
# counts finished script runs (the attribute leaving "running") and notes when the last one ended,
# on the page's clock (performance.now(): ms since the document's navigation started)
RUN_COUNTER = """
window.__runsFinished = 0;
window.__lastFinished = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.oldValue === 'running' && r.target.getAttribute('data-test-script-state') !== 'running') {
      window.__runsFinished++;
      window.__lastFinished = performance.now();
    }
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
# A deep link's first run may end in st.rerun() (ui.filters.current): "notRunning" shows for a moment
# between the two runs. A run counts as done when the state has stayed "notRunning" this long; the
# wait is not part of the measured time (that ends at the last run's end).
SETTLE_MS = 1000
APP = '[data-testid="stApp"]'
SIDEBAR_SKELETONS = ", ".join(f'[data-testid="stSidebar"] [data-testid="{name}"]'
                              for name in ("stSkeleton", "stSkeletonElement", "stAppSkeleton"))


@dataclass
class Action:
    session: int
    kind: str  # "load" (a page opened by URL) | "rerun" (the sidebar filter changed)
    page: str
    started: float  # seconds since the test started
    seconds: float
    after_swap: bool
    error: str | None = None


@dataclass
class Result:
    sessions: int
    seconds: float
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    build_seconds: float | None = None
    swap_at: float | None = None
    peak_rss_mb: float | None = None
    server_cpu_seconds: float | None = None  # the streamlit process's user + system CPU time
    sessions_seeing_new_data: int = 0
    input_retries: list[str] = field(default_factory=list)  # filter inputs the browser lost and made again
    # rerun requests the page sent after which the server started no run within LOST_RERUN_SECONDS
    # (seen under CPU starvation, cause not found yet): the input is made once more and counted
    lost_reruns: list[str] = field(default_factory=list)
    # seconds from a rerun request leaving a browser to its script_finished arriving (watch_websocket)
    round_trips: list[float] = field(default_factory=list)

    def times(self, kind: str) -> list[float]:
        if kind == "round_trip":
            return sorted(self.round_trips)
        return sorted(a.seconds for a in self.actions if a.kind == kind and a.error is None)

    def summary(self) -> dict:
        out = {"sessions": self.sessions, "seconds": self.seconds, "actions": len(self.actions),
               "errors": len(self.errors), "build_seconds": self.build_seconds, "swap_at": self.swap_at,
               "sessions_seeing_new_data": self.sessions_seeing_new_data, "peak_rss_mb": self.peak_rss_mb,
               "server_cpu_seconds": self.server_cpu_seconds,
               "input_retries": len(self.input_retries), "lost_reruns": len(self.lost_reruns)}
        for kind in ("rerun", "load", "round_trip"):
            values = self.times(kind)
            out[kind] = {"count": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
                         "max": max(values) if values else None}
        return out

    def lines(self) -> list[str]:
        s = self.summary()
        out = [f"セッション: {s['sessions']}（新しいデータを確認: {s['sessions_seeing_new_data']}）、"
               f"時間: {s['seconds']:.0f} 秒、操作: {s['actions']}、エラー: {s['errors']}",
               f"再構築: {s['build_seconds']:.1f} 秒（開始 {s['swap_at']:.0f} 秒目）" if s["build_seconds"] else "再構築: なし",
               f"サーバーの最大RSS: {s['peak_rss_mb']:.0f} MB" if s["peak_rss_mb"] else "サーバーの最大RSS: 不明"]
        if s["server_cpu_seconds"] is not None:
            out.append(f"サーバーのCPU時間: {s['server_cpu_seconds']:.1f} 秒（残りのCPUはブラウザと再構築が使用）")
        for kind, label in (("rerun", "フィルター変更の再実行"), ("load", "ページを開く"),
                            ("round_trip", "再実行要求→完了（websocket上、描画を含まない）")):
            t = s[kind]
            if t["count"]:
                out.append(f"{label}: {t['count']} 回、p50 {t['p50']:.2f} 秒、p95 {t['p95']:.2f} 秒、最大 {t['max']:.2f} 秒")
        if self.lost_reruns:
            out.append(f"画面で実行を確認できなかった再実行要求: {len(self.lost_reruns)} 回")
            out.extend(f"  {r}" for r in self.lost_reruns[:10])
        if self.input_retries:
            out.append(f"入力のやり直し（ブラウザが入力を落とした）: {len(self.input_retries)} 回")
            out.extend(f"  やり直し: {r}" for r in self.input_retries[:10])
        out.extend(f"  エラー: {e}" for e in self.errors[:30])
        return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# ---------------------------------------------------------------- database and server

def build_database(sources: list[Path], db: Path, user: str) -> float:
    """`python -m loaders build` into ``db`` (the same command an administrator runs); seconds taken."""
    started = time.monotonic()
    command = [sys.executable, "-m", "loaders", "build", "--db", str(db), "--user", user]
    for source in sources:
        command += ["--source", str(source)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"build failed: {done.stderr[-2000:]}")
    return time.monotonic() - started


def built_at(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT value FROM build_info WHERE key = 'built_at'").fetchone()[0].replace("T", " ")


class Server:
    """`streamlit run app.py` on a loopback port, its output in a log file, its RSS sampled."""

    def __init__(self, db: Path, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "wb")
        env = {**os.environ, "DX_DB": str(db)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             # as deployed (docs/ADMIN.md): the file watcher evicts edited modules from sys.modules, and
             # sessions re-importing them at once can deadlock in Python's import locks
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.peak_rss_kb = 0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "Server":
        try:
            wait_healthy(f"{self.base}/", self.process, timeout=60)
        except (RuntimeError, TimeoutError) as error:
            self.__exit__()
            raise RuntimeError(f"streamlit did not start: {self.log_text()[-2000:]}") from error
        self._sampler.start()
        return self

    def _status_kb(self, field_name: str) -> int:
        return status_kb(self.process.pid, field_name) or 0

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_rss_kb = max(self.peak_rss_kb, self._status_kb("VmRSS"))

    def _cpu_seconds(self) -> float:
        try:  # /proc/PID/stat fields 14 and 15: utime and stime in clock ticks (after the "(comm)" field)
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return self.cpu_seconds

    def __exit__(self, *exc) -> None:
        self.peak_rss_kb = max(self.peak_rss_kb, self._status_kb("VmHWM"))  # the kernel's high-water mark
        self.cpu_seconds = self._cpu_seconds()
        self._stop.set()
        stop_process(self.process, timeout=15)
        self._log.close()

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


# ---------------------------------------------------------------- one browser session

async def finished_runs(page) -> int:
    return await page.evaluate("window.__runsFinished || 0")


async def wait_for_run(page, before: int, limit: float) -> float:
    """Wait for the input's script runs to end; returns when the last ended (page clock, ms)."""
    try:
        await _wait_for_run_end(page, before, limit)
    except Exception as exc:
        runs, state = await page.evaluate(f"[window.__runsFinished, document.querySelector('{APP}')?.getAttribute("
                                          "'data-test-script-state')]")
        raise TimeoutError(f"no run ended and stayed ended within {limit:.0f} s (runs {before}→{runs}, now {state})") from exc
    finished = await page.evaluate("window.__lastFinished")
    # then let the browser draw the sidebar the run sent (a starved browser shows skeletons for a
    # while; lazy elements below the fold of the page may stay skeletons): not part of the measured
    # time, but the check of the build time and the next input need it
    try:
        await page.wait_for_function(f"() => !document.querySelector('{SIDEBAR_SKELETONS}')",
                                     timeout=limit * 1000, polling=200)
    except Exception as exc:
        raise TimeoutError(f"the sidebar was not drawn within {limit:.0f} s") from exc
    return finished


async def _wait_for_run_end(page, before: int, limit: float) -> None:
    await page.wait_for_function(
        f"() => (window.__runsFinished || 0) > {before} && "
        f"document.querySelector('{APP}')?.getAttribute('data-test-script-state') === 'notRunning' && "
        f"performance.now() - window.__lastFinished > {SETTLE_MS}",
        timeout=limit * 1000, polling=100)


async def page_errors(page) -> str | None:
    """What the page shows that counts as an error, or None."""
    if await page.locator('[data-testid="stException"]').count():
        return "例外: " + (await page.locator('[data-testid="stException"]').first.inner_text())[:200]
    if await page.locator('[data-testid="stAlertContentError"]').count():
        return "エラー表示: " + (await page.locator('[data-testid="stAlertContentError"]').first.inner_text())[:200]
    state = await page.locator(APP).get_attribute("data-test-connection-state")
    if state not in (None, "CONNECTED"):
        return f"接続状態: {state}"
    return None


async def choose_prefecture(page, pref: str, before: int, sent: list, retries: list[str] | None = None,
                            lost: list[str] | None = None) -> float:
    """Pick ``pref`` in the sidebar's 都道府県 box; returns the page-clock time (ms) of the input that
    the client took (it asked for a rerun). ``sent`` counts the messages the page sent on its
    websocket (``watch_websocket``); an input made again is noted in ``retries``.

    The box is a combobox whose text field holds the current choice. Each step waits for the browser
    to show the previous one (a starved browser may draw late): click the field, wait for the option
    list, empty the field (else the typed text joins the old one: 「兵庫県兵庫県」 matches nothing),
    type, wait for the field to hold exactly ``pref`` and for the option of that exact name, then
    Enter when that option has the keyboard focus (else click it). If no run starts, the input is
    made again only if the page sent nothing since: when it did, the client has taken the choice
    and its rerun is pending, which is waited for, not entered twice. An input the browser lost is
    the test's input failing, not the server. A rerun request after which no run starts within
    ``LOST_RERUN_SECONDS`` is noted in ``lost`` and the input made once more (a second loss fails)."""
    from playwright.async_api import expect

    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="都道府県").first
    field = box.locator('input[role="combobox"]')
    listbox = page.locator('[role="listbox"][aria-label="都道府県"]')
    option = listbox.get_by_role("option", name=pref, exact=True)
    step_ms = INPUT_SECONDS * 1000
    run_started = (f"() => (window.__runsFinished || 0) > {before} || "
                   f"document.querySelector('{APP}')?.getAttribute('data-test-script-state') !== 'notRunning'")
    failures = []
    for attempt in range(INPUT_ATTEMPTS):
        entered = None
        try:
            await field.click(timeout=step_ms)
            await listbox.wait_for(state="visible", timeout=step_ms)
            await field.press("Control+A")
            await field.press("Backspace")
            await expect(field).to_have_value("", timeout=step_ms)
            await field.press_sequentially(pref)
            await expect(field).to_have_value(pref, timeout=step_ms)
            await option.wait_for(state="visible", timeout=step_ms)
            keyboard = await option.get_attribute("data-focused") == "true"
            sent_before, received_before, finished_before = sent[0], sent[1], sent[5]
            entered = await page.evaluate("performance.now()")
            if keyboard:
                await field.press("Enter")
            else:
                await option.click(timeout=step_ms)
            await page.wait_for_function(run_started, timeout=step_ms, polling=50)
            return entered
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}")
        if entered is not None and sent[0] > sent_before:
            # the client sent its rerun request: a starved browser or server is late, not the input
            waited = 0.0
            while waited < LOST_RERUN_SECONDS:
                if await page.evaluate(run_started):
                    return entered
                if sent[5] > finished_before:
                    # the server ran it (its script_finished arrived) but the starved browser never
                    # painted "running": count the run here, ended now (an upper bound of its time)
                    if lost is not None:
                        lost.append(f"{pref}: 実行はサーバーで完了（script_finished 受信）、画面に「実行中」が出なかった")
                    await page.evaluate("() => { window.__runsFinished++; window.__lastFinished = performance.now(); }")
                    return entered
                await asyncio.sleep(0.2)
                waited += 0.2
            state = await page.locator(APP).get_attribute("data-test-script-state")
            if lost is not None and not any(note.startswith(f"{pref} ") for note in lost[-1:]) \
                    and attempt < INPUT_ATTEMPTS - 1:
                lost.append(f"{pref} (sent {sent[0] - sent_before}, received {sent[1] - received_before}, "
                            f"new_session {sent[4]}, script_finished {sent[5] - finished_before}, now {state})")
                await page.keyboard.press("Escape")
                continue
            raise TimeoutError(
                f"the page sent {sent[0] - sent_before} message(s) after {pref} was chosen (the last {sent[2]} bytes"
                f"{', with the widget states' if sent[3] else ''}) and received {sent[1] - received_before}, "
                f"but no run started within {INPUT_SECONDS + LOST_RERUN_SECONDS:.0f} s (now {state})") from None
        if attempt < INPUT_ATTEMPTS - 1:
            if retries is not None:
                retries.append(f"{pref}: {failures[-1]}")
            await page.keyboard.press("Escape")  # close the list; the field shows the current choice again
    shown = await field.input_value()
    raise TimeoutError(f"the 都道府県 box did not take {pref} in {INPUT_ATTEMPTS} attempts (shows {shown}; "
                       f"{'; '.join(failures)})")


def watch_websocket(page, round_trips: list[float] | None = None) -> list:
    """What the page's websockets carry: [messages sent, messages received, size of the last sent and
    whether it names the 都道府県 widget's key (a rerun request carries every widget's state), runs the
    server started (ForwardMsg new_session), runs it finished (script_finished)]. ``round_trips``
    gets the seconds from each rerun request (BackMsg rerun_script) leaving the browser to the next
    script_finished arriving: the server's share of a rerun, seen from the network side, which a
    starved page's drawing does not delay."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    traffic = [0, 0, 0, False, 0, 0]
    requested: list[float] = []  # when the pending rerun request was sent

    def on_sent(payload) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        traffic[0] += 1
        traffic[2], traffic[3] = len(data), b"pref" in data
        try:
            rerun = BackMsg.FromString(data).WhichOneof("type") == "rerun_script"
        except Exception:  # not a BackMsg: counted above
            return
        if rerun and not requested:
            requested.append(time.monotonic())

    def on_received(payload) -> None:
        traffic[1] += 1
        if isinstance(payload, bytes):
            try:
                kind = ForwardMsg.FromString(payload).WhichOneof("type")
            except Exception:  # not a ForwardMsg (or cut): counted above, nothing more to learn
                return
            if kind == "new_session":
                traffic[4] += 1
            elif kind == "script_finished":
                traffic[5] += 1
                if requested and round_trips is not None:
                    round_trips.append(time.monotonic() - requested.pop())

    def on_websocket(ws) -> None:
        requested.clear()  # a new page: a request the old one left unanswered is not this one's
        ws.on("framesent", on_sent)
        ws.on("framereceived", on_received)

    page.on("websocket", on_websocket)
    return traffic


async def run_session(index: int, browser, base: str, clock, deadline: float, swap: dict, result: Result,
                      think: float) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    context.set_default_timeout(RUN_LIMIT_SECONDS * 1000)
    await context.add_init_script(RUN_COUNTER)
    page = await context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)[:200]))
    sent = watch_websocket(page, result.round_trips)
    saw_new = checked_after_swap = False
    pause = random.Random(index)  # a user reads the page before the next input
    step = 0
    pref = PREFECTURES[index % len(PREFECTURES)]
    try:
        # until the time is up and at least one action has started after the swap (a slow build
        # under load may end after the deadline: the session then waits for it, within a bound)
        while clock() < deadline or not checked_after_swap:
            after_swap = swap.get("done_at") is not None
            if not after_swap:
                if clock() >= deadline + SWAP_WAIT_SECONDS:
                    break
                if clock() >= deadline:
                    await asyncio.sleep(0.5)
                    continue
            checked_after_swap = checked_after_swap or after_swap
            kind = "load" if step % LOAD_EVERY == 0 else "rerun"
            if kind == "load":
                path = PAGES[(index + step // LOAD_EVERY) % len(PAGES)]
            started = clock()
            error = None
            try:
                if kind == "load":
                    await page.goto(f"{base}/{path}?pref={quote(pref)}", wait_until="domcontentloaded")
                    seconds = await wait_for_run(page, 0, RUN_LIMIT_SECONDS) / 1000  # since navigation start
                else:
                    before = await finished_runs(page)
                    pref = PREFECTURES[(PREFECTURES.index(pref) + 1 + index % (len(PREFECTURES) - 1)) % len(PREFECTURES)]
                    entered = await choose_prefecture(page, pref, before, sent, result.input_retries, result.lost_reruns)
                    seconds = (await wait_for_run(page, before, RUN_LIMIT_SECONDS) - entered) / 1000
                error = await page_errors(page)
                if js_errors:
                    error, js_errors[:] = f"ブラウザの例外: {js_errors[0]}", []
                if error is None and after_swap:
                    sidebar = await page.locator('[data-testid="stSidebar"]').inner_text()
                    if f"構築: {swap['new_built_at']}" in sidebar:
                        saw_new = True
                    else:
                        shown = next((line for line in sidebar.splitlines() if "構築:" in line), "（表示なし）")
                        error = (f"入れ替え後の実行で古いデータベースを表示（入れ替えから {started - swap['done_at']:.1f} 秒後に"
                                 f"開始、表示: {shown.split('構築:')[-1].strip()}）")
            except Exception as exc:  # a timeout or a closed page: the run did not complete
                seconds = clock() - started
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
            result.actions.append(Action(index, kind, path, round(started, 2), round(seconds, 3), after_swap, error))
            if error:
                result.errors.append(f"セッション{index} {kind} /{path}: {error}")
            step += 1
            await asyncio.sleep(pause.uniform(0.5, 1.5) * think)
        if saw_new:
            result.sessions_seeing_new_data += 1
        else:
            result.errors.append(f"セッション{index}: 入れ替え後の新しいデータを一度も表示しませんでした")
    finally:
        await context.close()


async def swap_database(sources: list[Path], db: Path, at: float, clock, swap: dict, result: Result) -> None:
    await asyncio.sleep(max(0.0, at - clock()))
    result.swap_at = round(clock(), 1)
    fewer = [s for s in sources if s.name != DROPPED_FOLDER]
    result.build_seconds = round(await asyncio.to_thread(build_database, fewer, db, "load-test-swap"), 2)
    swap["new_built_at"] = built_at(db)
    swap["done_at"] = clock()


async def warm_up(browser, base: str) -> None:
    """One session opens the front page before the others start, as a deployment's smoke check after a
    restart does. Without it, N sessions that arrive at once at a fresh server import the app's
    modules in N threads at the same time (Python's per-module import locks can then raise
    _DeadlockError), and each deep link's first run ends in st.rerun() — see --cold-start."""
    context = await browser.new_context(locale="ja-JP")
    await context.add_init_script(RUN_COUNTER)
    page = await context.new_page()
    await page.goto(f"{base}/", wait_until="domcontentloaded")
    await wait_for_run(page, 0, RUN_LIMIT_SECONDS)
    await context.close()


async def drive(base: str, sessions: int, seconds: float, sources: list[Path], db: Path, result: Result,
                think: float, cold_start: bool = False) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            if not cold_start:
                await warm_up(browser, base)
            origin = time.monotonic()

            def clock() -> float:
                return time.monotonic() - origin

            swap: dict = {}
            tasks = [run_session(i, browser, base, clock, seconds, swap, result, think) for i in range(sessions)]
            tasks.append(swap_database(sources, db, seconds / 3, clock, swap, result))
            await asyncio.gather(*tasks)
        finally:
            await browser.close()


def source_folders(shared: Path) -> list[Path]:
    return sorted(p for p in shared.iterdir() if p.is_dir())


def run_load_test(sessions: int, seconds: float, shared: Path, workdir: Path | None = None,
                  think: float = THINK_SECONDS, cold_start: bool = False) -> Result:
    """Build a database from ``shared``, serve it, drive ``sessions`` browsers for ``seconds``
    (plus the time the last actions take to finish) with a rebuild halfway; return the figures."""
    own = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="dx-load-"))
    try:
        db = workdir / "dashboard.duckdb"
        sources = source_folders(shared)
        build_database(sources, db, "load-test")
        result = Result(sessions=sessions, seconds=seconds)
        with Server(db, workdir / "server.log") as server:
            asyncio.run(drive(server.base, sessions, seconds, sources, db, result, think, cold_start))
        result.peak_rss_mb = round(server.peak_rss_kb / 1024, 1)
        result.server_cpu_seconds = round(server.cpu_seconds, 1)
        log = server.log_text()
        if "Traceback" in log:
            result.errors.append("サーバーのログに例外: " + log[log.index("Traceback"):][:1500])
        return result
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load_test", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--shared-data", type=Path,
                        default=Path(os.environ.get("DX_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--think", type=float, default=THINK_SECONDS, help="mean pause between a session's inputs (s)")
    parser.add_argument("--cold-start", action="store_true",
                        help="start every session at once on the fresh server, without the warm-up request")
    parser.add_argument("--json", type=Path, help="write the figures and every action here")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} がありません（apt-get install chromium fonts-noto-cjk）。", file=sys.stderr)
        return 2
    result = run_load_test(args.sessions, args.seconds, args.shared_data, think=args.think, cold_start=args.cold_start)
    print("\n".join(result.lines()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": result.summary(), "errors": result.errors,
                                         "input_retries": result.input_retries, "lost_reruns": result.lost_reruns,
                                         "actions": [asdict(a) for a in result.actions]}, ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
