"""The container's health check: ``python -m deploy.healthcheck`` (compose.yaml, Kubernetes exec probe).

Healthy (exit 0) when this replica's Streamlit answers ``/_stcore/health`` with "ok": it serves its
sessions — the dashboard, or 「データを準備中です」 while it has no database (every replica shares one
file, so marking them all down before the first build would leave the browsers a 502 instead of that
page). ``--require-database`` also fails while the database cannot be opened (missing, not a store,
not marked complete, built by an earlier version of the app): for a readiness probe once the first
build exists, so that a replica whose volume did not mount leaves the load balancer and the others
carry on. The printed line says which
state it is in (``docker inspect`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:{port}/_stcore/health"


def streamlit_state(url: str, timeout: float = 5.0) -> str | None:
    """None when Streamlit answers ok, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = answer.read().decode("utf-8", "replace").strip()
    except OSError as error:
        return f"streamlit: {type(error).__name__}: {error}"
    return None if body == "ok" else f"streamlit: {body[:200]}"


def database_state(path: Path) -> str | None:
    """None when ``path`` is a complete store, else why not (the app shows 「データを準備中です」)."""
    from loaders.errors import LoaderError
    from loaders.store import check_database

    if not path.exists():
        return f"database: missing ({path})"
    try:
        check_database(path)
    except LoaderError as error:
        return f"database: unreadable ({path}: {error})"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.healthcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL.format(port=os.environ.get("STREAMLIT_SERVER_PORT", "8501")))
    parser.add_argument("--require-database", action="store_true", help="unhealthy while the database cannot be read")
    args = parser.parse_args(argv)
    problem = streamlit_state(args.url)
    if problem:
        print(f"unhealthy: {problem}")
        return 1
    configured = os.environ.get("DX_DB")
    data_problem = database_state(Path(configured)) if configured else None
    if data_problem and args.require_database:
        print(f"unhealthy: {data_problem}")
        return 1
    print(f"healthy: {data_problem + ' — showing データを準備中です' if data_problem else 'serving the database'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
