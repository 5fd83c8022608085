"""Run the named SQL files in metrics/sql/ with bound parameters and return DataFrames."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SQL_DIR = Path(__file__).resolve().parent / "sql"

# pandas' nullable dtypes, which DuckDB's own .df() gives integer and boolean columns holding NULLs
_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


# results of the outermost ``shared_results`` block: (connection id, query, parameters) → DataFrame
_shared: ContextVar[dict | None] = ContextVar("metrics_shared_results", default=None)


_INCLUDE = re.compile(r"^[ \t]*-- include: (\w+)[ \t]*$", re.MULTILINE)


@cache
def sql_text(name: str) -> str:
    """metrics/sql/<name>.sql, each ``-- include: other`` line replaced by other.sql (a CTE body that
    several queries share is written once)."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda match: sql_text(match.group(1)), text)


def run(
    con: duckdb.DuckDBPyConnection, name: str, params: dict, relations: dict[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """One query per result: metrics/sql/<name>.sql with its ``$parameters`` bound from ``params``.

    ``relations`` are intermediate results (DataFrames) the query reads by name; they are
    registered on the connection only while the query runs.
    """
    shared = _shared.get()
    key = None
    if shared is not None and not relations:
        key = (id(con), name, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(params.items())))
        if key in shared:
            # a shallow copy: pandas' copy-on-write keeps the shared frame unchanged by the caller
            return shared[key].copy(deep=False)
    result = arrow_frame(run_arrow(con, name, params, relations))
    if key is not None:
        shared[key] = result.copy(deep=False)
    return result


def run_arrow(
    con: duckdb.DuckDBPyConnection, name: str, params: dict, relations: dict[str, pd.DataFrame] | None = None
) -> pa.Table:
    """``run`` without the conversion: the Arrow table, for results assembled before pandas sees them."""
    relations = relations or {}
    # a result the caller left unread (execute(...).fetchone()) would block con.sql: finish it, as
    # a new execute() would
    con.complete()
    for relation, frame in relations.items():
        con.register(relation, frame)
    try:
        return con.sql(sql_text(name), params=params).to_arrow_table()
    finally:
        for relation in relations:
            con.unregister(relation)


@contextmanager
def shared_results() -> Iterator[None]:
    """Inside the block, a query run again on the same connection with the same parameters returns
    the first result instead of running again: the reference data several metric families read
    (the selection, the rounds) is fetched once per ``all_metrics``. For reading only: the store
    must not change inside the block. Nested blocks share the outermost one's results."""
    if _shared.get() is not None:
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """The DataFrame DuckDB's ``.df()`` would give for this result, built from Arrow.

    ``.df()`` turns every text cell into a Python object and back into a string array, which
    costs several times the query itself on the 10⁵-row metric tables; Arrow hands the strings
    over in bulk. The dtypes are kept exactly as ``.df()`` makes them: DATE as datetime64[us],
    integers and booleans with NULLs as pandas' nullable dtypes, DECIMAL/HUGEINT as float64, and
    a text column without any value as object.
    """
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_date(kind):
            column = column.cast(pa.timestamp("us"))
        elif pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and column.null_count == len(column):
            series = pd.Series([None] * len(column), dtype=object)
        elif kind in _NULLABLE and column.null_count:
            series = column.to_pandas(types_mapper=_NULLABLE.get)
        elif pa.types.is_primitive(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
            series = column.to_pandas()
        else:  # lists, structs, blobs…: none of the metric queries returns one; .df() decides
            return duckdb.from_arrow(table).df()
        columns.append(series)
    frame = (
        pd.concat(columns, axis=1, ignore_index=True) if columns else pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    )
    frame.columns = table.column_names
    return frame


def isin(values: pd.Series, candidates) -> pd.Series:
    """``values.isin(candidates)`` for a text column, computed by Arrow: pandas' own isin on its
    Arrow-backed strings costs ~7 ms per 10⁵ rows, Arrow's under 1 ms. Same result, same index."""
    candidates = list(candidates)
    if (
        not isinstance(values.dtype, pd.StringDtype)
        or values.dtype.storage != "pyarrow"
        or not all(isinstance(c, str) for c in candidates)
    ):  # (pandas matches a missing candidate to NaN)
        return values.isin(candidates)
    wanted = pa.array(candidates, type=pa.string())
    found = pc.is_in(pa.array(values.array), value_set=wanted)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, name=values.name)
