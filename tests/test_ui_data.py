"""The app picks up a swapped database file while earlier cursors keep working."""

import os

import duckdb
import pytest

from ui import data


def write_db(path, value):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE marker AS SELECT ? AS value", [value])
    con.close()


def test_swapped_database_is_seen_and_old_cursors_finish(tmp_path, monkeypatch):
    target = tmp_path / "dashboard.duckdb"
    write_db(target, "old")
    monkeypatch.setenv("DX_DB", str(target))
    before = data.cursor()
    assert before.execute("SELECT value FROM marker").fetchone() == ("old",)

    staged = tmp_path / "staged.duckdb"
    write_db(staged, "new")
    os.replace(staged, target)
    os.utime(target, ns=(0, os.stat(target).st_mtime_ns + 1_000_000))  # a distinct version even on coarse clocks

    after = data.cursor()
    assert after.execute("SELECT value FROM marker").fetchone() == ("new",)
    assert before.execute("SELECT value FROM marker").fetchone() == ("old",)  # a session mid-query is not cut off
    assert data.db_key().endswith(str(os.stat(target).st_mtime_ns))


def test_the_apps_connection_reads_its_database_and_nothing_else(tmp_path, monkeypatch):
    """Read-only ATTACH first, then external access off and the configuration locked: the app's
    queries see the store, and no query can read or write another file or undo the settings."""
    target = tmp_path / "dashboard.duckdb"
    write_db(target, "store")
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n", encoding="utf-8")
    monkeypatch.setenv("DX_DB", str(target))
    con = data.cursor()
    assert con.execute("SELECT value FROM marker").fetchone() == ("store",)
    assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    side = con.cursor()  # a cursor of a cursor (metrics.summary's second thread) inherits the settings
    for handle in (con, side):
        for statement in (
            f"SELECT * FROM read_csv('{secret}')",
            f"COPY marker TO '{tmp_path / 'out.csv'}'",
            f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
            "INSTALL httpfs",
            "SET enable_external_access = true",
            "RESET lock_configuration",
        ):
            with pytest.raises(duckdb.Error):
                handle.execute(statement)
    with pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE store.evil AS SELECT 1")  # the file is attached read-only
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_each_cached_function_keeps_its_own_entries(tmp_path, monkeypatch):
    """``data.cached`` gives one wrapper per function and one cache per function: filling one
    function's cache past its 256 entries does not evict another's result (they used to share one)."""
    target = tmp_path / "dashboard.duckdb"
    write_db(target, "store")
    monkeypatch.setenv("DX_DB", str(target))
    calls = []

    def busy(con, n):
        calls.append(("busy", n))
        return n

    def quiet(con, n):
        calls.append(("quiet", n))
        return con.execute("SELECT value FROM marker").fetchone()[0]

    assert data.cached(busy) is data.cached(busy)
    assert data.cached(quiet)(0) == "store"
    for n in range(300):
        data.cached(busy)(n)
    calls.clear()
    assert data.cached(quiet)(0) == "store"
    assert data.cached(busy)(299) == 299
    assert calls == [], "both results still cached"
