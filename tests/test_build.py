"""The build: real data end to end, atomic swap, failures leave the old database untouched."""

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from loaders.build import BuildError, BuildProblemsError, build
from loaders.catalog import load_indicator_catalog
from loaders.store import check_database, list_versions, rollback

ROOT = Path(__file__).resolve().parent.parent


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_data_build_covers_the_country(real_build):
    summary, db = real_build
    con = duckdb.connect(str(db), read_only=True)
    with_values = con.execute(
        "SELECT count(DISTINCT code) FROM indicator_values JOIN municipalities USING (code)"
    ).fetchone()[0]
    assert with_values >= 1700
    assert con.execute("SELECT count(*) FROM boundaries").fetchone()[0] >= 1700
    assert con.execute("SELECT count(*) FROM unresolved_names").fetchone()[0] == 0
    assert summary.report.unresolved == []
    comparison = con.execute(
        "SELECT count(*) FROM indicators WHERE source = 'digital_agency_municipal' AND NOT component"
    ).fetchone()[0]
    assert comparison == 13
    procedures = con.execute(
        "SELECT count(DISTINCT indicator_id) FROM indicator_values WHERE source = 'digital_agency_municipal_online'"
    ).fetchone()[0]
    assert procedures == 52
    assert con.execute("SELECT count(*) FROM municipalities WHERE population IS NULL").fetchone()[0] == 0
    assert con.execute("SELECT value FROM build_info WHERE key = 'complete'").fetchone()[0] == "true"


def test_every_loaded_indicator_has_catalog_metadata(real_db):
    catalog = load_indicator_catalog()
    con = duckdb.connect(str(real_db), read_only=True)
    loaded = {row[0] for row in con.execute("SELECT DISTINCT indicator_id FROM indicator_values").fetchall()}
    assert loaded <= set(catalog)
    rows = con.execute(
        "SELECT id, title, unit, source, polarity, description, survey, as_of_group FROM indicators WHERE id IN "
        "(SELECT DISTINCT indicator_id FROM indicator_values)"
    ).fetchall()
    assert len(rows) == len(loaded)
    for row in rows:
        assert all(value not in (None, "") for value in row), row
    # indicators.as_of is the newest 調査時点 among the indicator's values; NULL only where every value is 不明
    mismatched = con.execute(
        """
        SELECT i.id, i.as_of, max(v.as_of) AS newest
        FROM indicators AS i JOIN indicator_values AS v ON v.indicator_id = i.id
        GROUP BY i.id, i.as_of HAVING i.as_of IS DISTINCT FROM max(v.as_of)
        """
    ).fetchall()
    assert mismatched == []


def test_ingest_log_records_every_file(real_build):
    summary, db = real_build
    con = duckdb.connect(str(db), read_only=True)
    logged = con.execute("SELECT count(*), count(sha256) FROM ingest_log").fetchone()
    assert logged == (len(summary.files), len(summary.files))


@pytest.fixture()
def small_source(shared_data, tmp_path):
    folder = tmp_path / "source"
    folder.mkdir()
    # re-saved in Shift_JIS: the same table, but not a release data/releases.yaml knows, so --as-of dates it
    text = (shared_data / "digital-agency" / "都道府県のDX進捗状況_都道府県比較.csv").read_text(encoding="utf-8-sig")
    (folder / "pref.csv").write_bytes(text.encode("cp932"))
    return folder


def test_failed_build_leaves_the_previous_database_byte_for_byte(small_source, tmp_path, shared_data):
    target = tmp_path / "dashboard.duckdb"
    build([small_source], target)
    before = digest(target)
    truncated = small_source / "municipal.csv"
    data = (shared_data / "digital-agency" / "市区町村毎のDX進捗状況_市区町村比較.csv").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(BuildError) as err:
        build([small_source], target)
    assert "municipal.csv" in str(err.value)
    assert digest(target) == before
    assert not list(tmp_path.glob(".dashboard.duckdb.building-*"))


def test_random_binary_named_xlsx_is_reported_and_old_database_kept(small_source, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    build([small_source], target)
    before = digest(target)
    (small_source / "returns.xlsx").write_bytes(bytes(range(256)) * 100)
    with pytest.raises(BuildProblemsError) as stopped:  # not silently left out
        build([small_source], target)
    assert [p["file"] for p in stopped.value.problems] == ["returns.xlsx"]
    assert digest(target) == before
    summary = build([small_source], target, force=True)
    skipped = [f for f in summary.files if f["file"].endswith("returns.xlsx")]
    assert skipped and skipped[0]["status"] == "skipped"
    assert any("returns.xlsx" in str(w) for w in summary.report.warnings)
    assert digest(target) != before  # a new, complete build replaced the old one
    check_database(target)


def test_rebuild_keeps_versions_and_rollback_restores(small_source, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    build([small_source], target, as_of="2025-01-01")
    first = digest(target)
    build([small_source], target, as_of="2026-01-01")
    assert digest(target) != first
    assert len(list_versions(target)) == 1
    rollback(target)
    con = duckdb.connect(str(target), read_only=True)
    assert str(con.execute("SELECT max(as_of) FROM indicator_values").fetchone()[0]) == "2025-01-01"


def run_cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_cli_build_and_check(small_source, tmp_path, shared_data):
    target = tmp_path / "cli.duckdb"
    done = run_cli("build", "--source", str(small_source), "--db", str(target))
    assert done.returncode == 0, done.stderr
    assert "読み込んだファイル: 1 件" in done.stdout
    ok = run_cli("check", str(small_source / "pref.csv"))
    assert ok.returncode == 0 and "問題なし" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02garbage")
    checked = run_cli("check", str(bad))
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
    failed = run_cli("build", "--source", str(tmp_path / "missing"), "--db", str(target))
    assert failed.returncode == 1 and "変更していません" in failed.stderr and "Traceback" not in failed.stderr


def test_hyogo_population_bands_match_the_seed_table(real_db):
    """Seed 000's 兵庫 table: 25 / 6 / 2 / 6 / 1 / 1 municipalities from 5万未満 to 100万以上."""
    con = duckdb.connect(str(real_db), read_only=True)
    bands = con.execute(
        """
        SELECT b.label, count(m.code) FROM pop_bands AS b
        LEFT JOIN municipalities AS m ON m.pop_band = b.label AND m.pref_name = '兵庫県'
        GROUP BY b.label, b."order" ORDER BY b."order"
        """
    ).fetchall()
    assert [n for _, n in bands] == [25, 6, 2, 6, 1, 1]
    source = con.execute("SELECT DISTINCT population_source FROM municipalities").fetchall()
    assert source == [("juki_population",)]
