"""Opening a database file for the app: read-only, and unable to reach any other file."""

from __future__ import annotations

from functools import cache

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


def missing_columns(connection: duckdb.DuckDBPyConnection, catalog: str = CATALOG) -> list[str]:
    """The tables and columns of store/schema.sql that the database attached as ``catalog`` lacks
    (「table」 for a whole table, 「table.column」 for a column): a store built by an earlier version
    of the app, which this version's pages cannot read. Empty for a store of this version."""
    present = set(connection.execute(_COLUMNS, [catalog]).fetchall())
    tables = {table for table, _ in present}
    missing = sorted(schema_columns() - present)
    whole = sorted({table for table, _ in missing if table not in tables})
    return whole + [f"{table}.{column}" for table, column in missing if table in tables]
