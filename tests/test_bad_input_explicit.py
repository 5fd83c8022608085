"""A file the administrator chose (``--source FILE`` or an upload) that cannot be decoded, or loses every row
to unknown codes, stops the build naming the file, row, column and encoding; nothing is swapped."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loaders.build import BuildError, build

ROOT = Path(__file__).resolve().parent.parent
AREA = "area20240101.csv"


@pytest.fixture()
def database(shared_data, tmp_path):
    folder = tmp_path / "good"
    folder.mkdir()
    shutil.copy(shared_data / "gsi-area" / AREA, folder / AREA)
    target = tmp_path / "db.duckdb"
    build([folder], target)
    return folder, target


def test_an_undecodable_file_given_by_itself_stops_the_build(database, shared_data, tmp_path):
    folder, target = database
    before = target.read_bytes()
    # the real area CSV with two bytes on line 3 that neither UTF-8 nor Shift_JIS nor EUC-JP can decode
    lines = (shared_data / "gsi-area" / AREA).read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",", b",\x81\x7f", 1)
    broken = tmp_path / "area-broken.csv"
    broken.write_bytes(b"\n".join(lines))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loaders",
            "build",
            "--source",
            str(folder),
            "--source",
            str(broken),
            "--db",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 1
    assert "area-broken.csv" in done.stderr and "3行目" in done.stderr and "B列" in done.stderr
    assert "utf-8" in done.stderr and "cp932" in done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_bytes() == before
    # a byte Shift_JIS maps to a private-use character: read as cp932, and the error says so
    lines[2] = lines[2].replace(b"\x81\x7f", b"\xff")
    garbled = tmp_path / "area-garbled.csv"
    garbled.write_bytes(b"\n".join(lines))
    with pytest.raises(BuildError, match="文字コード cp932 として読みました") as raised:
        build([folder, garbled], target)
    assert "area-garbled.csv" in str(raised.value) and "3行目" in str(raised.value) and "B列" in str(raised.value)
    assert target.read_bytes() == before
    # the same file found in a folder stops the build too (nothing is skipped silently) unless forced
    shutil.copy(broken, folder / broken.name)
    with pytest.raises(BuildError, match="area-broken.csv"):
        build([folder], target)
    assert target.read_bytes() == before
    summary = build([folder], target, force=True)
    assert [f["status"] for f in summary.files if f["file"].endswith("area-broken.csv")] == ["skipped"]


def test_an_uploaded_file_that_loses_every_row_to_unknown_codes_stops_the_build(database, shared_data, tmp_path):
    folder, target = database
    before = target.read_bytes()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    # a code,area table whose codes belong to no body in the registry
    (uploads / "area-wrong-codes.csv").write_text("code,area\n99991,10.5\n99992,3.25\n", encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        build([folder, uploads], target, upload_dirs=[uploads])
    message = str(raised.value)
    assert "area-wrong-codes.csv" in message and "2行目" in message and "A列" in message and "99991" in message
    assert target.read_bytes() == before
