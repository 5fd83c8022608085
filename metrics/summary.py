"""Every metric family at once for a selection, and the one-row-per-municipality summary."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import duckdb
import pandas as pd

from metrics.assessment import assessment_scores, latest_rounds, maturity, rounds
from metrics.cases import recommend_cases
from metrics.change import assessment_change, default_rounds, indicator_change
from metrics.composite import composite, composite_wide, indicator_scores
from metrics.definitions import COMPOSITE
from metrics.derived_tables import SIMILAR_K, stored_assessment_change, stored_cases, stored_similar
from metrics.filters import Filter, select_municipalities
from metrics.gaps import gaps
from metrics.peers import similar_municipalities, similarity_features
from metrics.priority import support_priority
from metrics.query import shared_results
from metrics.tables import stored_assessment, stored_composite, stored_gaps, stored_maturity, stored_priority


def all_metrics(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_id: str | None = None,
    peer: str = "pop_band",
    region_set: str | None = None,
    k: int = 5,
) -> dict[str, pd.DataFrame]:
    """Every metric family for the selection, computing shared inputs once. Keys (in export order):
    summary, assessment, maturity, composite, indicators, gaps, assessment_change,
    indicator_change, priority, similar, cases. ``round_id`` picks the round for priority, cases
    and similarity (default: each municipality's newest); ``peer`` / ``region_set`` pick the
    gap peer group. Each value is the DataFrame the function of the same family returns.

    The families the build writes as tables are read from them (metrics.tables: assessment,
    maturity, composite, the gaps to the 人口規模 peers, priority; metrics.derived_tables: the
    change between the default rounds, and with ``round_id`` None the cases and, for k = 5, the
    similar municipalities); the others are computed."""
    return compute_all_metrics(con, flt, round_id, peer, region_set, k, from_tables=True)


def compute_all_metrics(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_id: str | None = None,
    peer: str = "pop_band",
    region_set: str | None = None,
    k: int = 5,
    from_tables: bool = False,
) -> dict[str, pd.DataFrame]:
    """``all_metrics`` computed from the store's data tables (``from_tables``: the families the
    build wrote as metric tables are read from them instead)."""
    with shared_results(), _side_cursor(con) as side, ThreadPoolExecutor(max_workers=1) as pool:
        # Work that waits on nothing this thread computes runs on a cursor of its own in a second
        # thread: the gap table (the largest query), the indicator change, and then the similar
        # municipalities (numpy on 1,741² matrices). DuckDB and numpy work without the GIL, so they
        # overlap with the pandas work here; the results are the same as one after the other.
        side_work = contextvars.copy_context()
        pending_gaps = None
        if from_tables and peer == "pop_band":
            pending_gaps = pool.submit(side_work.run, stored_gaps, side, flt)
        elif peer != "similar":  # with 'similar' the gaps need the similar municipalities first
            pending_gaps = pool.submit(side_work.run, gaps, side, flt, peer=peer, region_set=region_set)
        pending_change = pool.submit(side_work.run, indicator_change, side, flt)
        national = flt is None
        scores = stored_assessment(con, flt) if from_tables else assessment_scores(con, flt)
        if from_tables:  # the members are only shown: a query the second cursor can run meanwhile
            pending_members = pool.submit(side_work.run, indicator_scores, side, flt)
            composite_scores = stored_composite(con, flt)
        else:
            pending_members = None
            members = indicator_scores(con, flt)
            composite_scores = composite(con, flt, members=members)
        # similarity is standardised over the whole country: national results can be reused as they are
        # the defaults the build stored the similar municipalities and cases with (metrics.derived_tables)
        stored_defaults = from_tables and round_id is None
        if stored_defaults and k == SIMILAR_K:
            pending_similar = pool.submit(side_work.run, stored_similar, side, flt)
        else:
            features = similarity_features(
                con,
                round_id,
                composite_scores=composite_scores if national else None,
                scores=scores if national else None,
            )
            pending_similar = pool.submit(
                side_work.run, similar_municipalities, side, flt, k=k, round_id=round_id, feature_frame=features
            )
        levels = stored_maturity(con, flt) if from_tables else maturity(scores)
        if from_tables:
            change = stored_assessment_change(con, flt)
        else:
            base_round, eval_round = default_rounds(con)
            change = assessment_change(con, flt, base_round, eval_round, scores=scores)
        cases = stored_cases(con, flt) if stored_defaults else recommend_cases(con, flt, round_id, scores=scores)
        # the families that wait on the second thread come last, when its work is most likely done
        if pending_gaps is not None:
            gap_table = pending_gaps.result()
        else:
            gap_table = gaps(con, flt, peer=peer, region_set=region_set, similar=pending_similar.result())
        if from_tables:
            priority = stored_priority(con, flt, round_id)
        else:
            priority = support_priority(con, flt, round_id, scores=scores, indicator_gaps=gap_table)
        results = {
            "assessment": scores,
            "maturity": levels,
            "composite": composite_scores,
            "indicators": pending_members.result() if pending_members is not None else members,
            "gaps": gap_table,
            "assessment_change": change,
            "indicator_change": pending_change.result(),
            "priority": priority,
            "similar": pending_similar.result(),
            "cases": cases,
        }
        results = {"summary": municipality_summary(con, flt, results, round_id), **results}
    return results


@contextmanager
def _side_cursor(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    # A cursor starts in the connection's default catalog, not in the one ``con`` has switched to
    # (the app's connection ATTACHes the file and runs ``USE store``): follow ``con`` there.
    side = con.cursor()
    catalog, schema = con.execute("SELECT current_database(), current_schema()").fetchone()
    side.execute(f"USE {_identifier(catalog)}.{_identifier(schema)}")
    try:
        yield side
    finally:
        side.close()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def municipality_summary(
    con: duckdb.DuckDBPyConnection, flt: Filter | None, results: dict[str, pd.DataFrame], round_id: str | None = None
) -> pd.DataFrame:
    """One row per selected municipality: code, pref_name, name, type, pop_band, population,
    region, composite (総合, 0–100) and the four pillar scores, composite_n_missing, round_id,
    assessment (overall score 0–100 of that round), coverage, maturity, maturity_label, priority,
    weak_stages, support, recommended, change (overall score change between the default rounds),
    trend_label."""
    frame = select_municipalities(con, flt)[["code", "pref_name", "name", "type", "pop_band", "population", "region"]]
    wide = composite_wide(results["composite"]).rename(
        columns={COMPOSITE: "composite", "n_missing": "composite_n_missing"}
    )
    frame = frame.merge(wide.drop(columns=["n_available", "n_pillars_missing"]), on="code", how="left")
    assessment = results["assessment"]
    overall = assessment.loc[assessment["level"] == "overall", ["code", "round_id", "score", "coverage"]]
    if round_id:
        overall = overall[overall["round_id"] == round_id]
    else:
        overall = latest_rounds(overall, rounds(con)["round_id"].tolist())
    overall = overall[["code", "round_id", "score", "coverage"]].rename(columns={"score": "assessment"})
    levels = results["maturity"][["code", "round_id", "maturity", "maturity_label"]]
    frame = frame.merge(overall, on="code", how="left").merge(levels, on=["code", "round_id"], how="left")
    priority = results["priority"][["code", "priority", "weak_stages", "support", "recommended"]]
    frame = frame.merge(priority, on="code", how="left")
    change = results["assessment_change"]
    change = change[change["level"] == "overall"][["code", "change", "trend_label"]]
    return frame.merge(change, on="code", how="left")
