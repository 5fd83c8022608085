"""Messages quoting a cell stay short (issue #8): a hostile file's 10 MB cell is quoted as its first
80 characters and 「…（以下省略、全N文字）」 in loader errors, warnings, the build summary and the
unresolved-names table, so it cannot flood the UI, the CLI or the log."""

from __future__ import annotations

import csv
import io

import duckdb

from loaders.build import build, check_file
from loaders.errors import MESSAGE_MAX_CHARS, VALUE_PREVIEW_CHARS, Issue, LoaderError, Report, bounded_message, shorten

TEN_MB = "あ" * ((10 << 20) // 3)
MARK = "（以下省略、全"


def test_shorten_keeps_the_head_and_counts_the_rest():
    assert shorten("姫路市") == "姫路市"
    assert shorten("x" * VALUE_PREVIEW_CHARS) == "x" * VALUE_PREVIEW_CHARS
    cut = shorten(TEN_MB)
    assert cut == "あ" * 80 + f"…（以下省略、全{len(TEN_MB):,}文字）"
    assert shorten(cut) == cut, "shortening twice keeps the original count"


def test_errors_and_warnings_quote_at_most_80_characters():
    error = LoaderError(f"数値ではない値「{TEN_MB}」があります。", file="big.csv", row=3, column=1)
    text = str(error)
    assert len(text) < 200 and text.endswith("」があります。"), "the explanation after the value survives"
    assert f"全{len(TEN_MB):,}文字" in text
    assert str(error.as_issue()) == text
    report = Report()
    report.warn(f"面積が空欄または「{TEN_MB}」です。", "big.csv", 3)
    assert len(str(report.issues[0])) < 200
    # an unquoted value: the whole message is capped
    unquoted = Issue("warning", TEN_MB + " の人口が空欄です。")
    assert len(unquoted.message) < MESSAGE_MAX_CHARS + 40 and MARK in unquoted.message
    # a huge header used as the column name
    assert len(str(LoaderError("列がありません。", column=TEN_MB))) < 200
    assert bounded_message("短い「値」です。") == "短い「値」です。"


def test_a_huge_cell_in_a_real_layout_is_reported_short(shared_data, tmp_path):
    """The 国土地理院 面積調 layout with one 100,000-character area (csv's field limit is 131,072)."""
    real = (shared_data / "gsi-area" / "area20240101.csv").read_text(encoding="utf-8-sig").splitlines()
    big = "<script>" + "あ" * 100_000
    rows = [line.split(",") for line in real[:40]]
    rows[5][1] = big
    path = tmp_path / "area.csv"
    with open(path, "w", encoding="cp932", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    loader, result, issues = check_file(path)
    assert loader is not None and loader.name == "gsi_area"
    quoted = [i for i in issues if "<script>" in i.message]
    assert quoted, [str(i) for i in issues]
    assert all(len(i.message) < 250 and f"全{len(big):,}文字" in i.message for i in quoted)
    assert all(len(str(i)) < 400 for i in issues)


def test_a_huge_unresolved_name_is_stored_short(shared_data, tmp_path):
    """市区町村比較 with one municipality column renamed to 2,000 characters: the name that matches
    nothing is listed in unresolved_names and the build summary, cut to 80 characters."""
    source = shared_data / "digital-agency" / "市区町村毎のDX進捗状況_市区町村比較.csv"
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"), newline="")))
    big = "ほげ" * 1_000  # the header must stay within the sniffed head (sniff_head) to be recognised
    rows[0][5] = big
    folder = tmp_path / "src"
    folder.mkdir()
    with open(folder / "compare.csv", "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    summary = build([folder], tmp_path / "db.duckdb", loaded_by="test")
    assert max(len(line) for line in summary.lines()) < 400
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        names = [row[0] for row in con.execute("SELECT name FROM unresolved_names").fetchall()]
    assert shorten(big) in names and max(len(n) for n in names) < 120
