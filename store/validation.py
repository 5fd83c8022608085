"""Pydantic models of the definition files in data/, and their problems in Japanese naming file and field."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError


class Definition(BaseModel):
    """A definition file's model: unknown keys are errors (a typo is not silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def problems(exc: ValidationError, path: str | Path) -> list[str]:
    """One Japanese line per problem: 「ファイル「x.yaml」の3番目 › kind: 次のどれかにしてください: …」."""
    return [f"ファイル「{Path(path).name}」の{field_name(e['loc'])}: {field_message(e)}" for e in exc.errors()]


def field_name(location: tuple) -> str:
    parts = [f"{part + 1}番目" if isinstance(part, int) else str(part) for part in location]
    return " › ".join(parts) if parts else "全体"


BOUNDS = {
    "greater_than": "より大きい",
    "greater_than_equal": "以上の",
    "less_than": "未満の",
    "less_than_equal": "以下の",
}


def field_message(error: dict) -> str:
    kind, limits = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "値がありません。"
    if kind == "extra_forbidden":
        return "この項目は使えません。"
    if kind in ("string_too_short", "too_short"):
        return "空欄にはできません。"
    if kind in BOUNDS:
        limit = next(iter(limits.values()), "")
        return f"{limit}{BOUNDS[kind]}数値にしてください。"
    if kind.startswith("int"):
        return "整数を書いてください。"
    if kind.startswith("float"):
        return "数値を書いてください。"
    if kind.startswith("bool"):
        return "true か false を書いてください。"
    if kind.startswith("date"):
        return "日付（YYYY-MM-DD）を書いてください。"
    if kind.startswith(("string", "str")):
        return "文字列を書いてください。"
    if kind.startswith(("list", "tuple")):
        return "並び（- で始まる行、または [ ] ）にしてください。"
    if kind.startswith(("dict", "model")):
        return "「項目: 値」の形にしてください。"
    if kind == "literal_error":
        return f"次のどれかにしてください: {str(limits.get('expected', '')).replace(' or ', ', ')}。"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ") + "。"
    return "値が正しくありません。"
