"""Declared 調査時点: ``--as-of FILE=DATE`` per file, ``--as-of DATE`` for every file without a known date,
調査時点「不明」 with the 取得日 otherwise, and future dates refused."""

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import MUNICIPAL_COMPARISON, changed_comparison_copy

from loaders.build import BuildError, build

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def releases(db: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT file, as_of, as_of_origin, retrieved_on, retrieved_on_origin, label FROM releases"
        ).fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture()
def folder(shared_data, tmp_path):
    """The real 都道府県比較 file (a known release) and a 市区町村比較 copy no release list knows."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(shared_data / "digital-agency" / "都道府県のDX進捗状況_都道府県比較.csv", source / "pref.csv")
    changed_comparison_copy(shared_data, source / "municipal-2025.csv")
    return source


def test_as_of_file_equals_date_dates_that_file_only(folder, tmp_path):
    target = tmp_path / "db.duckdb"
    done = run_cli("build", "--source", str(folder), "--db", str(target), "--as-of", "municipal-2025.csv=2025-04-01")
    assert done.returncode == 0, done.stderr
    loaded = releases(target)
    assert loaded["municipal-2025.csv"][:2] == (date(2025, 4, 1), "declared")
    assert loaded["municipal-2025.csv"][4] == "2025年4月1日時点"
    assert loaded["pref.csv"][1] == "release_list"  # the known release keeps the release list's dates
    con = duckdb.connect(str(target), read_only=True)
    dates = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT as_of FROM indicator_values WHERE file = 'municipal-2025.csv'"
        ).fetchall()
    }
    assert dates == {date(2025, 4, 1)}
    # a path works as well as a file name inside a source folder
    by_path = tmp_path / "by-path.duckdb"
    build([folder], by_path, as_of=[f"{folder / 'municipal-2025.csv'}=2024-10-01"])
    assert releases(by_path)["municipal-2025.csv"][:2] == (date(2024, 10, 1), "declared")


def test_a_plain_as_of_date_applies_to_every_file_without_a_known_date(folder, tmp_path):
    target = tmp_path / "db.duckdb"
    build([folder], target, as_of="2025-06-01")
    loaded = releases(target)
    assert loaded["municipal-2025.csv"][:2] == (date(2025, 6, 1), "declared")
    assert loaded["pref.csv"][1] == "release_list" and loaded["pref.csv"][0] != date(2025, 6, 1)


def test_an_unknown_file_without_a_date_is_unknown_and_shows_its_retrieval_date(folder, tmp_path):
    target = tmp_path / "db.duckdb"
    build([folder], target)
    as_of, origin, retrieved_on, retrieved_origin, label = releases(target)["municipal-2025.csv"]
    assert (as_of, origin) == (None, "unknown")
    assert (retrieved_on, retrieved_origin) == (date.today(), "build")
    assert label == f"調査時点不明（取得日 {date.today().year}年{date.today().month}月{date.today().day}日）"
    con = duckdb.connect(str(target), read_only=True)
    assert (
        con.execute(
            "SELECT count(*) FROM indicator_values WHERE file = 'municipal-2025.csv' AND as_of IS NOT NULL"
        ).fetchone()[0]
        == 0
    )


def test_the_fetch_manifest_gives_the_retrieval_date(folder, tmp_path):
    copy = folder / "municipal-2025.csv"
    manifest = [
        {
            "source": "digital_agency_municipal",
            "path": f"digital-agency/{MUNICIPAL_COMPARISON}",
            "url": "https://example.invalid/",
            "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
            "bytes": copy.stat().st_size,
            "fetched_at": "2026-11-23T09:30:00",
        }
    ]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "db.duckdb"
    build([folder], target)
    as_of, origin, retrieved_on, retrieved_origin, label = releases(target)["municipal-2025.csv"]
    assert (as_of, retrieved_on, retrieved_origin) == (None, date(2026, 11, 23), "fetch")
    assert label == "調査時点不明（取得日 2026年11月23日）"


def test_a_future_date_is_refused_and_the_database_is_untouched(folder, tmp_path):
    target = tmp_path / "db.duckdb"
    build([folder], target)
    before = target.read_bytes()
    tomorrow = date.today() + timedelta(days=1)
    done = run_cli("build", "--source", str(folder), "--db", str(target), "--as-of", f"municipal-2025.csv={tomorrow}")
    assert done.returncode == 1
    assert "未来の日付" in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(BuildError, match="未来の日付"):
        build([folder], target, as_of=tomorrow.isoformat())
    assert target.read_bytes() == before


def test_a_declared_name_that_matches_no_file_is_refused(folder, tmp_path):
    with pytest.raises(BuildError, match="municpal-typo.csv"):
        build([folder], tmp_path / "db.duckdb", as_of=["municpal-typo.csv=2024-04-01"])


def test_an_older_release_than_the_one_loaded_is_accepted(folder, shared_data, tmp_path):
    # the real 市区町村比較 (推進体制 2023-04-01) plus a changed copy declared as 2022-04-01: history filled backwards
    shutil.copy(shared_data / "digital-agency" / MUNICIPAL_COMPARISON, folder / MUNICIPAL_COMPARISON)
    target = tmp_path / "db.duckdb"
    build([folder], target, as_of=["municipal-2025.csv=2022-04-01"])
    con = duckdb.connect(str(target), read_only=True)
    dates = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT as_of FROM indicator_values WHERE indicator_id = 'da_cio' AND code = '281000' ORDER BY 1"
        ).fetchall()
    ]
    assert dates == [date(2022, 4, 1), date(2023, 4, 1)]
