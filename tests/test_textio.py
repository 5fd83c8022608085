"""Encoding detection and typed cell values."""

import pytest

from loaders.errors import LoaderError
from loaders.textio import detect_encoding, parse_cell, read_csv_rows, sniff_head

TEXT = "市区町村名,値\r\n池田町,７５％\r\n府中市,調査無し\r\n"


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "cp932", "utf-16"])
def test_each_encoding_reads_to_the_same_rows(tmp_path, codec):
    path = tmp_path / f"{codec}.csv"
    path.write_bytes(TEXT.encode(codec))
    assert read_csv_rows(path) == [["市区町村名", "値"], ["池田町", "７５％"], ["府中市", "調査無し"]]


def test_cp932_is_detected_not_assumed():
    assert detect_encoding(TEXT.encode("cp932")) == "cp932"
    assert detect_encoding(TEXT.encode("utf-8")) == "utf-8"
    assert detect_encoding(TEXT.encode("utf-8-sig")) == "utf-8-sig"


def test_binary_content_is_refused_with_the_file_name(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(LoaderError) as err:
        read_csv_rows(path)
    assert "broken.csv" in str(err.value)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\r\n\r\n")
    with pytest.raises(LoaderError, match="空"):
        read_csv_rows(path)


def test_sniff_head_survives_a_multibyte_character_cut_at_the_prefix_end(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(("あ" * 40000).encode("cp932"))
    assert sniff_head(path, size=65535).startswith("あああ")
    assert sniff_head(path, size=65535)  # cp932 cut in the middle of a character still decodes


@pytest.mark.parametrize(
    "raw, value, kind",
    [
        ("実施", 1.0, "binary"),
        ("未実施", 0.0, "binary"),
        ("75%", 75.0, "percent"),
        ("７５％", 75.0, "percent"),
        ("12.5%", 12.5, "percent"),
        (" 3 ", 3.0, "number"),
        ("1,234", 1234.0, "number"),
        ("調査無し", None, "missing"),
        ("%", None, "missing"),
        ("", None, "missing"),
        ("***", None, "missing"),
        ("<b>x</b>", None, "text"),
        ("1; DROP TABLE municipalities", None, "text"),
    ],
)
def test_parse_cell_types_values_and_keeps_raw(raw, value, kind):
    cell = parse_cell(raw)
    assert (cell.value, cell.kind, cell.raw) == (value, kind, raw)


def test_large_cp932_file_is_detected_whatever_the_cut(tmp_path):
    """A sample cut must not split a double-byte character (it made detection fail half the time)."""
    for shift in range(4):
        text = "x" * shift + "".join(f"{i},池田町,回答あり\r\n" for i in range(20000))
        path = tmp_path / f"big{shift}.csv"
        path.write_bytes(text.encode("cp932"))
        assert detect_encoding(path.read_bytes()) == "cp932"
