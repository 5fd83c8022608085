"""Opening a database file for the app: read-only, and unable to reach any other file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import duckdb

from store.paths import SCHEMA_SQL

# the catalog name under which the file is attached; a cursor runs ``USE store`` before its queries
CATALOG = "store"
LOCKED_SETTINGS = ("SET enable_external_access = false", "SET lock_configuration = true")


def open_read_only(path: str) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the file ATTACHed read-only as ``store``.

    An in-memory connection rather than ``duckdb.connect(path)``: DuckDB shares one database instance
    per path within a process, so a replaced file would keep being served while any connection to the
    old one is open; an ATTACH opens the new file fresh."""
    connection = duckdb.connect()
    # ATTACH takes no bound parameters; the path is the app's own setting, quoted as a SQL literal
    literal = "'" + path.replace("'", "''") + "'"
    connection.execute(f"ATTACH {literal} AS {CATALOG} (READ_ONLY)")
    # then no query of the app can touch another file (read_csv('/etc/passwd'), COPY … TO, ATTACH,
    # extensions), and no query can switch that back: set after the ATTACH, which needs file access
    for setting in LOCKED_SETTINGS:
        connection.execute(setting)
    return connection


@cache
def schema_columns() -> frozenset[tuple[str, str]]:
    """(table, column) of every table store/schema.sql creates: what this version of the app reads."""
    scratch = duckdb.connect()
    try:
        scratch.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        return frozenset(
            scratch.execute(_COLUMNS, [scratch.execute("SELECT current_database()").fetchone()[0]]).fetchall()
        )
    finally:
        scratch.close()


_COLUMNS = (
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'main'"
)


@dataclass(frozen=True)
class StoreProblem:
    """Why this version of the app cannot show a store. ``kind``: 「foreign」 — no build_info table, not
    a file the build made; 「incomplete」 — its build did not finish (a file copied into place mid-way);
    「outdated」 — an earlier version built it, and ``missing`` names the tables and columns of
    store/schema.sql it lacks (「table」 for a whole table, 「table.column」 for a column)."""

    kind: Literal["foreign", "incomplete", "outdated"]
    missing: tuple[str, ...] = ()


_COMPLETE = f"SELECT value FROM {CATALOG}.build_info WHERE key = 'complete'"


def store_problem(connection: duckdb.DuckDBPyConnection) -> StoreProblem | None:
    """What keeps the store a connection of ``open_read_only`` attached from being shown; None when
    this version of the app can show it."""
    present = set(connection.execute(_COLUMNS, [CATALOG]).fetchall())
    if ("build_info", "value") not in present:
        return StoreProblem("foreign")
    complete = connection.execute(_COMPLETE).fetchone()
    if not complete or complete[0] != "true":
        return StoreProblem("incomplete")
    missing = sorted(schema_columns() - present)
    if not missing:
        return None
    tables = {table for table, _ in present}
    whole = sorted({table for table, _ in missing if table not in tables})
    columns = [f"{table}.{column}" for table, column in missing if table in tables]
    return StoreProblem("outdated", tuple(whole + columns))
