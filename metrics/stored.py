"""``all_metrics`` for the whole country with the default settings, computed once at ingest and kept
in the store (table ``metric_results``), so that the national call reads its result instead of
computing it again on every page and export.

A stored result is used only when its fingerprint — a hash of the metrics code ``all_metrics``
imports and the SQL, the definitions in data/ that metrics read, and the versions of the libraries that shape the frames —
equals the running one: a store built by older code or with other definitions has no usable rows,
and the caller computes as before. The frames are kept as Arrow IPC streams with pandas' metadata,
which gives back the same columns, dtypes and index (checked by tests/test_metrics_stored.py).
"""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import math
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from metrics.definitions import DATA_DIR, questionnaire_path

METRICS_DIR = Path(__file__).resolve().parent
DEFINITIONS = ("priority_rules.yaml", "official_priority_rules.yaml", "reference_cases.yaml")
LIBRARIES = ("duckdb", "numpy", "pandas", "pyarrow")
# zstd: a fifth of the uncompressed size (the gap table repeats its titles 10⁵ times), read in tens of ms
_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")
# schema metadata key: object columns that held NaN (Arrow keeps only "null", which reads back as None)
NAN_COLUMNS = "dx_nan_columns"


def _inputs() -> list[Path]:
    code = sorted(_imported_modules("summary")) + sorted((METRICS_DIR / "sql").glob("*.sql"))
    from metrics.menus import MENU_DIR, uploaded_menu_dir  # the menus in force, an uploaded one included

    menus = sorted(MENU_DIR.glob("*.yaml")) + sorted(uploaded_menu_dir().glob("*.yaml"))
    return code + [questionnaire_path()] + [DATA_DIR / name for name in DEFINITIONS] + menus


@lru_cache(maxsize=None)
def _module_imports(path: Path, mtime_ns: int) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("metrics."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("metrics."))
    return frozenset(names)


def _imported_modules(start: str) -> set[Path]:
    """The metrics modules ``start`` imports, directly or not (itself included): the code a stored
    result depends on; other modules of the package (pages' helpers) may change without making it stale."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        path = METRICS_DIR / f"{name}.py"
        if name in seen or not path.exists():
            continue
        seen.add(name)
        pending.extend(_module_imports(path, path.stat().st_mtime_ns))
    return {METRICS_DIR / f"{name}.py" for name in seen}


_fingerprints: dict[tuple, str] = {}


def fingerprint() -> str:
    """sha256 of everything a national ``all_metrics`` depends on besides the store. Kept per
    process for as long as no input file changes (one ``stat`` per file per call)."""
    paths = _inputs()
    signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else (str(p), None, None)
                      for p in paths)
    if signature not in _fingerprints:
        digest = hashlib.sha256()
        for path in paths:
            digest.update(str(path.relative_to(METRICS_DIR.parent) if path.is_relative_to(METRICS_DIR.parent) else path).encode())
            digest.update(path.read_bytes() if path.exists() else b"\0missing")
        for library in LIBRARIES:
            digest.update(f"{library}={importlib.metadata.version(library)}".encode())
        _fingerprints.clear()
        _fingerprints[signature] = digest.hexdigest()
    return _fingerprints[signature]


def write(con: duckdb.DuckDBPyConnection, results: dict[str, pd.DataFrame]) -> int:
    """Replace the stored results by ``results`` (family → frame, in ``all_metrics`` order);
    returns the bytes written."""
    rows = []
    for position, (family, frame) in enumerate(results.items()):
        table = pa.Table.from_pandas(frame)
        nan_columns = [str(column) for column in frame.columns if _missing_as_nan(frame[column])]
        table = table.replace_schema_metadata({**table.schema.metadata, NAN_COLUMNS: json.dumps(nan_columns)})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
            writer.write_table(table)
        rows.append((family, position, fingerprint(), len(frame), sink.getvalue().to_pybytes()))
    con.execute("DELETE FROM metric_results")
    con.executemany("INSERT INTO metric_results (family, position, fingerprint, rows, data) VALUES (?, ?, ?, ?, ?)", rows)
    return sum(len(row[-1]) for row in rows)


def read(con: duckdb.DuckDBPyConnection, families: list[str] | None = None) -> dict[str, pd.DataFrame] | None:
    """The stored results (family → frame, in ``all_metrics`` order; only ``families`` when given),
    or None when the store has none computed by the running code and definitions (or no
    ``metric_results`` table at all)."""
    try:
        rows = con.execute("SELECT family, data FROM metric_results WHERE fingerprint = ? "
                           "AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(?, family)) ORDER BY position",
                           [fingerprint(), families, families]).fetchall()
    except duckdb.CatalogException:  # a store built before the table existed
        return None
    if not rows or (families is not None and len(rows) != len(families)):
        return None
    return {family: _frame(pa.ipc.open_stream(data).read_all()) for family, data in rows}


def _missing_as_nan(column: pd.Series) -> bool:
    """True for a text (object) column whose values are all NaN, which Arrow would give back as None;
    an object column mixing NaN with values cannot be kept exactly and is refused."""
    if column.dtype != object:
        return False
    nan = [isinstance(value, float) and math.isnan(value) for value in column.tolist()]
    if any(nan) and not all(nan):
        raise ValueError(f"列 {column.name} に NaN と値が混在しており、保存できません。")
    return any(nan)


def _frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for column in json.loads(table.schema.metadata.get(NAN_COLUMNS.encode(), b"[]")):
        frame[column] = pd.Series(np.nan, index=frame.index, dtype=object)
    return frame
