"""What every loader shares: its context, its result, and the interface the build calls.

A loader is one module per source with one class: ``sniff`` recognises a file by content,
``load`` reads → validates → normalises and returns rows for the store. Writing is done by
the build (``loaders.store``), so a loader never touches the database directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from loaders.errors import Report

if TYPE_CHECKING:  # pragma: no cover
    from loaders.registry import Registry


@dataclass
class LoadContext:
    registry: Registry
    indicators: dict[str, dict]  # catalog id -> entry (data/indicators.yaml)
    sources: dict[str, dict]  # source id -> entry (data/sources.yaml)
    as_of: str | None = None  # override of the source's as-of date (ISO)


@dataclass
class LoadResult:
    loader: str
    source: str  # sources.id
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # store table -> rows to append
    report: Report = field(default_factory=Report)
    as_of_from_file: bool = False  # the 調査時点 was read from the file itself (e.g. its title)

    @property
    def rows(self) -> int:
        return sum(len(frame) for frame in self.tables.values())


class Loader(Protocol):
    name: str  # machine name, e.g. "digital_agency_municipal"
    title: str  # Japanese, shown in reports

    def sniff(self, path: Path, head: str) -> bool:
        """True when the file's content (``head``: decoded text prefix, '' for binary) is this source's."""

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        """Read, validate and normalise; raise ``LoaderError`` for anything that cannot be loaded."""


def source_as_of(ctx: LoadContext, source_id: str) -> str | None:
    """The 調査時点 a loader puts on its rows: the declared one, else data/sources.yaml's, else None.

    The build replaces it by the release list's dates or 不明 where neither the administrator nor the
    file itself gives one (loaders.releases), so a loader never has to guess."""
    if ctx.as_of:
        return ctx.as_of
    value = ctx.sources[source_id].get("as_of")
    return str(value) if value is not None else None
