"""Metric tables derived from the first ones (metrics.tables): the change of every sheet between the
default pair of rounds, the reference cases for each municipality's weakest stage, and its most
similar municipalities — families ``all_metrics`` (the Excel workbook) computed on every call.

The build's second metric step (``write_derived_tables``) computes them with the defaults the app
uses — ``metrics.change.default_rounds``, each municipality's newest round with a sheet, the
``SIMILAR_K`` nearest — for the whole country, by the same functions a page calls
(metrics.change, metrics.cases, metrics.peers); the ``stored_*`` functions read them back for a
selection, in the columns and order those functions return. Other rounds or another k are computed
when asked for. The tables are documented in data/SCHEMA.md.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.cases import CASE_MATCH_COLUMNS, recommend_cases
from metrics.change import CHANGE_COLUMNS, assessment_change, default_rounds
from metrics.filters import Filter, codes_parameter
from metrics.peers import SIMILAR_COLUMNS, similar_municipalities, similarity_features
from metrics.query import run
from metrics.tables import replace_rows, stored_assessment, stored_composite

DERIVED_TABLES = ("assessment_change", "reference_case_matches", "similar_municipalities")
SIMILAR_K = 5  # the カルテ's 類似団体 and the workbook's


def write_derived_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Fill the derived tables from the metric tables (replacing what they held); returns the rows
    written per table. Runs after ``metrics.tables.write_metric_tables``; any error fails the build."""
    # only the rounds these families read: the default pair and each municipality's newest sheet (a
    # store of 320 rounds holds 14 M score rows)
    needed = set(run(con, "newest_sheet_rounds", {})["round_id"]) | {r for r in default_rounds(con) if r}
    scores = stored_assessment(con, round_ids=sorted(needed) or None)
    features = similarity_features(con, None, composite_scores=stored_composite(con), scores=scores)
    parts = {
        "assessment_change": (CHANGE_COLUMNS, assessment_change(con, None, scores=scores)),
        "reference_case_matches": (CASE_MATCH_COLUMNS, recommend_cases(con, None, None, scores=scores)),
        "similar_municipalities": (
            SIMILAR_COLUMNS,
            similar_municipalities(con, None, k=SIMILAR_K, feature_frame=features),
        ),
    }
    return {table: replace_rows(con, table, columns, [frame]) for table, (columns, frame) in parts.items()}


def stored_assessment_change(con: duckdb.DuckDBPyConnection, flt: Filter | None = None) -> pd.DataFrame:
    """``metrics.change.assessment_change`` between the default rounds, as the build stored it."""
    frame = run(con, "table_assessment_change", {"codes": codes_parameter(con, flt)})
    frame["stage"] = frame["stage"].astype("Int64")
    for column in ("stage_name", "trend"):
        frame[column] = frame[column].astype("string")
    return frame


def stored_cases(con: duckdb.DuckDBPyConnection, flt: Filter | None = None) -> pd.DataFrame:
    """``metrics.cases.recommend_cases`` for each municipality's newest round, as the build stored it."""
    return run(con, "table_reference_case_matches", {"codes": codes_parameter(con, flt)})


def stored_similar(con: duckdb.DuckDBPyConnection, flt: Filter | None = None) -> pd.DataFrame:
    """``metrics.peers.similar_municipalities`` (k = SIMILAR_K, each municipality's newest round) of
    the selected municipalities among the whole country, as the build stored it."""
    return run(con, "table_similar_municipalities", {"codes": codes_parameter(con, flt)})
