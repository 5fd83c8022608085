"""Load test (issue #8 part 4): simultaneous users of a running dashboard while its database is swapped.

`streamlit run app.py` serves a database built by `python -m loaders build` on a free loopback port.
Each of N sessions is a tab of ``tests/streamlit_client.py``: a websocket client that sends what a
browser sends on ``/_stcore/stream`` and reads back what the browser would draw. The server does
for it all it does for a browser (a session, script runs, widget state, every chart's payload), but
nothing is drawn: on two cores the figures are the server's, not those of 20 software-rendered
browsers fighting it for the CPU (the Playwright driver this replaced spent ~90 % of the machine
in its browsers, whose starved pages then missed runs the server had finished). What only a
browser shows (maps, downloads, layout) is tested in tests/test_browser*.py.

A session opens one of the six pages by URL with ``?pref=…`` (the page's HTTP requests, a new
websocket, its first run) and, until the time is up, after a pause of about five seconds (a user
reading the page; ``--think``), changes the sidebar 都道府県 (a rerun carrying the widget's new
value); every fourth input clicks another page in the top navigation, every eighth reloads another
page by URL. The overview's map is among the pages.

Before the crowd arrives, one session opens every page, changes the filter and navigates, alone:
the same actions on the same server in the same run, as the baseline. A third of the way into the
crowd, `python -m loaders build` writes a second database into the same DX_DB path (one source
folder fewer, so its build time differs) and swaps it in; every session keeps going until the time
is up and it has acted at least once on the new database.

An error is: an exception element or an error message (st.error) on the page, a script that does
not compile, a page not found, a page that draws nothing, a sidebar without the database's build
time or with one that is neither the old nor the new build, an action started after the swap that
still shows the old build, a lost connection, a run not finished within ``RUN_LIMIT_SECONDS``, a
session that never showed the new build, or a traceback in the server's log. The result: sessions
held, actions, errors, p50/p95/max of each kind of action alone and in the crowd, the build's
duration, the server's peak RSS and CPU time.

    python -m tests.load_test --sessions 30 --seconds 300          # the long profile (one command)
    python -m tests.load_test --sessions 20 --seconds 60 --json artifacts/load_test.json

The short profile is tests/test_concurrent_users.py, part of every suite run.
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

import duckdb

from benchmarks.browser import free_port, status_kb, stop_process, wait_healthy
from store.dates import japanese_date
from tests.streamlit_client import Run, StreamlitTab, TabError

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("", "karte", "compare", "progress", "support", "data")  # url paths; "" is 概要 (with the map)
PREFECTURES = ("兵庫県", "北海道", "宮城県", "和歌山県", "東京都", "鳥取県", "沖縄県", "長野県", "福岡県", "秋田県")
PREF_BOX = "都道府県"
BUILD_MARK = "構築:"  # the sidebar's source line ends 「構築: 2026年12月3日 07:24:58」 (ui.chrome.source_line)
DROPPED_FOLDER = "gsi-area"  # the second database is built without it
RUN_LIMIT_SECONDS = 120.0
SWAP_WAIT_SECONDS = 300.0
THINK_SECONDS = 5.0  # mean pause between a session's inputs: a user reads the page
NAVIGATE_EVERY, RELOAD_EVERY = 4, 8
KINDS = {
    "load": "ページを開く（URL）",
    "navigate": "ページ切り替え（ナビゲーション）",
    "rerun": "フィルター変更（都道府県）",
}
PHASES = {"solo": "単独（基準）", "crowd": "同時接続"}


@dataclass
class Action:
    session: int  # -1: the baseline session
    phase: str  # "solo" | "crowd"
    kind: str  # "load" | "navigate" | "rerun"
    page: str
    started: float  # seconds since the crowd started (negative: the baseline)
    seconds: float
    script_runs: int
    kib_received: float
    after_swap: bool
    error: str | None = None


@dataclass
class Swap:
    """The two databases' build times as the sidebar shows them; ``new`` and ``done_at`` (seconds
    since the crowd started) once the rebuild has swapped the file."""

    old: str
    new: str | None = None
    done_at: float | None = None
    # Between the build's atomic rename and this process reading the new build time (the build
    # process still exiting), a page can already show the new build: such builds are kept here and
    # must turn out to be the new one (``unconfirmed_errors``).
    building: bool = False
    unconfirmed: set[str] = field(default_factory=set)

    def builds(self) -> set[str]:
        return {self.old} if self.new is None else {self.old, self.new}

    def may_show(self, shown: str) -> bool:
        if shown in self.builds():
            return True
        if self.building and self.new is None:
            self.unconfirmed.add(shown)
            return True
        return False

    def unconfirmed_errors(self) -> list[str]:
        return [
            f"入れ替え中に古くも新しくもないデータベースを表示（構築: {shown}）"
            for shown in self.unconfirmed - {self.new}
        ]


@dataclass
class Result:
    sessions: int
    seconds: float
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    build_seconds: float | None = None
    swap_at: float | None = None
    crowd_seconds: float | None = None  # from the crowd's start to its last action's end
    peak_rss_mb: float | None = None
    server_cpu_seconds: float | None = None  # the streamlit process's user + system CPU time, whole test
    crowd_cpu_seconds: float | None = None  # the same, while the crowd was on
    sessions_seeing_new_data: int = 0

    def times(self, phase: str, kind: str | None = None) -> list[float]:
        return sorted(
            a.seconds for a in self.actions if a.phase == phase and (kind is None or a.kind == kind) and a.error is None
        )

    def summary(self) -> dict:
        out = {
            "sessions": self.sessions,
            "seconds": self.seconds,
            "actions": len(self.actions),
            "errors": len(self.errors),
            "build_seconds": self.build_seconds,
            "swap_at": self.swap_at,
            "crowd_seconds": self.crowd_seconds,
            "sessions_seeing_new_data": self.sessions_seeing_new_data,
            "peak_rss_mb": self.peak_rss_mb,
            "server_cpu_seconds": self.server_cpu_seconds,
            "crowd_cpu_seconds": self.crowd_cpu_seconds,
            "mib_received": round(sum(a.kib_received for a in self.actions) / 1024, 1),
        }
        for phase in PHASES:
            out[phase] = {**{kind: spread(self.times(phase, kind)) for kind in KINDS}, "all": spread(self.times(phase))}
        return out

    def lines(self) -> list[str]:
        s = self.summary()
        out = [
            f"セッション: {s['sessions']}（入れ替え後の新しいデータを表示: {s['sessions_seeing_new_data']}）、"
            f"時間: {s['seconds']:.0f} 秒、操作: {s['actions']}、エラー: {s['errors']}、受信: "
            f"{s['mib_received']:,} MiB",
            f"再構築: {s['build_seconds']:.1f} 秒（同時接続の開始から {s['swap_at']:.0f} 秒目に開始）"
            if s["build_seconds"]
            else "再構築: なし",
            f"サーバーの最大RSS: {s['peak_rss_mb']:.0f} MB" if s["peak_rss_mb"] else "サーバーの最大RSS: 不明",
        ]
        if s["crowd_cpu_seconds"] is not None and s["crowd_seconds"]:
            out.append(
                f"サーバーのCPU時間: 同時接続中 {s['crowd_cpu_seconds']:.1f} 秒 / {s['crowd_seconds']:.0f} 秒"
                f"（1コアの {100 * s['crowd_cpu_seconds'] / s['crowd_seconds']:.0f}%）、全体 "
                f"{s['server_cpu_seconds']:.1f} 秒"
            )
        for phase, phase_label in PHASES.items():
            for kind, label in (*KINDS.items(), ("all", "すべての操作")):
                t = s[phase][kind]
                if t["count"]:
                    out.append(
                        f"{phase_label}・{label}: {t['count']} 回、p50 {t['p50']:.2f} 秒、"
                        f"p95 {t['p95']:.2f} 秒、最大 {t['max']:.2f} 秒"
                    )
        out.extend(f"  エラー: {e}" for e in self.errors[:30])
        return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def spread(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values) if values else None,
    }


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
    """The build time as the sidebar shows it."""
    with duckdb.connect(str(db), read_only=True) as con:
        value = con.execute("SELECT value FROM build_info WHERE key = 'built_at'").fetchone()[0]
    return f"{japanese_date(value)} {value[11:19]}"


class Server:
    """`streamlit run SCRIPT` on a loopback port, its output in a log file, its RSS sampled."""

    def __init__(self, log: Path, script: Path = ROOT / "app.py", env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(script),
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                # as deployed (docs/ADMIN.md): the file watcher evicts edited modules from sys.modules, and
                # sessions re-importing them at once can deadlock in Python's import locks
                "--server.fileWatcherType",
                "none",
            ],
            cwd=script.parent,
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.peak_rss_kb = 0
        self.final_cpu_seconds: float | None = None  # read when the server stops
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Server:
        try:
            wait_healthy(f"{self.base}/", self.process, timeout=60)
        except (RuntimeError, TimeoutError) as error:
            self.__exit__()
            raise RuntimeError(f"streamlit did not start: {self.log_text()[-2000:]}") from error
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_rss_kb = max(self.peak_rss_kb, status_kb(self.process.pid, "VmRSS") or 0)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time so far (/proc/PID/stat fields 14 and 15, after the "(comm)" field)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def __exit__(self, *exc) -> None:
        self.peak_rss_kb = max(
            self.peak_rss_kb, status_kb(self.process.pid, "VmHWM") or 0
        )  # the kernel's high-water mark
        self.final_cpu_seconds = self.cpu_seconds()
        self._stop.set()
        stop_process(self.process, timeout=15)
        self._log.close()

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


# ---------------------------------------------------------------- sessions


def next_action(index: int, step: int) -> tuple[str, str]:
    """The ``step``-th input of session ``index``: (kind, page url path)."""
    page = PAGES[(index + step // NAVIGATE_EVERY) % len(PAGES)]
    if step % RELOAD_EVERY == 0:
        return "load", page
    if step % NAVIGATE_EVERY == 0:
        return "navigate", page
    return "rerun", page


def check_run(run: Run, tab: StreamlitTab, page: str, pref: str, swap: Swap) -> tuple[str | None, str | None]:
    """(the build the page showed, what counts as an error or None) after an input that should
    show ``page`` filtered to ``pref``."""
    if run.problems:
        return None, "; ".join(run.problems)
    if run.main_elements == 0:
        return None, "ページに何も表示されませんでした"
    if tab.current_page() != page:
        return None, f"「/{page}」ではなく「/{tab.current_page()}」を表示しました"
    if tab.selected(PREF_BOX) != pref:
        return None, f"都道府県が「{pref}」ではなく「{tab.selected(PREF_BOX)}」になっています"
    if not any(pref in text for text in run.main_text):
        return None, f"選んだ都道府県（{pref}）がページのどこにも表示されませんでした"
    shown = run.sidebar_value(BUILD_MARK)
    if shown is None:
        return None, "サイドバーにデータベースの構築時刻がありません"
    if not swap.may_show(shown):
        return shown, f"古くも新しくもないデータベースを表示（構築: {shown}）"
    return shown, None


async def act(tab: StreamlitTab, kind: str, page: str, pref: str, swap: Swap) -> tuple[Run, str | None, str | None]:
    """Make one input and check what it shows: (the run, the build shown, the error or None). A
    tab whose input failed is closed, so that its next input opens the page again."""
    try:
        if kind == "load":
            run = await tab.open(page, {"pref": pref})
        elif kind == "navigate":
            run = await tab.navigate(page)
        else:
            run = await tab.choose(PREF_BOX, pref)
    except TabError as exc:
        await tab.close()
        return Run(), None, str(exc)
    return (run, *check_run(run, tab, page, pref, swap))


async def run_session(index: int, base: str, clock, deadline: float, swap: Swap, result: Result, think: float) -> None:
    tab = StreamlitTab(base, RUN_LIMIT_SECONDS)
    pause = random.Random(index)  # a user reads the page before the next input
    pref = PREFECTURES[index % len(PREFECTURES)]
    saw_new = acted_after_swap = False
    step = 0
    try:
        # until the time is up and at least one action has started after the swap (a slow build
        # under load may end after the deadline: the session then waits for it, within a bound)
        while clock() < deadline or not acted_after_swap:
            after_swap = swap.new is not None
            if not after_swap:
                if clock() >= deadline + SWAP_WAIT_SECONDS:
                    break
                if clock() >= deadline:
                    await asyncio.sleep(0.5)
                    continue
            acted_after_swap = acted_after_swap or after_swap
            kind, page = next_action(index, step)
            if kind == "rerun":
                pref = PREFECTURES[(PREFECTURES.index(pref) + 1 + index % (len(PREFECTURES) - 1)) % len(PREFECTURES)]
            if tab.ws is None:  # the first input, or the connection was lost: open the page again
                kind = "load"
            started = clock()
            run, shown, error = await act(tab, kind, page, pref, swap)
            if error is None and after_swap and shown != swap.new:
                error = (
                    f"入れ替え後の操作で古いデータベースを表示（入れ替えから {started - swap.done_at:.1f} 秒後に"
                    f"開始、構築: {shown}）"
                )
            saw_new = saw_new or (shown is not None and shown == swap.new)
            record(
                result,
                Action(
                    index,
                    "crowd",
                    kind,
                    page,
                    round(started, 2),
                    round(clock() - started, 3),
                    run.script_runs,
                    round(run.bytes_received / 1024, 1),
                    after_swap,
                    error,
                ),
            )
            step += 1
            await asyncio.sleep(pause.uniform(0.5, 1.5) * think)
        if saw_new:
            result.sessions_seeing_new_data += 1
        else:
            result.errors.append(f"セッション{index}: 入れ替え後の新しいデータを一度も表示しませんでした")
    finally:
        await tab.close()


def record(result: Result, action: Action) -> None:
    result.actions.append(action)
    if action.error:
        result.errors.append(f"セッション{action.session} {action.kind} /{action.page}: {action.error}")


async def baseline(base: str, swap: Swap, result: Result) -> None:
    """One session alone: a warm-up open of the front page (untimed: the first run imports the app
    and fills its caches, as a deployment's smoke check after a restart does; without it, N
    sessions arriving at once at a fresh server import the app in N threads, see docs/ADMIN.md),
    then on every page: open it, change the filter, click the next page."""
    tab = StreamlitTab(base, RUN_LIMIT_SECONDS)
    try:
        warm_up = (await act(tab, "load", "", PREFECTURES[0], swap))[2]
        if warm_up:
            result.errors.append(f"最初の読み込み /: {warm_up}")
        for number, page in enumerate(PAGES):
            first, other = PREFECTURES[number % 2], PREFECTURES[1 - number % 2]
            steps = (
                ("load", page, first),
                ("rerun", page, other),
                ("navigate", PAGES[(number + 1) % len(PAGES)], other),
            )
            for kind, path, pref in steps:
                started = time.monotonic()
                run, _, error = await act(tab, kind, path, pref, swap)
                record(
                    result,
                    Action(
                        -1,
                        "solo",
                        kind,
                        path,
                        0.0,
                        round(time.monotonic() - started, 3),
                        run.script_runs,
                        round(run.bytes_received / 1024, 1),
                        False,
                        error,
                    ),
                )
    finally:
        await tab.close()


async def swap_database(sources: list[Path], db: Path, at: float, clock, swap: Swap, result: Result) -> None:
    await asyncio.sleep(max(0.0, at - clock()))
    result.swap_at = round(clock(), 1)
    swap.building = True
    fewer = [s for s in sources if s.name != DROPPED_FOLDER]
    result.build_seconds = round(await asyncio.to_thread(build_database, fewer, db, "load-test-swap"), 2)
    swap.new, swap.done_at = built_at(db), clock()


async def drive(
    server: Server,
    sessions: int,
    seconds: float,
    sources: list[Path],
    db: Path,
    result: Result,
    think: float,
    cold_start: bool = False,
) -> None:
    swap = Swap(old=built_at(db))
    if not cold_start:
        await baseline(server.base, swap, result)
    cpu_before = server.cpu_seconds()
    origin = time.monotonic()

    def clock() -> float:
        return time.monotonic() - origin

    tasks = [run_session(i, server.base, clock, seconds, swap, result, think) for i in range(sessions)]
    tasks.append(swap_database(sources, db, seconds / 3, clock, swap, result))
    await asyncio.gather(*tasks)
    result.errors.extend(swap.unconfirmed_errors())
    result.crowd_seconds = round(clock(), 1)
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        result.crowd_cpu_seconds = round(cpu_after - cpu_before, 1)


def source_folders(shared: Path) -> list[Path]:
    return sorted(p for p in shared.iterdir() if p.is_dir())


def run_load_test(
    sessions: int,
    seconds: float,
    shared: Path,
    workdir: Path | None = None,
    think: float = THINK_SECONDS,
    cold_start: bool = False,
) -> Result:
    """Build a database from ``shared``, serve it, measure one session alone (not with
    ``cold_start``: the crowd then meets the fresh server), then drive ``sessions`` at once for
    ``seconds`` (plus the time the last actions take) with a rebuild a third of the way in; return
    the figures."""
    own = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="dx-load-"))
    try:
        db = workdir / "dashboard.duckdb"
        sources = source_folders(shared)
        build_database(sources, db, "load-test")
        result = Result(sessions=sessions, seconds=seconds)
        with Server(workdir / "server.log", env={"DX_DB": str(db)}) as server:
            asyncio.run(drive(server, sessions, seconds, sources, db, result, think, cold_start))
        result.peak_rss_mb = round(server.peak_rss_kb / 1024, 1)
        if server.final_cpu_seconds is not None:
            result.server_cpu_seconds = round(server.final_cpu_seconds, 1)
        log = server.log_text()
        if "Traceback" in log:
            result.errors.append("サーバーのログに例外: " + log[log.index("Traceback") :][:1500])
        return result
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def report(result: Result) -> dict:
    """What goes into the JSON file: the figures, the errors and every action."""
    return {"summary": result.summary(), "errors": result.errors, "actions": [asdict(a) for a in result.actions]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load_test", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument(
        "--shared-data", type=Path, default=Path(os.environ.get("DX_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--think", type=float, default=THINK_SECONDS, help="mean pause between a session's inputs (s)")
    parser.add_argument(
        "--cold-start",
        action="store_true",
        help="no warm-up and no baseline: every session arrives at once at the fresh server",
    )
    parser.add_argument("--json", type=Path, help="write the figures and every action here")
    args = parser.parse_args(argv)
    result = run_load_test(args.sessions, args.seconds, args.shared_data, think=args.think, cold_start=args.cold_start)
    print("\n".join(result.lines()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report(result), ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
