"""The database as the app sees it: one read-only DuckDB connection per database file version.

The connection is kept per process and keyed by the file's path and modification time, so a
rebuild that swaps in a new file (``os.replace``) is picked up on the next rerun. ``duckdb.connect``
shares one database instance per path within a process (a new connect would keep serving the old,
unlinked file while any connection to it is open), so each version is an in-memory connection that
ATTACHes the file read-only (then external file access is switched off and the configuration locked): the new file opens fresh while cursors of other sessions finish their
queries on the previous version, which is closed only when a third version arrives.
Each use takes a ``.cursor()``.
Query results are cached with ``st.cache_data`` keyed by the same version (``cached``); the few
large national tables every page filters (the one-row-per-municipality summary, measures) are kept
once per process with ``st.cache_resource`` (``shared``), so a rerun does not unpickle them.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import streamlit as st

from loaders.demo import resolve_database
from store.connection import open_read_only


@dataclass(frozen=True)
class DatabaseVersion:
    path: str
    mtime_ns: int
    demo_fallback: bool


@st.cache_resource(show_spinner="デモ用データベースを準備しています…")
def _resolve() -> tuple[str, bool]:
    path, fallback = resolve_database()
    return str(path), fallback


def current_version() -> DatabaseVersion:
    # $DX_DB is read on every run (not cached), so pointing it at another file needs no restart
    configured = os.environ.get("DX_DB")
    if configured:
        return DatabaseVersion(configured, os.stat(configured).st_mtime_ns, False)
    path, fallback = _resolve()
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        _resolve.clear()
        path, fallback = _resolve()
        mtime = os.stat(path).st_mtime_ns
    return DatabaseVersion(path, mtime, fallback)


_connections: dict[tuple[str, int], duckdb.DuckDBPyConnection] = {}
_connections_lock = threading.Lock()
KEEP_OPEN_VERSIONS = 2


def _connection(path: str, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    with _connections_lock:
        key = (path, mtime_ns)
        if key not in _connections:
            _connections[key] = open_read_only(path)
            for old_key in list(_connections)[:-KEEP_OPEN_VERSIONS]:
                _connections.pop(old_key).close()
        return _connections[key]


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the current database file (a new file after a rebuild gets a new connection)."""
    version = current_version()
    handle = _connection(version.path, version.mtime_ns).cursor()
    handle.execute("USE store")
    return handle


def db_key() -> str:
    """Cache key for query results: changes whenever the database file is replaced."""
    version = current_version()
    return f"{version.path}:{version.mtime_ns}"


def cached(func):
    """Wrap a ``metrics`` function ``f(con, *args)`` as a cached ``g(*args)`` bound to the current DB."""
    return _bound(st.cache_data(ttl=3600, max_entries=256, show_spinner=False), func)


def shared(func):
    """Like ``cached``, but the result is one object shared by all sessions (``st.cache_resource``):
    for national tables that pages only filter. Callers must not modify what they get."""
    return _bound(st.cache_resource(ttl=3600, max_entries=256, show_spinner=False), func)


def _bound(cache, func):
    # Every wrapper's ``run`` has the same source, which Streamlit's caches hash; ``name`` keeps their
    # entries apart, and the database version in ``key`` drops them when the file is replaced.
    @cache
    def run(key: str, name: str, *args, **kwargs):
        return func(cursor(), *args, **kwargs)

    def call(*args, **kwargs):
        return run(db_key(), func.__module__ + "." + func.__qualname__, *args, **kwargs)

    call.__name__ = func.__name__
    call.__doc__ = func.__doc__
    return call


def refresh() -> None:
    """Forget which database file to show (after a build created data/dashboard.duckdb)."""
    _resolve.clear()


def database_path() -> Path:
    return Path(current_version().path)


def is_demo_fallback() -> bool:
    """True when no database was configured or built and the app shows the embedded demo."""
    return current_version().demo_fallback
