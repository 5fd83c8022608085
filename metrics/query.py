"""Run the named SQL files in metrics/sql/ with bound parameters and return DataFrames."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"


@lru_cache(maxsize=None)
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict,
        relations: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One query per result: metrics/sql/<name>.sql with its ``$parameters`` bound from ``params``.

    ``relations`` are intermediate results (DataFrames) the query reads by name; they are
    registered on the connection only while the query runs.
    """
    relations = relations or {}
    for relation, frame in relations.items():
        con.register(relation, frame)
    try:
        return con.execute(sql_text(name), params).df()
    finally:
        for relation in relations:
            con.unregister(relation)
