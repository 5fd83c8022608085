"""Typed loader errors and validation issues.

Every message is Japanese (it is shown in the UI as is) and names the place: file, row, column.
Rows are 1-based line numbers as a spreadsheet shows them; columns are spreadsheet letters when
given as an integer index (0-based), or a header text when given as a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# A hostile file may hold a 10 MB cell; a message quotes at most this much of any value, so the UI,
# the CLI and the ingest log cannot be flooded.
VALUE_PREVIEW_CHARS = 80
MESSAGE_MAX_CHARS = 1000
_LONG_QUOTE = re.compile(rf"「([^「」]{{{VALUE_PREVIEW_CHARS + 1},}})」")
_CUT_MARK = re.compile(r"…（以下省略、全[\d,]+文字）$")


def shorten(text: object, limit: int = VALUE_PREVIEW_CHARS) -> str:
    """The first ``limit`` characters of ``text`` and 「…（以下省略、全N文字）」 when it is longer."""
    text = str(text)
    if len(text) <= limit:
        return text
    mark = _CUT_MARK.search(text)
    if mark and mark.start() <= limit:  # already shortened (an error re-raised as an Issue): keep its count
        return text
    return f"{text[:limit]}…（以下省略、全{len(text):,}文字）"


def bounded_message(message: str) -> str:
    """A message with every quoted value (「…」) cut to VALUE_PREVIEW_CHARS and the whole to MESSAGE_MAX_CHARS."""
    message = _LONG_QUOTE.sub(lambda match: f"「{shorten(match.group(1))}」", str(message))
    return shorten(message, MESSAGE_MAX_CHARS)


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def describe_place(file: str | Path | None, row: int | None, column: int | str | None) -> str:
    parts = []
    if file is not None:
        parts.append(f"ファイル「{Path(file).name}」")
    if row is not None:
        parts.append(f"{row}行目")
    if column is not None:
        parts.append(f"{column_letter(column)}列" if isinstance(column, int) else f"列「{column}」")
    return " ".join(parts)


@dataclass
class Issue:
    """One finding of validation: an error stops the load, a warning is reported and kept."""

    level: str  # "error" | "warning" | "info"
    message: str
    file: str | None = None
    row: int | None = None
    column: int | str | None = None

    def __post_init__(self) -> None:
        self.message = bounded_message(self.message)
        if isinstance(self.column, str):
            self.column = shorten(self.column)

    def __str__(self) -> str:
        place = describe_place(self.file, self.row, self.column)
        return f"{place}: {self.message}" if place else self.message

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "file": Path(self.file).name if self.file else None,
            "row": self.row,
            "column": column_letter(self.column) if isinstance(self.column, int) else self.column,
            "message": self.message,
        }


class LoaderError(Exception):
    """The only exception a loader may raise for bad input. Message in Japanese, naming the place."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: int | str | None = None,
        issues: list[Issue] | None = None,
    ):
        self.message = bounded_message(message)
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = shorten(column) if isinstance(column, str) else column
        self.issues = issues or []
        super().__init__(str(self))

    def __str__(self) -> str:
        place = describe_place(self.file, self.row, self.column)
        return f"{place}: {self.message}" if place else self.message

    def as_issue(self) -> Issue:
        return Issue("error", self.message, self.file, self.row, self.column)


class UnknownFileError(LoaderError):
    """No loader recognises the file's content."""


@dataclass
class Report:
    """What a load found: issues plus counters the CLI and the UI print."""

    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    unresolved: list[dict] = field(default_factory=list)  # names that matched no municipality

    def warn(self, message: str, file=None, row=None, column=None) -> None:
        self.issues.append(Issue("warning", message, str(file) if file else None, row, column))

    def info(self, message: str, file=None, row=None, column=None) -> None:
        self.issues.append(Issue("info", message, str(file) if file else None, row, column))

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "warning"]

    def extend(self, other: Report) -> None:
        self.issues.extend(other.issues)
        self.unresolved.extend(other.unresolved)
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value
