"""The data directory: committed definitions (YAML/CSV) and, git-ignored, the generated DuckDB files,
the download cache and uploads. Every module finds ``data/`` through ``DATA_DIR``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_DB = DATA_DIR / "dashboard.duckdb"
DEMO_DB = DATA_DIR / "demo.duckdb"
SCHEMA_SQL = Path(__file__).with_name("schema.sql")
# the public files beside the repository (../shared/data), read when present; never copied into data/
SHARED_DATA = ROOT.parent / "shared" / "data"
