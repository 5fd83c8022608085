"""The database as the app sees it: one read-only DuckDB connection per database file version.

The connection is kept per process and keyed by the file's path, inode and modification time, so a
rebuild that swaps in a new file (``os.replace``) is picked up on the next rerun. ``duckdb.connect``
shares one database instance per path within a process (a new connect would keep serving the old,
unlinked file while any connection to it is open), so each version is an in-memory connection that
ATTACHes the file read-only (``store.connection.open_read_only``: external file access then off,
the configuration locked): the new file opens fresh while cursors of other sessions finish their
queries on the previous version, which is closed only when a third version arrives.
Each use takes a ``.cursor()``.
Replicas behind a load balancer (deploy/README.md) share one file on a read-only volume: each
notices another process's swap by the same check on its next rerun (a ``stat``, no query).
When the configured file is missing or cannot be opened (a replica started before the first build,
an operator copying a file into place by hand), the process keeps serving the last version it
opened; with none, ``unavailable()`` says why and app.py shows 「データを準備中です」 instead of
a traceback. With ``DX_DB`` set, or ``DX_REQUIRE_DB=1``, the demo is never built in its place.
Query results are cached with ``st.cache_data`` keyed by the same version (``cached``); the few
large national tables every page filters (the one-row-per-municipality summary, measures) are kept
once per process with ``st.cache_resource`` (``shared``), so a rerun does not unpickle them.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import streamlit as st

from loaders.demo import resolve_database
from loaders.store import replaced_at
from metrics import tables
from store.connection import CATALOG, open_read_only, store_problem
from store.dates import japanese_date
from store.paths import DEFAULT_DB

LOG = logging.getLogger("dx_dashboard")


REQUIRE_ENV = "DX_REQUIRE_DB"


@dataclass(frozen=True)
class DatabaseVersion:
    path: str
    mtime_ns: int
    demo_fallback: bool
    inode: int = 0  # a swapped-in file is a new inode even when its mtime ties with the old one's


class DatabaseUnavailable(Exception):
    """No database to show yet: ``reason`` is "missing" (no file at the configured path),
    "unreadable" (a file that is not a complete store) or "outdated" (a store an earlier version of
    the app built, without tables this version reads). Never shown as such: see ``unavailable``."""

    def __init__(self, reason: str, path: str, detail: str = ""):
        super().__init__(f"{reason}: {path} {detail}".strip())
        self.reason = reason
        self.path = path


def configured_path() -> str | None:
    """The database a deployment names: $DX_DB, or data/dashboard.duckdb with DX_REQUIRE_DB=1;
    None when the app may fall back to (and build) the demo."""
    configured = os.environ.get("DX_DB")
    if configured:
        return configured
    if os.environ.get(REQUIRE_ENV) == "1":
        return str(DEFAULT_DB)
    return None


@st.cache_resource(show_spinner="デモ用データベースを準備しています…")
def _resolve() -> tuple[str, bool]:
    path, fallback = resolve_database()
    return str(path), fallback


def current_version() -> DatabaseVersion:
    """The database file to read now; DatabaseUnavailable when there is none and none was opened before."""
    # $DX_DB is read on every run (not cached), so pointing it at another file needs no restart
    configured = configured_path()
    if configured:
        try:
            found = os.stat(configured)
        except OSError as error:
            previous = _last_opened(configured)
            if previous is None:
                raise DatabaseUnavailable("missing", configured, str(error)) from error
            return previous  # mid-way through an operator's move or restore: the version this process has
        return DatabaseVersion(configured, found.st_mtime_ns, False, found.st_ino)
    path, fallback = _resolve()
    try:
        found = os.stat(path)
    except FileNotFoundError:
        _resolve.clear()
        path, fallback = _resolve()
        found = os.stat(path)
    return DatabaseVersion(path, found.st_mtime_ns, fallback, found.st_ino)


_connections: dict[DatabaseVersion, duckdb.DuckDBPyConnection] = {}
_connections_lock = threading.Lock()
_unopenable: dict[DatabaseVersion, DatabaseUnavailable] = {}
KEEP_OPEN_VERSIONS = 2


def _check_store(connection: duckdb.DuckDBPyConnection, path: str) -> None:
    """Refuse a store this version cannot show: one whose build did not finish, or one an earlier
    version of the app built. A file the build did not make (the tests' small databases) is read as it is."""
    problem = store_problem(connection)
    if problem is None or problem.kind == "foreign":
        return
    if problem.kind == "incomplete":
        raise DatabaseUnavailable("unreadable", path, "the store is not marked complete")
    raise DatabaseUnavailable(
        "outdated",
        path,
        "built by an earlier version of the app; rebuild it (python -m loaders build). "
        f"Missing: {', '.join(problem.missing[:10])}",
    )


def _last_opened(path: str) -> DatabaseVersion | None:
    with _connections_lock:
        opened = [version for version in _connections if version.path == path]
    return opened[-1] if opened else None


def _connection(version: DatabaseVersion) -> tuple[DatabaseVersion, duckdb.DuckDBPyConnection]:
    """The open connection of ``version`` (opened now if new); when the file cannot be opened, the
    last version of the same path this process opened, else DatabaseUnavailable."""
    with _connections_lock:
        if version in _connections:
            return version, _connections[version]
        problem = _unopenable.get(version)
        if problem is None:
            try:
                connection = _open_checked(version.path)
            except DatabaseUnavailable as error:
                LOG.warning("cannot open %s: %s", version.path, error)
                problem = _unopenable[version] = error  # tried once per file version, not on every query
            else:
                _connections[version] = connection
                for old_version in list(_connections)[:-KEEP_OPEN_VERSIONS]:
                    _connections.pop(old_version).close()
                return version, connection
        opened = [known for known in _connections if known.path == version.path]
        if opened:  # keep serving what this process had: the sessions' pages stay as they were
            return opened[-1], _connections[opened[-1]]
        raise problem


def _open_checked(path: str) -> duckdb.DuckDBPyConnection:
    try:
        connection = open_read_only(path)
    except duckdb.Error as error:
        raise DatabaseUnavailable("unreadable", path, str(error)) from error
    try:
        _check_store(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def serving_version() -> DatabaseVersion:
    """The version queries read now: the current file, or the last one opened if it cannot be."""
    return _connection(current_version())[0]


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the current database file (a new file after a rebuild gets a new connection)."""
    handle = _connection(current_version())[1].cursor()
    handle.execute("USE store")
    return handle


def db_key() -> str:
    """Cache key for query results: changes whenever the database file is replaced."""
    version = serving_version()
    return f"{version.path}:{version.inode}:{version.mtime_ns}"


def unavailable() -> DatabaseUnavailable | None:
    """Why there is nothing to show (app.py then draws 「データを準備中です」), or None when there is."""
    try:
        serving_version()
    except DatabaseUnavailable as problem:
        LOG.warning("no database to show yet: %s", problem)
        return problem
    return None


def cached(func):
    """Wrap a ``metrics`` function ``f(con, *args)`` as a cached ``g(*args)`` bound to the current DB."""
    return _bound(st.cache_data, func, MAX_ENTRIES)


def shared(func, max_entries: int = 0):
    """Like ``cached``, but the result is one object shared by all sessions (``st.cache_resource``):
    for national tables that pages only filter, and large views built once. Callers must not modify
    what they get. ``max_entries``: fewer than the default for results of many megabytes."""
    return _bound(st.cache_resource, func, max_entries or MAX_ENTRIES)


MAX_ENTRIES = 256
_wrappers: dict[tuple[object, object], object] = {}


def _bound(cache, func, max_entries: int):
    """One cached wrapper per function, made once per process (the first call's ``max_entries``
    holds): Streamlit keys a cache by the wrapped function's module, qualified name and source, so
    each function gets a ``run`` of its own name (one shared ``run`` would put every function's
    results in one cache, and a wrapper made on every call would hash its source again each time).
    The database version in ``key`` drops the entries when the file is replaced."""
    wrapper = _wrappers.get((cache, func))
    if wrapper is not None:
        return wrapper

    def run(key: str, *args, **kwargs):
        return func(cursor(), *args, **kwargs)

    run.__qualname__ = f"run[{func.__module__}.{func.__qualname__}]"
    cached_run = cache(ttl=3600, max_entries=max_entries, show_spinner=False)(run)

    def call(*args, **kwargs):
        return cached_run(db_key(), *args, **kwargs)

    call.__name__ = func.__name__
    call.__doc__ = func.__doc__
    return _wrappers.setdefault((cache, func), call)


def refresh() -> None:
    """Forget which database file to show (after a build created data/dashboard.duckdb)."""
    _resolve.clear()


def database_path() -> Path:
    return Path(serving_version().path)


def is_demo_fallback() -> bool:
    """True when no database was configured or built and the app shows the embedded demo."""
    return current_version().demo_fallback


def version_label(path: Path) -> str:
    """A kept version of the database as an administrator chooses it: until when it was shown, when
    and by whom it was built and whether it is the demo, never its file name."""
    try:
        stat = Path(path).stat()
    except OSError:  # pruned or rolled back since it was listed: read as unreadable below
        return _version_label(str(path), 0, 0)
    return _version_label(str(path), stat.st_mtime_ns, stat.st_ino)


@functools.lru_cache(maxsize=32)
def _version_label(path: str, _mtime_ns: int, _inode: int) -> str:
    # a kept version is never rewritten under its name: one read of each file (~14 ms) serves every
    # rerun of データ管理 instead of opening all kept files on each
    kept = replaced_at(Path(path))
    until = f"{japanese_date(kept)} {kept:%H:%M:%S} まで表示していた版"
    try:
        connection = open_read_only(path)
        try:
            connection.execute(f"USE {CATALOG}")
            info = tables.build_info(connection)
        finally:
            connection.close()
    except duckdb.Error:
        return f"{until}（中身を読めません）"
    built = info.get("built_at", "不明").replace("T", " ")
    kind = "デモ用の架空データを含む" if info.get("demo") == "true" else "公開データ・調査データ"
    return f"{until}（構築 {built}、{info.get('built_by', '不明')}、{kind}）"
