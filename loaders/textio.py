"""Reading the files people really have: encoding detection, CSV rows, typed cell values, Excel.

Encodings are detected, not assumed: a BOM decides first, then strict UTF-8, then
charset-normalizer limited to the Japanese legacy encodings (cp932 as Excel saves it, EUC-JP).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from charset_normalizer import from_bytes

from loaders.errors import LoaderError

MAX_TEXT_BYTES = 200 * 1024 * 1024  # a CSV larger than this is refused, not read into memory
MAX_XLSX_UNCOMPRESSED = 300 * 1024 * 1024  # zip-bomb guard for .xlsx
MAX_ZIP_MEMBERS = 10_000
# Cells per sheet once rows are padded to the sheet's width (the real 住基 sheet has 57,200). A few KB of
# XML can place two cells at A1048576 and XFD1, which padded would be 17 billion cells.
MAX_SHEET_CELLS = 10_000_000
# What reading a member of a damaged archive raises: bad headers and CRCs, corrupt deflate streams,
# truncated members, unsupported compression or encryption, absent members.
BROKEN_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    KeyError,
)

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def detect_encoding(data: bytes, file: str | Path | None = None) -> str:
    """Return a Python codec name that decodes ``data`` without error."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for codec in ("cp932", "euc_jp"):
        try:
            data.decode(codec)
        except UnicodeDecodeError:
            continue
        candidates.append(codec)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        # Both legacy encodings decode the bytes: let charset-normalizer judge which reads as text;
        # when it cannot tell, cp932 is what Excel writes.
        sample = data[:200_000]
        if len(data) > len(sample) and b"\n" in sample:
            sample = sample[: sample.rindex(b"\n") + 1]  # never split a double-byte character
        best = from_bytes(sample, cp_isolation=candidates).best()
        return best.encoding if best is not None and best.encoding in candidates else "cp932"
    raise LoaderError(
        "文字コードを判別できません（UTF-8、UTF-8(BOM付き)、Shift_JIS(cp932)のいずれでもありません）。"
        "テキスト形式のCSVとして保存し直してください。",
        file=file,
    )


def read_text(path: str | Path, data: bytes | None = None) -> str:
    """Decode a text file with its detected encoding; refuse binary content."""
    path = Path(path)
    if data is None:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise LoaderError(f"ファイルが大きすぎます（上限 {MAX_TEXT_BYTES // 1024 // 1024} MB）。", file=path)
        data = path.read_bytes()
    if not data.strip():
        raise LoaderError("ファイルが空です。", file=path)
    codec = detect_encoding(data, path)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        # a BOM promised an encoding the bytes do not keep: typically a file cut mid-character
        line = data[: exc.start].count(b"\n") + 1
        raise LoaderError(
            f"{codec} として読めないバイトがあります（ファイルの途中で切れているか、壊れています）。",
            file=path,
            row=line,
        ) from exc
    if codec.startswith("utf-16"):
        text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise LoaderError("テキストではないデータ（NUL文字）が含まれています。", file=path)
    return text


def read_csv_rows(path: str | Path, data: bytes | None = None) -> list[list[str]]:
    """All rows of a CSV as lists of strings (CRLF, BOM and encodings handled)."""
    text = read_text(path, data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise LoaderError(f"CSVとして読めません（{exc}）。", file=path) from exc
    # Excel and hand edits leave fully blank trailing lines behind.
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise LoaderError("データ行がありません。", file=path)
    return rows


def data_rows(rows: list[list[str]], path: str | Path):
    """(line number, row) for each non-blank row after the header; a row whose field count
    differs from the header's is an error (a cut file or broken delimiters)."""
    width = len(rows[0])
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise LoaderError(
                f"列の数が見出しと違います（{len(row)} 列、見出しは {width} 列）。ファイルが途中で切れているか、"
                "区切りが崩れています。",
                file=path,
                row=line,
            )
        yield line, row


def sniff_head(path: str | Path, size: int = 65536) -> str:
    """A decoded prefix of a text file for content sniffing; '' for binary or undecodable files."""
    with open(path, "rb") as handle:
        data = handle.read(size)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="ignore").lstrip("\ufeff")
    if b"\x00" in data:
        return ""
    complete = len(data) < size  # the whole file fits: nothing was cut
    for codec in ("utf-8", "cp932"):
        # the prefix may end inside a multibyte character: allow dropping up to 3 trailing bytes
        for cut in (0,) if complete else (0, 1, 2, 3):
            try:
                return data[: len(data) - cut].decode(codec)
            except UnicodeDecodeError:
                continue
    return ""


# ---------------------------------------------------------------- typed values

MISSING_MARKERS = {
    "",
    "-",
    "－",
    "―",
    "‐",
    "—",
    "…",
    "***",
    "*",
    "調査無し",
    "調査なし",
    "不明",
    "NA",
    "N/A",
    "#N/A",
    "%",
    "％",
}
BINARY_TRUE = {"実施", "○", "〇", "有", "あり", "はい", "済"}
BINARY_FALSE = {"未実施", "×", "無", "なし", "いいえ", "未"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Cell:
    """A typed cell: ``value`` is None when missing; ``kind`` says how it was read."""

    value: float | None
    kind: str  # "binary" | "percent" | "number" | "missing"
    raw: str


def normalise_text(raw: object) -> str:
    """NFKC for digits/letters (full-width -> ASCII), trimmed; keeps Japanese as is."""
    if raw is None:
        return ""
    if isinstance(raw, float) and math.isnan(raw):
        return ""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def parse_cell(raw: object) -> Cell:
    """Read one survey/open-data cell into a typed value, keeping the raw text.

    実施/未実施 -> 1/0; "75%", "75.5％", "７５%" -> 75.0 (percent points); integers and decimals
    with thousands separators -> float; blanks, 調査無し, a bare "%" and similar markers -> missing.
    Anything else is "text" with value None (the caller decides whether that is an error), and so is a
    number too large for a float ("1e309" would be infinity, which no source means).
    """
    raw_text = "" if raw is None else str(raw)
    if isinstance(raw, float) and math.isnan(raw):
        raw_text = ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw_text:
        return _number(float(raw), "number", raw_text)
    text = normalise_text(raw_text)
    if text in MISSING_MARKERS:
        return Cell(None, "missing", raw_text)
    if text in BINARY_TRUE:
        return Cell(1.0, "binary", raw_text)
    if text in BINARY_FALSE:
        return Cell(0.0, "binary", raw_text)
    if text.endswith("%"):
        number = text[:-1].strip().replace(",", "")
        if _NUMBER.match(number):
            return _number(float(number), "percent", raw_text)
        return Cell(None, "text", raw_text)
    number = text.replace(",", "")
    if _NUMBER.match(number):
        return _number(float(number), "number", raw_text)
    return Cell(None, "text", raw_text)


def _number(value: float, kind: str, raw_text: str) -> Cell:
    return Cell(value, kind, raw_text) if math.isfinite(value) else Cell(None, "text", raw_text)


# ---------------------------------------------------------------- Excel


def check_zip_container(path: str | Path) -> None:
    """Refuse zip bombs and path tricks before any library unpacks the archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoaderError("ZIP/Excel形式として読めません（ファイルが壊れているか、別の形式です）。", file=path) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise LoaderError(f"圧縮ファイル内のファイル数が多すぎます（{len(members)}件）。", file=path)
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise LoaderError(
            f"展開後のサイズが大きすぎます（{total // 1024 // 1024} MB、上限 "
            f"{MAX_XLSX_UNCOMPRESSED // 1024 // 1024} MB）。",
            file=path,
        )


def read_excel_sheets(path: str | Path) -> dict[str, list[list[object]]]:
    """Every worksheet of an .xlsx as rows of Python values from A1, all as wide as the sheet's widest
    row: text, int/float, bool, datetime/time/timedelta, None for a blank (merged cells read as
    Excel stores them: the value in the top-left cell only), an error cell as its code (「#N/A」).
    Blank rows and columns after the last value may be left out.

    calamine (Rust) reads faster than openpyxl (a 住民基本台帳 workbook: 0.11 s with the scan below,
    0.31 s in openpyxl), but it builds each sheet as one dense grid before any check could run (a
    cell at A1 and one at XFD1048576 is a 550 GB grid: the process aborts) and reads error cells as
    blanks. A scan of the sheets' cell references comes first (``fits_calamine``): openpyxl's
    streaming reader takes a workbook whose sheets are too large (it stops at the limit and names
    the sheet) or that holds error cells (kept as text, never as blanks)."""
    check_zip_container(path)
    if not fits_calamine(path):
        return _read_excel_streaming(path)
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for broken files
        raise LoaderError(f"Excelファイルとして読めません（{type(exc).__name__}）。", file=path) from exc
    try:
        return {
            sheet.name: [[_excel_value(value) for value in row] for row in _calamine_rows(workbook, sheet.name)]
            for sheet in workbook.sheets_metadata
            if sheet.typ == SheetTypeEnum.WorkSheet
        }
    except Exception as exc:
        raise LoaderError(f"Excelファイルの内容を読めません（{type(exc).__name__}）。", file=path) from exc
    finally:
        workbook.close()


def _calamine_rows(workbook, name: str) -> list[list[object]]:
    return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)  # from A1, as openpyxl


def _excel_value(value: object) -> object:
    """A calamine cell as openpyxl gives it: None for a blank, an int for a whole number (Excel
    stores every number as a double; openpyxl reads one written without a decimal point as an
    int), a datetime for a date."""
    if isinstance(value, str) and not value:
        return None
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if type(value) is date:
        return datetime.combine(value, time())
    return value


# Any tag named c (cell) or row, with or without a namespace prefix; its reference in plain form.
_POSITIONED_TAG = re.compile(rb"<(?:[\w.-]+:)?(?:c|row)[\s/>]")
_REFERENCE = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)([0-9]+)["']""")
_ERROR_CELL = re.compile(rb"""\st\s*=\s*["']e["']""")


def fits_calamine(path: str | Path) -> bool:
    """Whether calamine can read the workbook safely and without loss: in every part of the archive
    (whichever the workbook names as its sheets) each cell and row carries a plain reference, the
    grid they span is within MAX_SHEET_CELLS, no cell holds an error and no part declares a
    document type (entities). Anything else — a reference this scan cannot read included — goes to
    the streaming reader, and so does an archive this scan cannot unpack (that reader then says
    what is wrong with it)."""
    try:
        with zipfile.ZipFile(path) as archive:  # one part in memory at a time, within MAX_XLSX_UNCOMPRESSED
            return all(_part_fits_calamine(archive.read(member)) for member in archive.infolist())
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error):
        return False


def _part_fits_calamine(xml: bytes) -> bool:
    if b"<!DOCTYPE" in xml:  # entities (billion laughs, external files): defusedxml refuses them there
        return False
    tags = len(_POSITIONED_TAG.findall(xml))
    if not tags:  # no cells (a theme's r="50000" is a gradient, not a row)
        return True
    references = _REFERENCE.findall(xml)
    if tags != len(references) or _ERROR_CELL.search(xml):
        return False
    rows = max(int(number) for number in {number for _, number in references})
    columns = max(_column_number(letters.upper()) for letters in {letters for letters, _ in references})
    return rows * max(columns, 1) <= MAX_SHEET_CELLS


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _read_excel_streaming(path: str | Path) -> dict[str, list[list[object]]]:
    import openpyxl  # defusedxml, when installed, is used by openpyxl for XML parsing

    # an open file, not the path: openpyxl refuses names not ending in .xlsx, and files are known by content
    with open(path, "rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for broken files
            raise LoaderError(f"Excelファイルとして読めません（{type(exc).__name__}）。", file=path) from exc
        try:
            return {ws.title: _sheet_rows(ws, path) for ws in workbook.worksheets}
        except LoaderError:
            raise
        except Exception as exc:
            raise LoaderError(f"Excelファイルの内容を読めません（{type(exc).__name__}）。", file=path) from exc
        finally:
            workbook.close()


def _sheet_rows(ws, path: str | Path) -> list[list[object]]:
    """A sheet's rows padded to its width, within MAX_SHEET_CELLS."""
    # The stored <dimension> is only a claim (openpyxl pads every row to it): measure the cells instead.
    ws.reset_dimensions()
    too_many = LoaderError(
        f"シート「{ws.title}」のセル範囲が大きすぎます（行数×列数の上限 {MAX_SHEET_CELLS:,}）。", file=path
    )
    rows, cells, width = [], 0, 0
    for row in ws.iter_rows(values_only=True):
        cells += len(row) + 1  # an empty row still costs a list
        width = max(width, len(row))
        if cells > MAX_SHEET_CELLS or (len(rows) + 1) * width > MAX_SHEET_CELLS:
            raise too_many
        rows.append(list(row))
    for row in rows:
        row.extend([None] * (width - len(row)))
    return rows


def is_zip(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"
