"""The app picks up a swapped database file while earlier cursors keep working."""
import os

import duckdb

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
