"""Atomic rebuilds (issue #8): SIGKILL at random moments, readers during swaps, open connections, versions.

The database at the target path is always a complete store, the old one or the new one; killed builds
leave only hidden ``.building-*`` files, which the next build removes; the last N versions are kept and
``python -m loaders rollback`` restores one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from loaders import store
from loaders.build import build
from loaders.errors import LoaderError
from loaders.store import check_database, list_versions

ROOT = Path(__file__).resolve().parent.parent
KILL_TRIALS = int(os.environ.get("DX_KILL_TRIALS", "24"))
SEED = int(os.environ.get("DX_KILL_SEED", "8"))


@pytest.fixture(scope="module")
def sources(shared_data, tmp_path_factory) -> dict[str, Path]:
    """Two small source folders: 'old' (one prefecture file) and 'new' (adds municipal, census and area files)."""
    root = tmp_path_factory.mktemp("sources")
    old, new = root / "old", root / "new"
    old.mkdir()
    new.mkdir()
    # re-saved in Shift_JIS: not a known release (data/releases.yaml), so the tests' --as-of dates apply to it
    text = (shared_data / "digital-agency" / "都道府県のDX進捗状況_都道府県比較.csv").read_text(encoding="utf-8-sig")
    (old / "pref.csv").write_bytes(text.encode("cp932"))
    for path in (
        old / "pref.csv",
        shared_data / "digital-agency" / "市区町村毎のDX進捗状況_市区町村比較.csv",
        shared_data / "estat-census-2025" / "kokusei2025sokuho.csv",
        shared_data / "gsi-area" / "area20240101.csv",
    ):
        shutil.copy(path, new / path.name)
    return {"old": old, "new": new}


def cli(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "loaders", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def building_files(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.building-*"))


# ---------------------------------------------------------------- SIGKILL at random moments


def test_sigkill_at_random_moments_leaves_the_old_or_the_new_database(sources, tmp_path):
    target = tmp_path / "store" / "dashboard.duckdb"
    build([sources["old"]], target)
    old_counts = check_database(target)
    old_copy = tmp_path / "old.duckdb"
    shutil.copy(target, old_copy)
    started = time.perf_counter()
    finished = cli("build", "--source", str(sources["new"]), "--db", str(target))
    assert finished.wait(timeout=120) == 0, finished.stderr.read()
    duration = time.perf_counter() - started
    new_counts = check_database(target)
    assert new_counts != old_counts

    rng = random.Random(SEED)
    seen = Counter()
    began = time.perf_counter()
    for trial in range(KILL_TRIALS):
        if trial % 2 == 0:  # start from the old database again, half of the time
            shutil.copy(old_copy, target.with_name("restore.tmp"))
            os.replace(target.with_name("restore.tmp"), target)
        # stratified over the whole build and a little after it (a build's time varies from run to run)
        delay = duration * 1.4 * (trial + rng.random()) / KILL_TRIALS
        process = cli("build", "--source", str(sources["new"]), "--db", str(target))
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        counts = check_database(target)  # opens read-only; raises unless complete
        assert counts in (old_counts, new_counts), f"trial {trial} (kill after {delay:.2f} s): {counts}"
        seen["old" if counts == old_counts else "new"] += 1
        seen["left a build file"] += bool(building_files(target))
        # nothing partial is ever listed as a version or named like the database
        for version in list_versions(target):
            assert check_database(version) in (old_counts, new_counts), version.name
        assert {p.name for p in target.parent.iterdir() if not p.name.startswith(".")} <= {target.name, "versions"}
    # each trial ends within about one build (≈ 1 s here: 24 trials in ≈ 25 s), however slow the machine
    assert time.perf_counter() - began < KILL_TRIALS * (1.4 * duration + 2), seen
    assert seen["old"] and seen["new"], seen  # kills landed both before and after the swap
    assert seen["left a build file"], seen  # and some in the middle of writing

    stale = building_files(target)
    build([sources["old"]], target, force=True)  # the next build removes what killed builds left behind
    assert not building_files(target), [p.name for p in building_files(target)]
    assert check_database(target) == old_counts
    print(f"kill trials: {KILL_TRIALS}, {dict(seen)}, stale files removed: {len(stale)}")


def test_next_build_keeps_the_file_of_a_live_build(sources, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(dead.stdout)
        stale = target.with_name(f".{target.name}.building-20260101-000000-000000-{dead_pid}")
        live = target.with_name(f".{target.name}.building-20260101-000000-000001-{sleeper.pid}")
        for path in (stale, Path(f"{stale}.wal"), live):
            path.write_bytes(b"partial")
        build([sources["old"]], target)
        assert building_files(target) == [live]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert store.discard_stale_builds(target) == [live]


# ---------------------------------------------------------------- readers during swaps

READER = textwrap.dedent("""
    import json, sys, time, duckdb
    from pathlib import Path
    target, stop = Path(sys.argv[1]), Path(sys.argv[2])
    while not stop.exists():
        try:
            con = duckdb.connect(str(target), read_only=True)
            try:
                complete = con.execute("SELECT value FROM build_info WHERE key = 'complete'").fetchone()
                counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                          for t in ("municipalities", "indicator_values", "ingest_log")]
            finally:
                con.close()
            print(json.dumps({"complete": complete[0] if complete else None, "counts": counts}), flush=True)
        except Exception as exc:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
""")


def test_readers_see_only_complete_databases_while_builds_swap(sources, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    states = {}
    for name in ("new", "old"):
        build([sources[name]], target, force=True)
        con = duckdb.connect(str(target), read_only=True)
        states[name] = [
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("municipalities", "indicator_values", "ingest_log")
        ]
        con.close()
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(target), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # the reader is importing duckdb and starting its loop
        for name in ("new", "old", "new", "old", "new"):
            build([sources[name]], target, force=True)  # "old" holds less: forced past the shrink guard
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=60)
    observations = [json.loads(line) for line in output.splitlines()]
    errors = [o["error"] for o in observations if "error" in o]
    assert not errors, errors[:5]
    assert all(o["complete"] == "true" for o in observations)
    assert {tuple(o["counts"]) for o in observations} <= {tuple(states["old"]), tuple(states["new"])}
    assert len(observations) >= 20 and len({tuple(o["counts"]) for o in observations}) == 2, len(observations)


# ---------------------------------------------------------------- open connections and refresh


def indicator_rows(con) -> int:
    return con.execute("SELECT count(*) FROM indicator_values").fetchone()[0]


def test_open_connection_keeps_the_old_file_and_a_refresh_sees_the_new_one(sources, tmp_path):
    """What the app must do after a swap: an open connection goes on serving the old (unlinked) file, and in
    the same process DuckDB hands out that same old database for the path until it is closed."""
    target = tmp_path / "dashboard.duckdb"
    build([sources["old"]], target)
    before = os.stat(target)
    old_rows = indicator_rows(duckdb.connect(str(target), read_only=True))
    held = duckdb.connect(str(target), read_only=True)
    cursor = held.cursor()

    build([sources["new"]], target)
    after = os.stat(target)
    assert (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns)  # the key ui/data.py uses changes
    assert indicator_rows(held) == indicator_rows(cursor) == old_rows  # the open connection: old file, consistent
    # the trap: connecting by path while the old connection is open returns DuckDB's cached old database
    assert indicator_rows(duckdb.connect(str(target), read_only=True)) == old_rows
    # another process (or a fresh in-memory database attaching the file) sees the new file
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True)"
            ".execute('SELECT count(*) FROM indicator_values').fetchone()[0])",
            str(target),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    new_rows = int(fresh.stdout)
    assert new_rows > old_rows
    attached = duckdb.connect()
    attached.execute("ATTACH ? AS store (READ_ONLY)", [str(target)])
    attached.execute("USE store")
    assert indicator_rows(attached) == new_rows
    # refresh in this process: close the old connection, then connecting by path gives the new file
    held.close()
    assert indicator_rows(duckdb.connect(str(target), read_only=True)) == new_rows


# ---------------------------------------------------------------- versions and rollback


def as_of(target: Path) -> str:
    con = duckdb.connect(str(target), read_only=True)
    try:
        return str(con.execute("SELECT max(as_of) FROM indicator_values").fetchone()[0])
    finally:
        con.close()


def test_last_versions_are_kept_and_cli_rollback_restores_one(sources, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    dates = [f"202{i}-04-01" for i in range(store.KEEP_VERSIONS + 2)]
    for date in dates:
        build([sources["old"]], target, as_of=date)
    versions = list_versions(target)
    assert len(versions) == store.KEEP_VERSIONS
    assert [as_of(v) for v in versions] == dates[-2::-1][: store.KEEP_VERSIONS]  # newest first, oldest pruned

    listed = subprocess.run(
        [sys.executable, "-m", "loaders", "versions", "--db", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0 and listed.stdout.split() == [str(v) for v in versions]

    back = subprocess.run(
        [sys.executable, "-m", "loaders", "rollback", "--db", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert back.returncode == 0, back.stderr
    assert as_of(target) == dates[-2]
    check_database(target)
    oldest = list_versions(target)[-1]
    chosen = subprocess.run(
        [sys.executable, "-m", "loaders", "rollback", "--db", str(target), "--version", str(oldest)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert chosen.returncode == 0, chosen.stderr
    assert as_of(target) == dates[-1 - store.KEEP_VERSIONS]
    assert not building_files(target)

    empty = tmp_path / "other" / "dashboard.duckdb"
    build([sources["old"]], empty)
    refused = subprocess.run(
        [sys.executable, "-m", "loaders", "rollback", "--db", str(empty)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and "戻せる以前のデータベースがありません" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_rollback_refuses_a_version_that_is_not_a_complete_database(sources, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    build([sources["old"]], target, as_of="2025-04-01")
    build([sources["old"]], target, as_of="2026-04-01")
    broken = list_versions(target)[0]
    broken.unlink()
    broken.write_bytes(b"not a database")
    before = target.read_bytes()
    with pytest.raises(LoaderError):
        store.rollback(target)
    assert target.read_bytes() == before
    assert not building_files(target)


def test_a_kept_version_tells_when_it_was_replaced(tmp_path):
    from datetime import datetime, timedelta

    target, built = tmp_path / "dashboard.duckdb", tmp_path / "new.duckdb"
    target.write_bytes(b"old")
    built.write_bytes(b"new")
    before = datetime.now()
    kept = store.swap_in(built, target)
    assert kept is not None and before <= store.replaced_at(kept) <= datetime.now() + timedelta(seconds=1)
    # a file named otherwise falls back to its file time
    odd = tmp_path / "versions" / "dashboard-copy.duckdb"
    odd.write_bytes(b"x")
    os.utime(odd, (0, 86400))
    assert store.replaced_at(odd) == datetime.fromtimestamp(86400)
