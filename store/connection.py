"""Opening a database file for the app: read-only, and unable to reach any other file."""

from __future__ import annotations

import duckdb

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
