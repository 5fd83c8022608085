"""The database as the app sees it: one read-only DuckDB connection per database file version.

The connection is kept per process and keyed by the file's path and modification time, so a
rebuild that swaps in a new file (``os.replace``) is picked up on the next rerun. DuckDB shares one
database instance per path within a process, so the connection to the replaced file is closed
first: while it stays open, a new ``connect`` to the same path would keep serving the old, unlinked
file. Each use takes a ``.cursor()``.
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


_connections: dict[str, tuple[int, duckdb.DuckDBPyConnection]] = {}
_connections_lock = threading.Lock()


def _connection(path: str, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    with _connections_lock:
        held = _connections.get(path)
        if held is not None and held[0] == mtime_ns:
            return held[1]
        if held is not None:
            held[1].close()
        connection = duckdb.connect(path, read_only=True)
        _connections[path] = (mtime_ns, connection)
        return connection


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the current database file (a new file after a rebuild gets a new connection)."""
    version = current_version()
    return _connection(version.path, version.mtime_ns).cursor()


def db_key() -> str:
    """Cache key for query results: changes whenever the database file is replaced."""
    version = current_version()
    return f"{version.path}:{version.mtime_ns}"


def cached(func):
    """Wrap a ``metrics`` function ``f(con, *args)`` as a cached ``g(*args)`` bound to the current DB."""

    # Every wrapper's ``run`` has the same source, which st.cache_data hashes; ``name`` keeps their entries apart.
    @st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
    def run(key: str, name: str, *args, **kwargs):
        return func(cursor(), *args, **kwargs)

    def call(*args, **kwargs):
        return run(db_key(), func.__module__ + "." + func.__qualname__, *args, **kwargs)

    call.__name__ = func.__name__
    call.__doc__ = func.__doc__
    return call


def shared(func):
    """Like ``cached``, but the result is one object shared by all sessions (``st.cache_resource``):
    for national tables that pages only filter. Callers must not modify what they get."""

    @st.cache_resource(ttl=3600, max_entries=256, show_spinner=False)
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
