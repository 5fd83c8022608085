"""Releases side by side: the same file twice is loaded once; two releases that disagree on the same
(municipality, indicator, 調査時点) stop the build; releases with different 調査時点 coexist."""

import shutil
from datetime import date

import duckdb
import pytest
from conftest import MUNICIPAL_COMPARISON, changed_comparison_copy

from loaders.build import BuildError, build

KOBE = "281000"


@pytest.fixture()
def folder(shared_data, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(shared_data / "digital-agency" / MUNICIPAL_COMPARISON, source / MUNICIPAL_COMPARISON)
    return source


def test_the_same_file_under_another_name_is_loaded_once_and_logged_as_a_duplicate(folder, tmp_path):
    shutil.copy(folder / MUNICIPAL_COMPARISON, folder / "copy-of-the-download.csv")
    target = tmp_path / "db.duckdb"
    summary = build([folder], target)
    con = duckdb.connect(str(target), read_only=True)
    rows, keys = con.execute(
        "SELECT count(*), count(DISTINCT (code, indicator_id, as_of)) FROM indicator_values"
    ).fetchone()
    assert rows == keys == 26115  # 15 rows × 1,741 municipalities, once
    log = dict(con.execute("SELECT file, status FROM ingest_log").fetchall())
    assert sorted(log.values()) == ["duplicate", "ok"]
    assert con.execute("SELECT count(*) FROM releases").fetchone()[0] == 1
    assert any("同じ内容" in str(issue) for issue in summary.report.issues)


def test_a_conflicting_copy_at_the_same_date_stops_the_build_and_leaves_the_database_byte_for_byte(
    folder, shared_data, tmp_path
):
    target = tmp_path / "db.duckdb"
    build([folder], target)
    before = target.read_bytes()
    changed_comparison_copy(shared_data, folder / "kobe-edited.csv")
    # the edited 推進体制 answers are declared at the original's 調査時点
    with pytest.raises(BuildError) as raised:
        build([folder], target, as_of=["kobe-edited.csv=2023-04-01"])
    message = str(raised.value)
    assert "kobe-edited.csv" in message and MUNICIPAL_COMPARISON in message
    assert "兵庫県神戸市" in message and "CIOの任命" in message
    assert target.read_bytes() == before


def test_a_later_release_with_changed_values_coexists(folder, shared_data, tmp_path):
    changed_comparison_copy(shared_data, folder / "release-2025.csv")
    target = tmp_path / "db.duckdb"
    build([folder], target, as_of=["release-2025.csv=2025-04-01"])
    con = duckdb.connect(str(target), read_only=True)
    kobe_cio = con.execute(
        "SELECT as_of, value FROM indicator_values WHERE code = ? AND indicator_id = 'da_cio' ORDER BY as_of", [KOBE]
    ).fetchall()
    assert [as_of for as_of, _ in kobe_cio] == [date(2023, 4, 1), date(2025, 4, 1)]
    assert kobe_cio[0][1] != kobe_cio[1][1]  # the copy flipped 神戸市's first answers
    releases = con.execute("SELECT as_of_origin, as_of FROM releases ORDER BY as_of").fetchall()
    assert releases == [("release_list", date(2023, 12, 31)), ("declared", date(2025, 4, 1))]
    # the values "in" a release are found through release_indicators (on code × indicator × 調査時点)
    unchanged = con.execute(
        """
        SELECT count(*) FROM indicator_values v JOIN release_indicators r
          ON r.indicator_id = v.indicator_id AND r.as_of IS NOT DISTINCT FROM v.as_of
        JOIN releases AS rel ON rel.release_id = r.release_id
        WHERE rel.as_of_origin = 'declared' AND v.indicator_id = 'da_cio'
        """
    ).fetchone()[0]
    assert unchanged == 1741
