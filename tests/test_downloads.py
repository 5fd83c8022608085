"""Every file that leaves the app or a command line, opened as a spreadsheet program would open it.

A database whose municipality names, round labels and free-text answers, and a support menu whose
items, start like formulas (``=HYPERLINK(…)``, ``+``, ``-``, ``@``, TAB, CR, full-width ``＝ ＋ － ＠``)
goes through every download button of every page (AppTest: the data a button carries, and the
data of a deferred button computed as a click computes it) and every command that writes CSV or
Excel. No cell, header or sheet name of any file may be a formula or start like one; the hostile
text must still be there, neutralised (so the check sees the files that carry it)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from loaders.registry import Registry
from loaders.registry import load_registry as REAL_REGISTRY
from store.safety import FORMULA_PREFIXES

ROOT = Path(__file__).resolve().parent.parent
LINK = '=HYPERLINK("http://example.invalid/","クリック")'
HOSTILE_STARTS = [LINK, "+1+2", "-3+4", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠SUM(A1)"]
HYOGO = "28"
PAGES = [
    "app_pages/overview.py",
    "app_pages/karte.py",
    "app_pages/compare.py",
    "app_pages/progress.py",
    "app_pages/support.py",
    "app_pages/data.py",
]


def formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


@pytest.fixture(scope="module")
def hostile_db(demo_db, tmp_path_factory) -> Path:
    """The demo with hostile names for the first ten municipalities of 兵庫県, a hostile round label
    and hostile free-text answers; the stored metrics are dropped so everything is computed from them."""
    db = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(demo_db, db)
    with duckdb.connect(str(db)) as con:
        codes = [
            r[0]
            for r in con.execute(
                "SELECT code FROM municipalities WHERE pref_code = ? ORDER BY code LIMIT ?",
                [HYOGO, len(HOSTILE_STARTS)],
            ).fetchall()
        ]
        for code, start in zip(codes, HOSTILE_STARTS):
            con.execute("UPDATE municipalities SET name = ? || name WHERE code = ?", [start, code])
        first_round = con.execute("SELECT min(round_id) FROM survey_rounds").fetchone()[0]
        con.execute("UPDATE survey_rounds SET label = ? WHERE round_id = ?", [LINK, first_round])
        con.execute(
            "UPDATE survey_answers SET answer = ? WHERE question_id IN (SELECT id FROM questions WHERE answer_type "
            "= 'text')",
            ["=1+1"],
        )
        stored = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "metric_results" in stored:
            con.execute("DELETE FROM metric_results")
    return db


def pressed(data) -> bytes:
    """The bytes of a download: a deferred one is built when pressed, as Streamlit's media handler does."""
    if callable(data):
        data = data()
    return data.encode("utf-8") if isinstance(data, str) else data


def rename_menu_items(monkeypatch, **prefixes: str) -> None:
    """Every support menu item, of every provider, with ``prefixes`` put before its fields (name=…,
    description=…): patched where the menu files become items (metrics.menus)."""
    from metrics import menus

    original = menus._support_item

    def item(*args, **kwargs):
        made = original(*args, **kwargs)
        return dataclasses.replace(made, **{field: prefix + getattr(made, field) for field, prefix in prefixes.items()})

    monkeypatch.setattr(menus, "_support_item", item)


@pytest.fixture()
def hostile_menu(monkeypatch):
    """Support menu items named like formulas."""
    rename_menu_items(monkeypatch, name="=")


@pytest.fixture()
def captured(monkeypatch) -> dict[str, object]:
    """file name → bytes (or the callable of a deferred download) of every download button drawn."""
    files: dict[str, object] = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if is_for_static_download:
            files[file_name] = (
                data if isinstance(data, bytes) else data.encode("utf-8") if isinstance(data, str) else data
            )
        return add(
            self, data, mimetype, coordinates, file_name=file_name, is_for_static_download=is_for_static_download
        )

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        files[file_name] = data_callable
        return add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return files


def check_xlsx(data: bytes, origin: str) -> list[str]:
    """Every formula or formula-like text of a workbook (cells, headers and sheet names)."""
    found = []
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        if formula_like(sheet.title):
            found.append(f"{origin}: sheet name {sheet.title!r}")
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or formula_like(cell.value):
                    found.append(f"{origin}: {sheet.title}!{cell.coordinate} = {cell.value!r}")
    return found


def check_csv(data: bytes, origin: str) -> list[str]:
    found = []
    for line, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")), start=1):
        for value in row:
            if formula_like(value) and not _number(value):
                found.append(f"{origin}: line {line}: {value!r}")
    return found


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def open_file(name: str, data: bytes) -> list[str]:
    """Open a downloaded file by its kind; the formula findings of spreadsheets and CSV."""
    assert data, f"{name} is empty"
    if name.endswith(".xlsx"):
        return check_xlsx(data, name)
    if name.endswith(".csv"):
        return check_csv(data, name)
    if name.endswith(".pptx"):
        from pptx import Presentation

        assert len(Presentation(io.BytesIO(data)).slides) >= 1, name
        return []
    if name.endswith(".png"):
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        return []
    raise AssertionError(f"unexpected download {name}")


def hostile_registry():
    registry = REAL_REGISTRY()
    municipalities = registry.municipalities.copy()
    hyogo = municipalities.index[municipalities.pref_code == HYOGO][: len(HOSTILE_STARTS)]
    municipalities.loc[hyogo, "name"] = [
        start + name for start, name in zip(HOSTILE_STARTS, municipalities.loc[hyogo, "name"])
    ]
    return Registry(municipalities, registry.prefectures, registry.wards)


def test_every_download_of_every_page_opens_and_holds_no_formula(hostile_db, hostile_menu, captured, monkeypatch):
    monkeypatch.setenv("DX_DB", str(hostile_db))
    monkeypatch.setattr("loaders.registry.load_registry", hostile_registry)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["pref"] = "兵庫県"
    shown = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        if page == "app_pages/data.py":
            at.button(key="dm_workbook").click().run()
            at.button(key="dm_template").click().run()
            assert not at.exception, [e.message for e in at.exception]
            assert not at.error, [e.value for e in at.error]
        buttons = at.get("download_button")
        shown[page] = [b.label for b in buttons]
        assert shown[page], f"{page} offers no download"
        # a press that reran the page could lose a file written on press (ui.export.download)
        assert all(b.proto.ignore_rerun for b in buttons), [b.label for b in buttons if not b.proto.ignore_rerun]
    findings, carried = [], set()
    for name, data in captured.items():
        data = pressed(data)
        findings += open_file(name, data)
        if name.endswith((".xlsx", ".csv")):
            text = _all_text(name, data)
            carried |= {start for start in HOSTILE_STARTS + ["=1+1"] if "'" + start in text}
    assert not findings, findings[:20]
    # every file is named by what users see (the view, the measure, the area), never by an id
    expected = {
        "すべての数値_兵庫県.xlsx",
        "訪問計画と支援優先度_兵庫県.xlsx",
        "訪問計画_兵庫県.csv",
        "市区町村一覧_兵庫県.csv",
        "総合得点_兵庫県.csv",
        "支援メニュー_兵庫県.xlsx",
    }
    assert expected <= set(captured), sorted(captured)
    assert any(name.startswith("調査票_兵庫県_") for name in captured), sorted(captured)
    assert all(re.fullmatch(r"[^a-z0-9_]+[^/]*\.(xlsx|csv|pptx|png)", name) for name in captured), sorted(captured)
    assert LINK in carried and {"＝1+1", "－1", "@SUM(A1)"} <= carried, (
        "the hostile text reached the files, neutralised"
    )


def _all_text(name: str, data: bytes) -> str:
    if name.endswith(".csv"):
        return "\n".join(cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row)
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value is not None)


def test_the_menu_items_and_round_labels_reach_the_support_excel_as_text(
    hostile_db, hostile_menu, captured, monkeypatch
):
    monkeypatch.setenv("DX_DB", str(hostile_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["pref"] = "兵庫県"
    at.switch_page("app_pages/support.py").run()
    assert not at.exception
    data = pressed(captured["訪問計画と支援優先度_兵庫県.xlsx"])
    assert not check_xlsx(data, "訪問計画と支援優先度_兵庫県.xlsx")
    text = _all_text("訪問計画と支援優先度_兵庫県.xlsx", data)
    assert "'" + LINK in text, "the round label, neutralised"
    recommended = openpyxl.load_workbook(io.BytesIO(data))["支援優先度"]
    header = [c.value for c in recommended[1]]
    column = header.index("推奨する支援")
    items = [row[column] for row in recommended.iter_rows(min_row=2, values_only=True) if row[column]]
    assert items and all(item.startswith("'=") for item in items), items[:3]


def test_command_line_files_hold_no_formula(hostile_db, hostile_menu, tmp_path, capsys):
    from loaders.__main__ import main as loaders_main
    from metrics.__main__ import main as metrics_main

    workbook = tmp_path / "all.xlsx"
    assert metrics_main(["export", "--db", str(hostile_db), "--out", str(workbook), "--pref", HYOGO]) == 0
    assert not check_xlsx(workbook.read_bytes(), "metrics export")
    assert "'" + LINK in _all_text("all.xlsx", workbook.read_bytes())

    scores = tmp_path / "scores.csv"
    with open(scores, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["市町村名", "STEP0", "STEP1", "STEP2", "STEP3"])
        # the reader trims blanks, so TAB and CR starts cannot arrive through a file
        writer.writerows(
            [f"{start}{i}町", 10, 5, 3, 1] for i, start in enumerate(HOSTILE_STARTS) if start[0] not in "\t\r"
        )
    out = tmp_path / "priority.csv"
    assert metrics_main(["priority", str(scores), "--out", str(out)]) == 0
    assert not check_csv(out.read_bytes(), "metrics priority --out")
    names = [row[0] for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))]
    assert "'" + LINK + "0町" in names
    capsys.readouterr()
    assert metrics_main(["priority", str(scores)]) == 0
    assert not check_csv(capsys.readouterr().out.encode("utf-8"), "metrics priority (stdout)")

    template = tmp_path / "survey.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("loaders.__main__.load_registry", hostile_registry)  # the registry the command reads
        assert (
            loaders_main(["template", "--prefecture", "兵庫県", "--round", "2026-baseline", "--out", str(template)])
            == 0
        )
    assert not check_xlsx(template.read_bytes(), "loaders template")
    assert "'" + LINK in _all_text("survey.xlsx", template.read_bytes())


def test_an_unexpected_error_is_a_japanese_message_with_details_in_the_log(demo_db, monkeypatch, caplog):
    """No English error box: the page says in Japanese what failed and what to do; the traceback
    goes to the server log."""
    monkeypatch.delenv("DX_STRICT_ERRORS", raising=False)
    monkeypatch.setenv("DX_DB", str(demo_db))

    def broken(con):
        raise RuntimeError("internal detail the user must not see")

    monkeypatch.setattr("metrics.views.table_counts", broken)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/data.py")
    with caplog.at_level("ERROR", logger="dx_dashboard"):
        at.run()
    assert not at.exception, "Streamlit's own error box is not shown"
    errors = [e.value for e in at.error]
    assert any("表示中にエラーが起きました（データ管理）" in e and "再読み込み" in e for e in errors), errors
    assert not any("internal detail" in e or "RuntimeError" in e for e in errors)
    assert any(r.exc_info and "internal detail" in str(r.exc_info[1]) for r in caplog.records), "details in the log"


SCRIPT_NAME = '<img src=x onerror="alert(1)"><script>alert(2)</script>**神戸市**'


def test_names_and_menu_texts_in_the_kartes_html_are_escaped(demo_db, tmp_path, monkeypatch):
    """The カルテ header is an HTML block and the menu lines carry an HTML span: a municipality named
    like markup, and menu items named like it, show as text, never as elements."""
    db = tmp_path / "markup.duckdb"
    shutil.copy(demo_db, db)
    with duckdb.connect(str(db)) as con:
        from metrics.filters import Filter
        from metrics.priority import support_priority

        priority = support_priority(con, Filter(pref_code=HYOGO))
        code = priority.loc[priority["recommended_ids"].fillna("") != "", "code"].iloc[0]  # one with a menu to show
        con.execute("UPDATE municipalities SET name = ? WHERE code = ?", [SCRIPT_NAME, code])
        if {"metric_results"} <= {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }:
            con.execute("DELETE FROM metric_results")
    rename_menu_items(monkeypatch, name="<script>alert(3)</script>", provider="<b onmouseover=alert(4)>")
    monkeypatch.setenv("DX_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["pref"] = "兵庫県"
    at.switch_page("app_pages/karte.py").run()
    assert not at.exception, [e.message for e in at.exception]
    if at.selectbox(key="ka_code").value != code:
        at.selectbox(key="ka_code").select(code).run()
    markup = [m.value for m in at.markdown]
    header = next(m for m in markup if "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in m)
    assert "<img" not in header and "<script" not in header
    assert "&lt;script&gt;alert(2)&lt;/script&gt;**神戸市**" in header, "an HTML block shows markdown literally"
    menu_lines = [m for m in markup if "alert\\(3\\)" in m]
    assert menu_lines, "the recommended menu is shown"
    for line in menu_lines:
        # inline markdown: the only live tags are the page's own span; every other < is escaped
        ours = line.replace("<span class='dx-muted'>", "").replace("</span>", "")
        assert not re.search(r"(?<!\\)<", ours), line
    assert any("\\<script\\>" in line and "\\<b onmouseover=alert\\(4\\)\\>" in line for line in menu_lines)
    at.switch_page("app_pages/support.py").run()  # the same menu items on 支援計画
    assert not at.exception, [e.message for e in at.exception]
    lines = [m.value for m in at.markdown if "alert\\(3\\)" in m.value]
    assert lines
    for line in lines:
        ours = line.replace("<span class='dx-muted'>", "").replace("</span>", "")
        assert not re.search(r"(?<!\\)<", ours), line
