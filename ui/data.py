"""The database as the app sees it: one read-only DuckDB connection per database file version.

The connection is a ``st.cache_resource`` keyed by the file's path and modification time, so a
rebuild that swaps in a new file (``os.replace``) is picked up on the next rerun: an open
connection would otherwise keep serving the old, unlinked file. Each use takes a ``.cursor()``.
Query results are cached with ``st.cache_data`` keyed by the same version.
"""
from __future__ import annotations

import os
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
    path, fallback = _resolve()
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        _resolve.clear()
        path, fallback = _resolve()
        mtime = os.stat(path).st_mtime_ns
    return DatabaseVersion(path, mtime, fallback)


@st.cache_resource(max_entries=2)
def _connection(path: str, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


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


def database_path() -> Path:
    return Path(current_version().path)
