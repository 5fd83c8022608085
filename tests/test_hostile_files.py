"""Hostile files (issue #8): bombs, XML entities, huge grids, path tricks, HTML and SQL in cells, wrong
extensions, and the safety helpers for exports and uploads.

Every hostile file must end in a ``LoaderError`` (Japanese, naming the file) or load as inert text, quickly and
within bounded memory, and nothing may be written outside the data folder.
"""

from __future__ import annotations

import ast
import csv
import io
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from fuzz_helpers import JAPANESE, assert_loader_error, rewrite_zip, shapefile_zip, squares
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import upload_names
from loaders.build import BuildError, all_loaders, build, check_file, detect_loader
from loaders.errors import LoaderError
from loaders.textio import MAX_SHEET_CELLS, MAX_XLSX_UNCOMPRESSED, MAX_ZIP_MEMBERS
from store import safety

ROOT = Path(__file__).resolve().parent.parent
QUICK = 10.0  # seconds: a refused file is refused before any real work
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SQL = "'); DROP TABLE municipalities; --"


# ---------------------------------------------------------------- file makers


def juki_workbook(path: Path, extra_rows: list[list[object]] = ()) -> Path:
    """A small 住民基本台帳 sheet the juki loader recognises and loads, with shared strings as Excel writes them."""
    rows = [
        ["令和6年1月1日住民基本台帳人口・世帯数"],
        [None, None, None, "人口", "人口", "人口", "世帯数"],
        ["団体コード", "都道府県名", "市区町村名", "男", "女", "計", "世帯数"],
        ["011002", "北海道", "札幌市", 915082, 1041846, 1956928, 1104953],
        *extra_rows,
    ]
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("人口")
    for index, row in enumerate(rows):
        sheet.write_row(index, 0, row)
    workbook.close()
    return path


def zeros(size: int) -> tuple[bytes, int, bytes]:
    return b"", size, b"\0"


def declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip headers claim ``size`` uncompressed bytes for ``member`` (a lying zip bomb)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)  # local file header
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, size)  # central directory
    path.write_bytes(bytes(data))


def peak_memory_mb(*args: str) -> tuple[int, float, str]:
    """Run ``python -m loaders <args>`` and return (exit code, peak RSS of that process in MB, stderr+stdout)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "loaders", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = process.stdout.read().decode("utf-8", errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, output


def refused(path: Path, ctx, loader=None, pattern: str = "") -> LoaderError:
    """The loader (the one the content calls for, by default) refuses the file quickly with a proper message."""
    loader = loader or detect_loader(path)
    assert loader is not None, f"{path.name} is not recognised"
    started = time.perf_counter()
    with pytest.raises(LoaderError) as error:
        loader.load(path, ctx)
    assert time.perf_counter() - started < QUICK
    assert_loader_error(error.value, path)
    assert re.search(pattern, error.value.message), error.value.message
    return error.value


def tree_listing(*folders: Path) -> set[Path]:
    return {p for folder in folders for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def tottori_zip(registry, tmp_path_factory) -> Path:
    return shapefile_zip(squares(registry, "31"), tmp_path_factory.mktemp("shp"), "N03-20240101_31_GML.zip", "cp932")


# ---------------------------------------------------------------- zip bombs


def test_xlsx_zip_bomb_is_refused_before_unpacking(tmp_path, load_context):
    size = MAX_XLSX_UNCOMPRESSED + (20 << 20)
    bomb = rewrite_zip(
        juki_workbook(tmp_path / "plain.xlsx"), tmp_path / "bomb.xlsx", streams={"xl/media/image1.bin": zeros(size)}
    )
    assert bomb.stat().st_size < size / 100
    refused(bomb, load_context, pattern="展開後のサイズが大きすぎます")


def test_shapefile_zip_bomb_and_too_many_members_are_refused(tottori_zip, tmp_path, load_context):
    size = MAX_XLSX_UNCOMPRESSED + (20 << 20)
    bomb = rewrite_zip(tottori_zip, tmp_path / "N03-bomb.zip", streams={"N03-20240101_31_GML/readme.txt": zeros(size)})
    refused(bomb, load_context, pattern="展開後のサイズが大きすぎます")
    many = rewrite_zip(
        tottori_zip, tmp_path / "N03-many.zip", replace={f"x/{i}.txt": b"." for i in range(MAX_ZIP_MEMBERS + 1)}
    )
    refused(many, load_context, pattern="ファイル数が多すぎます")


def test_bombs_stay_within_bounded_memory_in_a_separate_process(tottori_zip, tmp_path):
    """Peak memory of ``python -m loaders check`` on bombs, with honest and with lying size headers."""
    plain = juki_workbook(tmp_path / "plain.xlsx")
    code, baseline, output = peak_memory_mb("check", str(plain))
    assert code == 0, output
    half_gb = 1 << 29
    bombs = {
        "honest.xlsx": rewrite_zip(plain, tmp_path / "honest.xlsx", streams={"xl/media/image1.bin": zeros(half_gb)})
    }
    # whitespace after </sst> is still valid XML: a parser would read all of it if the headers were believed
    with zipfile.ZipFile(plain) as archive:
        strings = archive.read("xl/sharedStrings.xml")
    bombs["lying.xlsx"] = rewrite_zip(
        plain, tmp_path / "lying.xlsx", streams={"xl/sharedStrings.xml": (strings, half_gb, b" ")}
    )
    declare_size(bombs["lying.xlsx"], "xl/sharedStrings.xml", len(strings))
    with zipfile.ZipFile(tottori_zip) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name.endswith((".dbf", ".shp"))}
    for name, data in members.items():
        lying = rewrite_zip(
            tottori_zip, tmp_path / f"N03-lying{Path(name).suffix}.zip", streams={name: (data, half_gb, b"\0")}
        )
        declare_size(lying, name, len(data))
        bombs[lying.name] = lying
    outputs = {}
    for name, bomb in bombs.items():
        started = time.perf_counter()
        code, peak, outputs[name] = peak_memory_mb("check", str(bomb))
        assert "Traceback" not in outputs[name], outputs[name]
        assert peak < baseline + 150, f"{name}: {peak:.0f} MB vs {baseline:.0f} MB for a small file"
        assert time.perf_counter() - started < 60
    assert "展開後のサイズが大きすぎます" in outputs["honest.xlsx"]


def test_declared_sheet_size_is_not_trusted(tmp_path, load_context):
    """A few KB of XML claiming A1:XFD1048576, or two cells at opposite corners, must not become billions of cells."""
    plain = juki_workbook(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(plain) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    claimed = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', sheet)
    lying = rewrite_zip(plain, tmp_path / "claims.xlsx", replace={"xl/worksheets/sheet1.xml": claimed})
    started = time.perf_counter()
    result = detect_loader(lying).load(lying, load_context)  # loads what is really there
    assert time.perf_counter() - started < QUICK
    assert result.tables["indicator_values"].query(
        "code == '011002' and indicator_id == 'population_juki'"
    ).value.tolist() == [1956928]
    corners = juki_workbook(tmp_path / "corners.xlsx")
    workbook = openpyxl.load_workbook(corners)
    workbook.active["XFD1"] = "右上"
    workbook.active["A1048576"] = "左下"
    workbook.save(corners)
    assert corners.stat().st_size < 10_000
    refused(corners, load_context, pattern=f"{MAX_SHEET_CELLS:,}")


# ---------------------------------------------------------------- XML entities

LAUGHS = (
    b'<!DOCTYPE sst [<!ENTITY a "lollollollollollollollollollol">'
    + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
    + b"]>"
)


def with_doctype(xml: bytes, doctype: bytes, entity: bytes) -> bytes:
    """Insert a DOCTYPE after the XML declaration and the entity reference into the first text node."""
    declaration, rest = xml.split(b"?>", 1) if xml.startswith(b"<?xml") else (b"", xml)
    rest = re.sub(rb"<t>", b"<t>" + entity, rest, count=1) if b"<t>" in rest else rest
    return (declaration + b"?>" if declaration else b"") + doctype + rest


def test_openpyxl_parses_through_defusedxml_or_without_entities():
    import openpyxl.xml
    import openpyxl.xml.functions as functions

    assert openpyxl.xml.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")  # worksheets and shared strings
    parser = getattr(functions.fromstring, "keywords", {}).get("parser")  # workbook.xml etc. (lxml, no entities)
    assert parser is not None or functions.fromstring.__module__.startswith("defusedxml")


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_billion_laughs_is_refused(member, tmp_path, load_context):
    plain = juki_workbook(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(plain) as archive:
        xml = archive.read(member)
    doctype = LAUGHS.replace(b"sst", b"sst" if "shared" in member else b"worksheet")
    bomb = rewrite_zip(plain, tmp_path / "laughs.xlsx", replace={member: with_doctype(xml, doctype, b"&j;")})
    refused(bomb, load_context, detect_loader(plain), pattern="Excel")


def test_external_entities_are_refused_or_inert(tmp_path, load_context):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN-4f1d9c", encoding="utf-8")
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()
    plain = juki_workbook(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(plain) as archive:
        strings, workbook_xml = archive.read("xl/sharedStrings.xml"), archive.read("xl/workbook.xml")
    in_strings = rewrite_zip(
        plain, tmp_path / "xxe-strings.xlsx", replace={"xl/sharedStrings.xml": with_doctype(strings, doctype, b"&xxe;")}
    )
    refused(in_strings, load_context, detect_loader(plain), pattern="Excel")
    # workbook.xml goes through lxml with entity resolution off: the entity stays unexpanded
    in_workbook = rewrite_zip(
        plain,
        tmp_path / "xxe-workbook.xlsx",
        replace={
            "xl/workbook.xml": re.sub(
                rb'<sheet name="[^"]*"', b'<sheet name="&xxe;"', with_doctype(workbook_xml, doctype, b"")
            )
        },
    )
    loader = detect_loader(plain)
    try:
        result = loader.load(in_workbook, load_context)
    except LoaderError as error:
        assert_loader_error(error, in_workbook)
        assert "TOKEN" not in str(error)
    else:
        frame = result.tables["indicator_values"]
        assert not frame.astype(str).apply(lambda column: column.str.contains("TOKEN")).any().any()
        assert "TOKEN" not in " ".join(str(issue) for issue in result.report.issues)


# ---------------------------------------------------------------- huge grids and cells


def test_100000_columns_csv_is_handled_quickly(shared_data, registry, tmp_path, load_context):
    names = list(registry.municipalities.name) * 58  # 100,978 columns, names repeating out of code order
    rows = [["", ""] + names[:100_000]]
    real = list(
        csv.reader(
            io.StringIO(
                (shared_data / "digital-agency" / "市区町村毎のDX進捗状況_市区町村比較.csv").read_text(
                    encoding="utf-8-sig"
                ),
                newline="",
            )
        )
    )
    rows += [row[:2] + ["実施"] * 100_000 for row in real[1:3]]
    path = tmp_path / "wide.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    started = time.perf_counter()
    _, _, issues = check_file(path)
    assert issues and all(JAPANESE.search(i.message) for i in issues)
    for loader in all_loaders():
        try:
            loader.load(path, load_context)
        except LoaderError as error:
            assert_loader_error(error, path)
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize("kind", ["csv", "xlsx", "geojson"])
def test_a_10_mb_cell_is_refused_or_kept_as_text(kind, registry, tmp_path, load_context):
    big = "あ" * ((10 << 20) // 3)
    if kind == "csv":
        path = tmp_path / "big.csv"
        path.write_text(f"code,totalpop\r\n01100,1964034\r\n01202,{big}\r\n", encoding="utf-8")
    elif kind == "xlsx":
        plain = juki_workbook(tmp_path / "plain.xlsx", [["012025", "北海道", "PLACEHOLDER", 1, 1, 2, 1]])
        with zipfile.ZipFile(plain) as archive:
            strings = archive.read("xl/sharedStrings.xml")
        # far beyond Excel's 32,767 characters per cell (Excel and openpyxl refuse to write it; a crafted file can)
        path = rewrite_zip(
            plain,
            tmp_path / "big.xlsx",
            replace={"xl/sharedStrings.xml": strings.replace(b"PLACEHOLDER", big.encode("utf-8"))},
        )
    else:
        frame = squares(registry, "31")
        frame.loc[0, "N03_004"] = big
        path = tmp_path / "big.geojson"
        path.write_text(frame.to_json(), encoding="utf-8")
    size = sum(i.file_size for i in zipfile.ZipFile(path).infolist()) if kind == "xlsx" else path.stat().st_size
    assert size > 10 << 20
    started = time.perf_counter()
    loader = detect_loader(path)
    assert loader is not None
    try:
        assert loader.load(path, load_context).rows > 0
    except LoaderError as error:
        assert_loader_error(error, path)
    assert time.perf_counter() - started < 30


# ---------------------------------------------------------------- paths


def evil_files(folder: Path) -> set[Path]:
    """Files named like the hostile members wherever an unpacker would have put them."""
    places = {Path(tempfile.gettempdir()), Path("/tmp"), ROOT, Path.cwd(), *list(folder.parents)[:3]}
    return set(folder.rglob("*evil*")) | {p for place in places for p in place.glob("*evil*")}


@pytest.mark.parametrize("member", ["../../evil.shp", "/tmp/evil.dbf", "C:\\evil.shx", "a/../../evil.prj"])
def test_zip_members_with_parent_or_absolute_paths_write_nothing(member, tottori_zip, tmp_path, load_context):
    source = tmp_path / "source"
    source.mkdir()
    path = rewrite_zip(tottori_zip, source / "N03-20240101_31_GML.zip", replace={member: b"evil"})
    before, ours = evil_files(source), tree_listing(tmp_path)
    refused(path, load_context, pattern="安全でないパス")
    target = tmp_path / "db" / "dashboard.duckdb"
    with pytest.raises(BuildError, match="安全でないパス"):
        build([source], target)
    assert evil_files(source) == before
    assert tree_listing(tmp_path) - ours <= {
        tmp_path / "db",
        tmp_path / "db" / "versions",
    }  # no database was swapped in


def test_xlsx_with_traversal_members_is_read_in_place(tmp_path, load_context):
    plain = juki_workbook(tmp_path / "plain.xlsx")
    path = rewrite_zip(
        plain, tmp_path / "traversal.xlsx", replace={"../../evil.xml": b"<x/>", "/abs/evil.xml": b"<x/>"}
    )
    before, ours = evil_files(tmp_path), tree_listing(tmp_path)
    try:
        detect_loader(path).load(path, load_context)
    except LoaderError as error:
        assert_loader_error(error, path)
    assert evil_files(tmp_path) == before and tree_listing(tmp_path) == ours


# ---------------------------------------------------------------- HTML and SQL in cells


@pytest.fixture(scope="module")
def hostile_build(shared_data, tmp_path_factory):
    """A build of real files whose names and answers carry HTML/JS and SQL fragments."""
    root = tmp_path_factory.mktemp("hostile")
    # read as a folder: a file given by itself that keeps no row stops the build (test_bad_input_explicit.py),
    # and pref.csv, whose renamed 北海道 makes it read as a municipal file, keeps none
    folder = root / "inputs"
    folder.mkdir()
    da = shared_data / "digital-agency" / "都道府県のDX進捗状況_都道府県比較.csv"
    rows = list(csv.reader(io.StringIO(da.read_text(encoding="utf-8-sig"), newline="")))
    rows[0][2], rows[0][3] = IMG, SQL  # 北海道 and 青森県 become names that match nothing
    with open(folder / "pref.csv", "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    survey = shared_data / "digital-agency-opendata-survey" / "20250210_resources_data_questionnaire_outline_04.csv"
    rows = list(csv.reader(io.StringIO(survey.read_text(encoding="utf-8-sig"), newline="")))
    q3 = next(i for i, h in enumerate(rows[0]) if "オープンデータに取り組んでいますか" in h)
    rows[2][q3], rows[3][q3], rows[4][q3] = SCRIPT, SQL, '"; DELETE FROM indicator_values; --'
    with open(folder / "survey.csv", "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    target = root / "db" / "dashboard.duckdb"
    summary = build([folder], target)
    return summary, target, rows[2][1].zfill(6)


def schema_tables() -> set[str]:
    return set(re.findall(r"CREATE TABLE (\w+)", (ROOT / "store" / "schema.sql").read_text(encoding="utf-8")))


def test_html_and_sql_in_cells_are_stored_verbatim_and_every_table_survives(hostile_build):
    summary, target, script_code = hostile_build
    con = duckdb.connect(str(target), read_only=True)
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert schema_tables() <= tables
    assert con.execute("SELECT count(*) FROM municipalities").fetchone()[0] == 1741
    assert con.execute("SELECT count(*) FROM indicator_values WHERE source = 'opendata_survey'").fetchone()[0] > 1000
    raws = {
        row[0] for row in con.execute("SELECT raw FROM indicator_values WHERE indicator_id = 'opendata_q3'").fetchall()
    }
    assert {SCRIPT, SQL, '"; DELETE FROM indicator_values; --'} <= raws
    assert (
        con.execute(
            "SELECT raw FROM indicator_values WHERE indicator_id = 'opendata_q3' AND code = ?", [script_code]
        ).fetchone()[0]
        == SCRIPT
    )
    names = {row[0] for row in con.execute("SELECT name FROM unresolved_names").fetchall()}
    assert {IMG, SQL} <= names
    # the report shows the text as it is (the pages render it as text, never as HTML)
    assert any(IMG in str(w) for w in summary.report.warnings)


def _string_constants(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_loaders_never_build_html():
    tag = re.compile(r"<\s*/?\s*(script|img|div|span|a|b|i|p|br|table|tr|td|html|style|iframe)\b", re.I)
    for path in sorted((ROOT / "loaders").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in source and "import streamlit" not in source, path.name
        found = [text for text in _string_constants(path) if tag.search(text)]
        assert not found, f"{path.name}: {found}"


# Interpolations allowed in SQL text, each a name chosen by the code itself (never from a file):
SQL_NAMES = {
    ("loaders/store.py", "table"): "a schema table name, checked against information_schema before use",
    ("loaders/boundaries.py", "column"): "one of two literal column names",
    ("metrics/tables.py", "table"): "a metric table name, a key of the code's own dict of frames",
}
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|FROM|WHERE)\b")


def test_sql_is_never_built_from_data():
    """Every f-string or format() that looks like SQL in loaders/ and metrics/ interpolates only known names."""
    unexpected = []
    for folder in ("loaders", "metrics"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.JoinedStr):
                    text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                    if SQL_WORDS.search(text) and not JAPANESE.search(text):
                        for value in (v for v in node.values if isinstance(v, ast.FormattedValue)):
                            if (relative, ast.unparse(value.value)) not in SQL_NAMES:
                                unexpected.append(f"{relative}:{node.lineno} {ast.unparse(value.value)}")
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "format"
                    and isinstance(node.func.value, ast.Constant)
                    and SQL_WORDS.search(str(node.func.value.value))
                ):
                    unexpected.append(f"{relative}:{node.lineno} .format()")
                elif (
                    isinstance(node, ast.BinOp)
                    and isinstance(node.op, ast.Mod)
                    and isinstance(node.left, ast.Constant)
                    and SQL_WORDS.search(str(node.left.value))
                ):
                    unexpected.append(f"{relative}:{node.lineno} % formatting")
    assert not unexpected, unexpected


# ---------------------------------------------------------------- types by content, not by extension


@pytest.mark.parametrize(
    "source, name, expected",
    [
        ("estat-census-2025/kokusei2025sokuho.csv", "人口.xlsx", "census_2025"),
        ("gsi-area/area20240101.csv", "area.geojson", "gsi_area"),
        ("soumu-juki-population/FY2023-population_dynamics_municipal.xlsx", "住基.csv", "juki_population"),
        ("boundaries/N03-21_210101_designated_city.topojson.json", "境界.csv", "n03_boundaries"),
    ],
)
def test_real_files_under_wrong_extensions_are_recognised_by_content(source, name, expected, shared_data, tmp_path):
    path = tmp_path / name
    path.write_bytes((shared_data / source).read_bytes())
    loader, result, issues = check_file(path)
    assert loader is not None and loader.name == expected
    assert result is not None and result.rows > 0, [str(i) for i in issues]


@pytest.mark.parametrize(
    "name, data",
    [
        ("map.geojson", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("survey.csv", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
        ("book.xlsx", "code,name\r\n1,テスト\r\n".encode("cp932")),
        ("data.zip", b"PK\x05\x06" + bytes(18)),  # an empty zip
        ("table.xlsx", b"%PDF-1.7\n" + bytes(100)),
    ],
)
def test_other_content_is_refused_with_a_clear_message(name, data, tmp_path):
    path = tmp_path / name
    path.write_bytes(data)
    loader, result, issues = check_file(path)
    assert loader is None and result is None
    assert issues[0].level == "error" and "内容から種類を判別できません" in issues[0].message
    assert name in str(issues[0])
    target = tmp_path / "db" / "dashboard.duckdb"
    for force in (False, True):  # a file given by itself must load, forced or not
        with pytest.raises(BuildError, match=re.escape(name)):
            build([path], target, force=force)
    folder = tmp_path / "folder"
    folder.mkdir()
    path.rename(folder / name)
    with pytest.raises(BuildError, match=re.escape(name)):  # in a folder: listed, and the build stops
        build([folder], target)
    assert not target.exists()
    summary = build([folder], target, force=True)  # forced: skipped, and said so
    assert summary.files[0]["status"] == "skipped"
    assert any(name in str(w) for w in summary.report.warnings)


# ---------------------------------------------------------------- safety helpers: exports and uploads


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("札幌市", "札幌市"),
        ("", ""),
        (" =1", " =1"),
        ("a=b", "a=b"),
        (-5, -5),
        (3.5, 3.5),
        (None, None),
        (True, True),
    ],
)
def test_neutralise_formula(value, expected):
    assert safety.neutralise_formula(value) == expected


def test_neutralise_frame_keeps_numbers_and_neutralises_text_and_headers():
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "池田町", None],
            "value": [-1.0, 2.0, None],
            "=cmd": pd.array(["@x", "ok", pd.NA], dtype="string"),
        }
    )
    out = safety.neutralise_frame(frame)
    assert out["name"].tolist()[:2] == ['\'=HYPERLINK("http://x")', "池田町"] and out["name"].isna().tolist()[2]
    assert out["value"].tolist()[:2] == [-1.0, 2.0]
    assert list(out.columns) == ["name", "value", "'=cmd"]
    assert out["'=cmd"].tolist()[:2] == ["'@x", "ok"]
    assert frame["name"][0].startswith("=")  # the original is untouched


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/path/回答.xlsx", "回答.xlsx"),
        ("C:\\Users\\x\\調査 (1).csv", "調査 (1).csv"),
        ("..\\..\\boot.ini", "boot.ini"),
        (".hidden.csv", "hidden.csv"),
        ("a\x00b.csv", "a_b.csv"),
        ("a<b>:c|d?.csv", "a_b__c_d_.csv"),
        ("CON.csv", "_CON.csv"),
        ("  兵庫県 回答.xlsx  ", "兵庫県 回答.xlsx"),
        (SCRIPT + ".csv", "script_.csv"),
        (IMG + ".xlsx", "_img src=x onerror=alert(1)_.xlsx"),
    ],
)
def test_safe_upload_name(name, expected):
    assert upload_names.safe_upload_name(name) == expected


@pytest.mark.parametrize("name", ["", "..", ".", "/", "../", "\\", "...", " . "])
def test_safe_upload_name_refuses_names_without_a_file_name(name):
    with pytest.raises(LoaderError) as error:
        upload_names.safe_upload_name(name)
    assert JAPANESE.search(error.value.message)


def test_safe_upload_name_limits_length_and_keeps_the_suffix():
    name = upload_names.safe_upload_name("市" * 300 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode("utf-8")) <= upload_names.MAX_NAME_BYTES


@pytest.fixture(scope="module")
def upload_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=0, max_size=80))
def test_upload_path_always_stays_in_the_folder(name, upload_folder):
    folder = upload_folder
    try:
        target = upload_names.upload_path(folder, name)
    except LoaderError as error:
        assert JAPANESE.search(error.message)
        return
    assert target.parent == folder.resolve()
    assert (
        not target.name.startswith(".")
        and "\x00" not in target.name
        and "/" not in target.name
        and "\\" not in target.name
    )


def test_upload_path_refuses_a_symlink_out_of_the_folder(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "data.csv").symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(LoaderError, match="外"):
        upload_names.upload_path(folder, "data.csv")
    assert upload_names.upload_path(folder, "other.csv") == folder.resolve() / "other.csv"


# ---------------------------------------------------------------- oversized GeoJSON (issue 15)


def test_a_geojson_over_the_size_limit_is_refused_before_gdal_parses_it(registry, tmp_path):
    """A 75 MB GeoJSON once took 926 MB and answered in GDAL's English; now the size is checked first
    (the rest of the file is whitespace: cheap to write, and GDAL would still parse all of it)."""
    from loaders.boundaries import MAX_JSON_BYTES

    collection = squares(registry, "31").to_json()
    path = tmp_path / "big.geojson"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(collection[:-1])
        handle.write(" " * (MAX_JSON_BYTES + 1_000_000 - len(collection)))
        handle.write("}")
    assert path.stat().st_size > MAX_JSON_BYTES
    code, peak_mb, output = peak_memory_mb("check", str(path))
    assert code == 1
    assert "境界データ（GeoJSON/TopoJSON）が大きすぎます" in output and "シェープファイル" in output, output
    assert "GDAL" not in output and "Error" not in output
    small = tmp_path / "small.geojson"
    small.write_text(collection, encoding="utf-8")
    _, baseline_mb, _ = peak_memory_mb("check", str(small))  # the same command on a small file: the imports
    # parsing would take ≈ 12 × the file (> 700 MB); scanning it for the feature count maps it once
    assert peak_mb < baseline_mb + MAX_JSON_BYTES / 1e6 + 100, (
        f"{peak_mb:.0f} MB vs {baseline_mb:.0f} MB: the file was parsed"
    )


def test_a_geojson_with_too_many_features_is_refused(registry, tmp_path, load_context, monkeypatch):
    import loaders.boundaries as boundaries

    monkeypatch.setattr(boundaries, "MAX_FEATURES", 3)
    monkeypatch.setattr(
        boundaries.pyogrio, "read_dataframe", lambda *a, **k: pytest.fail("GDAL must not parse a refused file")
    )
    path = tmp_path / "many.geojson"
    path.write_text(squares(registry, "31").to_json(), encoding="utf-8")
    refused(path, load_context, pattern="地物が多すぎます（6 件、上限 3 件）")


def test_gdal_errors_reach_the_user_in_japanese(registry, tmp_path, load_context):
    text = squares(registry, "31").to_json()
    path = tmp_path / "cut.geojson"
    path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    error = refused(path, load_context, pattern="地理データとして読めません")
    assert not re.search(r"[A-Za-z]{6,}", error.message.replace("GeoJSON", "")), error.message
