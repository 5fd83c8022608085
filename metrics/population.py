"""Population over time: every loaded year of a population series for one municipality, and the sentence
the カルテ shows about its change. Pure: SQL in metrics/sql/population_history.sql."""

from __future__ import annotations

import pandas as pd

from metrics.query import run
from store.dates import japanese_date

JUKI_POPULATION = "population_juki"


def population_history(con, code: str, indicator_id: str = JUKI_POPULATION) -> pd.DataFrame:
    """as_of, population, previous_as_of, change, change_percent — one row per 調査時点, oldest first."""
    return run(con, "population_history", {"code": code, "indicator_id": indicator_id})


def population_change_line(history: pd.DataFrame) -> str | None:
    """「人口 2023年1月1日 1,525,152人 → 2024年1月1日 1,521,562人（増減 −3,590人、−0.24%）」 for the last two
    調査時点 of ``population_history``; None with fewer than two."""
    if len(history) < 2:
        return None
    last = history.iloc[-1]
    change, percent = float(last["change"]), float(last["change_percent"])
    return (
        f"人口 {japanese_date(last['previous_as_of'])} {history.iloc[-2]['population']:,.0f}人 → "
        f"{japanese_date(last['as_of'])} {last['population']:,.0f}人（増減 {_signed(change, ',.0f')}人、"
        f"{_signed(percent, '.2f')}%）"
    )


def _signed(value: float, spec: str) -> str:
    text = format(abs(value), spec)
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else "±0")
