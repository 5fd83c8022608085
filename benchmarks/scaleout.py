"""Scale-out: the load test (tests/load_test.py) through nginx in front of one, then two replicas.

The database is built from ../shared/data with ``python -m loaders build`` (as an administrator
does). For each phase, N ``streamlit run app.py`` processes (``--server.headless true``, one port
each, the same DX_DB) start behind nginx — Debian's package, run with a config rendered from
deploy/nginx.conf.template into a temporary folder (its pid, logs and temp files there), so the
proxy measured is the proxy deployed. Each replica's first page is opened once directly (the
import a deployment's smoke check does), then ``sessions`` load-test tabs (tests/streamlit_client.py,
which keep nginx's route cookie as a browser does) act with no pause between inputs for
``seconds``: the servers at saturation. Reported per phase: p95 of each kind of action and the
throughput (actions finished without error per second); the ratio two ÷ one is the figure
(target ≥ 1.6 on a quiet 2-core machine).

Then, with both replicas still running, a tab on each replica (directly, by its port) holds a page,
the database is rebuilt with one source folder fewer (``loaders build``: the administration
replica's atomic swap, no replica restarted), and each tab changes its filter: every replica must
show the new build, and a new tab through nginx too. Errors (every check of the load test, a route
served by two replicas in nginx's access log, a traceback in a replica's log) must be 0.

    python -m benchmarks --only scaleout                  # the measurement (about 6 minutes)
    python -m benchmarks --only scaleout --quick          # short mode: proves it works (CI)
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from benchmarks.browser import free_port, stop_process
from benchmarks.core import Result, Run
from deploy import nginx as nginx_conf
from tests import load_test
from tests.streamlit_client import StreamlitTab

NAME = "scale-out"
RATIO_TARGET = 1.6
FULL = {"sessions": 24, "seconds": 120.0}
QUICK = {"sessions": 4, "seconds": 15.0}
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


def nginx_binary() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class Nginx:
    """Debian's nginx in the foreground with a private config (deploy.nginx.write_private)."""

    def __init__(self, folder: Path, servers: list[str]):
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = nginx_conf.write_private(folder, self.port, servers)
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        command = [binary, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t: {checked.stderr[-1000:]}")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> Nginx:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'error.log').read_text(errors='replace')[-1000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise TimeoutError("nginx did not answer")

    def __exit__(self, *exc) -> None:
        stop_process(self.process, timeout=10)

    def routes(self) -> dict[str, set[str]]:
        """Route id → the replicas (upstream addresses) that served it, from the access log."""
        served: dict[str, set[str]] = {}
        log = self.folder / "access.log"
        for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
            found = re.search(r"route=(\S+) upstream=(\S+)", line)
            if found and found.group(2) != "-":
                served.setdefault(found.group(1), set()).update(found.group(2).split(", "))
        return served


@dataclass
class Phase:
    replicas: int
    result: load_test.Result
    throughput: float  # actions finished without error per second
    routes: dict[str, set[str]]
    driver_cpu_seconds: float  # this process (the load test's tabs) during the crowd: it shares the cores

    def cpu_note(self) -> str:
        seconds = self.result.crowd_seconds or 0
        if not seconds:
            return ""
        replicas = self.result.crowd_cpu_seconds
        served = f"replicas {100 * replicas / seconds:.0f} %" if replicas is not None else "replicas ?"
        return f"{self.replicas}: {served}, load driver {100 * self.driver_cpu_seconds / seconds:.0f} % of one core"


class Replicas:
    """N tests.load_test.Server processes on one database; ``cpu_seconds`` sums them (the load
    test's driver reads it)."""

    def __init__(self, servers: list[load_test.Server]):
        self.servers = servers

    def cpu_seconds(self) -> float | None:
        values = [server.cpu_seconds() for server in self.servers]
        return None if None in values else sum(values)


async def warm_up(servers: list[load_test.Server], swap: load_test.Swap, errors: list[str]) -> None:
    for server in servers:
        tab = StreamlitTab(server.base, load_test.RUN_LIMIT_SECONDS)
        try:
            error = (await load_test.act(tab, "load", "", load_test.PREFECTURES[0], swap))[2]
            if error:
                errors.append(f"最初の読み込み（{server.base}）: {error}")
        finally:
            await tab.close()


async def crowd(base: str, sessions: int, seconds: float, swap: load_test.Swap, result: load_test.Result) -> None:
    origin = time.monotonic()

    def clock() -> float:
        return time.monotonic() - origin

    # think=0: each tab acts again as soon as its last input has been drawn (saturation)
    await asyncio.gather(*(load_test.run_session(i, base, clock, seconds, swap, result, 0.0) for i in range(sessions)))
    result.crowd_seconds = round(clock(), 1)


def run_phase(work: Path, db: Path, replicas: int, sessions: int, seconds: float) -> Phase:
    folder = work / f"{replicas}-replicas"
    folder.mkdir(parents=True, exist_ok=True)
    build = load_test.built_at(db)
    swap = load_test.Swap(old=build, new=build, done_at=0.0)  # no swap during the throughput phase
    result = load_test.Result(sessions=sessions, seconds=seconds)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(load_test.Server(folder / f"replica-{i}.log", env={"DX_DB": str(db)}))
            for i in range(replicas)
        ]
        proxy = stack.enter_context(Nginx(folder / "nginx", [f"127.0.0.1:{s.port}" for s in servers]))
        asyncio.run(warm_up(servers, swap, result.errors))
        cpu_before = Replicas(servers).cpu_seconds()
        driver_before = time.process_time()
        asyncio.run(crowd(proxy.base, sessions, seconds, swap, result))
        driver_cpu = time.process_time() - driver_before
        cpu_after = Replicas(servers).cpu_seconds()
        if cpu_before is not None and cpu_after is not None:
            result.crowd_cpu_seconds = round(cpu_after - cpu_before, 1)
        routes = proxy.routes()
    check_logs(servers, result)
    check_sticky(routes, result)
    done = [a for a in result.actions if a.error is None]
    throughput = len(done) / result.crowd_seconds if result.crowd_seconds else 0.0
    return Phase(replicas, result, throughput, routes, driver_cpu)


def check_logs(servers: list[load_test.Server], result: load_test.Result) -> None:
    for server in servers:
        log = server.log_text()
        if "Traceback" in log:
            result.errors.append(f"{server.base} のログに例外: " + log[log.index("Traceback") :][:1500])


def check_sticky(routes: dict[str, set[str]], result: load_test.Result) -> None:
    for route, upstreams in routes.items():
        if len(upstreams) > 1:
            result.errors.append(f"経路 {route} の要求が複数のレプリカに届きました: {sorted(upstreams)}")


async def swap_seen(servers: list[load_test.Server], proxy_base: str, sources: list[Path], db: Path) -> list[str]:
    """A tab on each replica holds a page; the database is rebuilt; each tab's next input (and a
    new tab through nginx) must show the new build. Returns the errors."""
    errors: list[str] = []
    old = load_test.built_at(db)
    before = load_test.Swap(old=old)
    tabs = [StreamlitTab(server.base, load_test.RUN_LIMIT_SECONDS) for server in servers]
    try:
        for tab in tabs:
            _, shown, error = await load_test.act(tab, "load", "", load_test.PREFECTURES[0], before)
            if error or shown != old:
                errors.append(f"入れ替え前（{tab.base}）: {error or shown}")
        fewer = [s for s in sources if s.name != load_test.DROPPED_FOLDER]
        await asyncio.to_thread(load_test.build_database, fewer, db, "scale-out-swap")
        after = load_test.Swap(old=old, new=load_test.built_at(db))
        if after.new == old:
            errors.append("再構築しても構築時刻が変わりませんでした")
        for tab in tabs:
            _, shown, error = await load_test.act(tab, "rerun", "", load_test.PREFECTURES[1], after)
            if error or shown != after.new:
                errors.append(f"入れ替え後、{tab.base} が新しいデータを表示しませんでした: {error or shown}")
        fresh = StreamlitTab(proxy_base, load_test.RUN_LIMIT_SECONDS)
        tabs.append(fresh)
        _, shown, error = await load_test.act(fresh, "load", "", load_test.PREFECTURES[2], after)
        if error or shown != after.new:
            errors.append(f"入れ替え後、nginx 経由の新しいタブが新しいデータを表示しませんでした: {error or shown}")
    finally:
        for tab in tabs:
            await tab.close()
    return errors


def run_swap_check(work: Path, db: Path, sources: list[Path]) -> list[str]:
    folder = work / "swap"
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(load_test.Server(folder / f"replica-{i}.log", env={"DX_DB": str(db)})) for i in range(2)
        ]
        proxy = stack.enter_context(Nginx(folder / "nginx", [f"127.0.0.1:{s.port}" for s in servers]))
        errors = asyncio.run(swap_seen(servers, proxy.base, sources, db))
    result = load_test.Result(sessions=0, seconds=0)
    check_logs(servers, result)
    return errors + result.errors


def run_case(run: Run, work: Path, shared: Path, quick: bool) -> None:
    """The scale-out case: rows for each phase's p95 per action and throughput, the ratio, the swap
    seen by every replica and the error count."""
    if nginx_binary() is None:
        run.add(Result.skip(f"{NAME}: throughput 2 replicas ÷ 1", "actions/s", "nginx is not installed"))
        return
    size = QUICK if quick else FULL
    folder = work / "scaleout"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "dashboard.duckdb"
    sources = load_test.source_folders(shared)
    load_test.build_database(sources, db, "scale-out")
    phases = [run_phase(folder, db, replicas, size["sessions"], size["seconds"]) for replicas in (1, 2)]
    swap_errors = run_swap_check(folder, db, sources)
    for phase in phases:
        label = f"{phase.replicas} replica{'s' if phase.replicas > 1 else ''}"
        summary = phase.result.summary()
        for kind, title in (("load", "open page"), ("navigate", "navigation"), ("rerun", "filter change")):
            spread = summary["crowd"][kind]
            if spread["count"]:
                run.add(
                    Result(
                        name=f"{NAME}: p95 {title}, {label}",
                        unit="s",
                        median=spread["p95"],
                        min=spread["p50"],
                        max=spread["max"],
                        runs=spread["count"],
                        note=f"{size['sessions']} sessions without pauses through nginx; min column = p50",
                    )
                )
    one, two = phases
    ratio = two.throughput / one.throughput if one.throughput else None
    shares = sorted(
        len([r for r, ups in two.routes.items() if up in ups]) for up in {u for s in two.routes.values() for u in s}
    )
    run.add(
        Result(
            name=f"{NAME}: throughput 2 replicas ÷ 1",
            unit="actions/s",
            median=two.throughput,
            min=two.throughput,
            max=two.throughput,
            runs=len(two.result.actions),
            baseline=one.throughput,
            baseline_what="1 replica behind nginx",
            ratio=ratio,
            met=None if quick or ratio is None else ratio >= RATIO_TARGET,
            note=f"target ratio ≥ {RATIO_TARGET}; {size['sessions']} sessions, {size['seconds']:.0f} s per phase; "
            f"routes per replica {shares}; CPU {one.cpu_note()}; {two.cpu_note()}"
            + ("; quick mode: not judged" if quick else ""),
        )
    )
    errors = one.result.errors + two.result.errors + swap_errors
    for error in errors[:20]:
        print(f"    {error[:300]}", flush=True)
    run.add(
        Result(
            name=f"{NAME}: errors",
            unit="errors",
            median=float(len(errors)),
            min=float(len(errors)),
            max=float(len(errors)),
            runs=len(one.result.actions) + len(two.result.actions),
            target=0.0,
            met=not errors,
            note=f"new build seen by every replica after the swap: {'no' if swap_errors else 'yes'}",
        )
    )
