"""The store's build_info rows (key → value): written by the build (built_at, built_by, demo, complete)
and by its metric step (support_menus). Read through metrics/sql/view_build_info.sql."""

from __future__ import annotations

import json

import duckdb


def set_info(con: duckdb.DuckDBPyConnection, key: str, value: object) -> None:
    """Set one build_info row (a value that is not text is stored as JSON)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    con.execute("INSERT OR REPLACE INTO build_info VALUES (?, ?)", [key, text])
