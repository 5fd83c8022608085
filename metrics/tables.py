"""Metric tables: the composite, gaps, assessment scores, maturity and support priority written into
the store at build time (``write_metric_tables``, the build's metric step), and read back by the
pages, exports and ``all_metrics`` (the ``stored_*`` functions) — so an analyst's ``SELECT`` and
the dashboard show the same numbers. The tables are documented in data/SCHEMA.md.

Each table is what the metric function of the same family computes in memory (metrics.composite,
metrics.gaps, metrics.assessment, metrics.priority) for the whole country, one row per
municipality × 調査時点 snapshot (composite_scores, indicator_gaps) or × assessment round
(assessment_scores, maturity_levels, support_priority). The gaps are to the 人口規模 peers (the
default peer group); other peer groups are computed when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from metrics.assessment import assessment_scores, maturity, rounds
from metrics.composite import composite
from metrics.definitions import COMPOSITE, PILLARS, load_questionnaire
from metrics.filters import Filter, codes_parameter, select_municipalities
from metrics.gaps import gaps
from metrics.menus import menus_digest
from metrics.priority import menu_items, official_findings, own_menus, support_priority
from metrics.query import run
from metrics.snapshots import UNKNOWN, as_of_params, snapshot_keys
from store.build_info import set_info

# build_info key: the digest of the support menus the stored priority was judged with
MENUS_KEY = "support_menus"
METRIC_TABLES = ("composite_scores", "indicator_gaps", "assessment_scores", "maturity_levels", "support_priority")
OVERALL_FIELD = "全体"
COMPOSITE_COLUMNS = [
    "code",
    "as_of",
    "pillar",
    "score",
    "n_members",
    "n_available",
    "n_missing",
    "n_pillars",
    "n_pillars_missing",
]
GAP_COLUMNS = [
    "code",
    "as_of",
    "indicator_id",
    "value",
    "value_as_of",
    "target",
    "gap_target",
    "peer_group",
    "peer_median",
    "n_peers",
    "gap_peer",
    "pref_value",
    "pref_basis",
    "gap_pref",
    "national_median",
    "n_national",
    "gap_national",
]
ASSESSMENT_COLUMNS = [
    "code",
    "round_id",
    "basis",
    "level",
    "stage",
    "stage_name",
    "field",
    "points",
    "max_points",
    "score",
    "n_items",
    "answered",
    "coverage",
]
MATURITY_COLUMNS = ["code", "round_id", "field", "basis", "level", "label", "next_stage", "next_gap", "missing_stages"]
PRIORITY_COLUMNS = [
    "code",
    "round_id",
    "as_of",
    "basis",
    "response",
    "basis_label",
    "priority",
    "priority_order",
    "n_weak",
    "weak_stages",
    "support",
    "support_ids",
    "recommended",
    "recommended_ids",
    "recommended_reasons",
    "recommended_stages",
    "recommended_fields",
    "candidates",
    "candidate_ids",
    "reasons",
    "survey_priority",
    "official_priority",
    "official_points",
    "official_reasons",
    "disagree",
]


# ---------------------------------------------------------------- writing (the build's metric step)


def write_metric_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Fill the metric tables from the store's data tables (replacing what they held); returns the
    rows written per table. Any error propagates: the build that calls this fails with it. Each
    snapshot and round is written as soon as it is computed (a 16× store has 800 snapshots and 320
    rounds: holding all of them before writing took more than the machine's 24 GiB)."""
    keys = snapshot_keys(con)
    scores = assessment_scores(con)
    round_ids = rounds(con)["round_id"].tolist()
    # the priority's indicator reasons come from the newest snapshot (the one pages show by default)
    dated = [key for key in keys if key != UNKNOWN]
    newest_key = dated[-1] if dated else (keys[-1] if keys else None)
    newest = _snapshot_date(newest_key) if newest_key else pd.NaT
    # every round's rows at once (filtering the whole table per round grew with rounds × rows)
    by_round = {round_id: rows for round_id, rows in scores.groupby("round_id", sort=False, observed=True)}
    no_scores = scores.iloc[0:0]
    # the items of every prefecture's menu, as support_priority's 'own' scope judges with them
    official = official_findings(con, menu_items(own_menus(select_municipalities(con)["pref_code"])))
    parts: dict[str, tuple[list[str], Iterable[pd.DataFrame]]] = {
        "composite_scores": (
            COMPOSITE_COLUMNS,
            (composite(con, None, as_of=key).assign(as_of=_snapshot_date(key)) for key in keys),
        ),
        "indicator_gaps": (
            GAP_COLUMNS,
            (
                gaps(con, None, as_of=key).rename(columns={"as_of": "value_as_of"}).assign(as_of=_snapshot_date(key))
                for key in keys
            ),
        ),
        "assessment_scores": (ASSESSMENT_COLUMNS, [scores]),
        "maturity_levels": (MATURITY_COLUMNS, [field_maturity_levels(scores)]),
        "support_priority": (
            PRIORITY_COLUMNS,
            (
                # each municipality with the national menu and its own prefecture's (what that prefecture's
                # view shows); each round judged from its own rows, the official findings found once
                support_priority(
                    con, None, round_id, scores=by_round.get(round_id, no_scores), menu_scope="own", official=official
                ).assign(round_id=round_id, as_of=newest)
                for round_id in (round_ids or [None])
            ),
        ),
    }
    written = {table: replace_rows(con, table, columns, frames) for table, (columns, frames) in parts.items()}
    set_info(con, MENUS_KEY, menus_digest())
    return written


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], frames: Iterable[pd.DataFrame]) -> int:
    """Replace a metric table's rows by ``frames`` (each written as soon as it is made); returns the
    rows written. ``table`` comes from the code's list of metric tables, never from input."""
    con.execute(f'DELETE FROM "{table}"')
    written = 0
    for frame in frames:
        if not len(frame):
            continue
        con.register("metric_rows", frame[columns])
        try:
            con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM metric_rows')
        finally:
            con.unregister("metric_rows")
        written += len(frame)
    return written


def _snapshot_date(key: str) -> pd.Timestamp:
    return pd.NaT if key == UNKNOWN else pd.Timestamp(key)


def field_maturity_levels(scores: pd.DataFrame) -> pd.DataFrame:
    """``maturity`` of every sheet overall (field 全体) and per field (the rule applied to that
    field's stage cells). Columns: MATURITY_COLUMNS."""
    questionnaire = load_questionnaire()
    parts = [maturity(scores, questionnaire=questionnaire).assign(field=OVERALL_FIELD)]
    cells = scores[scores["level"] == "cell"]
    for field in questionnaire.fields:
        as_stages = cells[cells["field"] == field].assign(level="stage")
        if len(as_stages):
            parts.append(maturity(as_stages, questionnaire=questionnaire).assign(field=field))
    frame = pd.concat(parts, ignore_index=True).rename(columns={"maturity": "level", "maturity_label": "label"})
    return frame[MATURITY_COLUMNS]


# ---------------------------------------------------------------- reading (pages, exports, all_metrics)


def stored_composite(
    con: duckdb.DuckDBPyConnection, flt: Filter | None = None, as_of: str | None = None
) -> pd.DataFrame:
    """``metrics.composite.composite`` as the build stored it, for the snapshot ``as_of`` (default
    the newest; a date between snapshots gives the newest snapshot on or before it). Same columns;
    ``as_of`` is the snapshot's 調査時点."""
    return run(
        con,
        "table_composite_scores",
        {"codes": codes_parameter(con, flt), "pillars": list(PILLARS), **as_of_params(as_of)},
    )


def stored_composite_history(con: duckdb.DuckDBPyConnection, flt: Filter | None = None) -> pd.DataFrame:
    """Every snapshot of the composite and its pillars, oldest first: code, as_of, pillar, score,
    n_available, n_missing."""
    return run(
        con,
        "table_composite_history",
        {"codes": codes_parameter(con, flt), "pillars": list(PILLARS), "composite_label": COMPOSITE},
    )


def stored_gaps(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    as_of: str | None = None,
    indicator_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """``metrics.gaps.gaps`` with the default peer group (人口規模) as the build stored it, for the
    snapshot ``as_of`` (default the newest). Same columns (``as_of`` = the value's own date)."""
    return run(
        con,
        "table_indicator_gaps",
        {
            "codes": codes_parameter(con, flt),
            **as_of_params(as_of),
            "indicator_ids": list(indicator_ids) if indicator_ids is not None else None,
        },
    )


def stored_assessment(
    con: duckdb.DuckDBPyConnection, flt: Filter | None = None, round_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """``metrics.assessment.assessment_scores`` as the build stored it (same columns and order)."""
    frame = run(
        con,
        "table_assessment_scores",
        {"codes": codes_parameter(con, flt), "round_ids": list(round_ids) if round_ids is not None else None},
    )
    frame["stage"] = frame["stage"].astype("Int64")
    frame["stage_name"] = frame["stage_name"].astype("string")
    return frame


def stored_maturity(
    con: duckdb.DuckDBPyConnection, flt: Filter | None = None, field: str | None = OVERALL_FIELD
) -> pd.DataFrame:
    """``metrics.assessment.maturity`` of every sheet as the build stored it: code, round_id, basis,
    maturity, maturity_label, next_stage, next_gap, missing_stages — of ``field`` (default the
    whole sheet, 全体); with ``field=None`` every field, with a ``field`` column."""
    frame = run(con, "table_maturity_levels", {"codes": codes_parameter(con, flt), "field": field})
    frame["next_stage"] = frame["next_stage"].astype("Int64")
    return frame if field is None else frame.drop(columns="field")


def build_info(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """build_info as a dict: built_at, built_by, demo ('true'/'false'), complete, support_menus."""
    return dict(run(con, "view_build_info", {}).itertuples(index=False, name=None))


def current_priority(
    con: duckdb.DuckDBPyConnection, flt: Filter | None = None, round_id: str | None = None, menus: str | None = None
) -> pd.DataFrame:
    """The support priority of a prefecture's selection with the menus in force: what the build stored
    (a query) while the menus are those it judged with, else computed (an administrator accepted a
    new menu after the build). ``menus``: ``menus_digest()`` as the caller read it (a cache key of its
    own, so a new menu is a new result); without a prefecture the national menu alone is computed."""
    if flt is not None and flt.pref_code and build_info(con).get(MENUS_KEY) == (menus or menus_digest()):
        return stored_priority(con, flt, round_id)
    return support_priority(con, flt, round_id)


def stored_priority(
    con: duckdb.DuckDBPyConnection, flt: Filter | None = None, round_id: str | None = None
) -> pd.DataFrame:
    """``metrics.priority.support_priority(..., menu_scope='own')`` as the build stored it: the
    judgement of ``round_id`` (default: each municipality's newest round with a sheet), each
    municipality's recommendations from the national menu and its own prefecture's (equal to
    ``support_priority`` for a prefecture's selection). Same columns and order."""
    frame = run(con, "table_support_priority", {"codes": codes_parameter(con, flt), "round_id": round_id})
    for column in ("priority_order", "n_weak"):
        frame[column] = frame[column].astype("Int64")
    return frame
