"""A build cannot race, shrink or drop a file silently (issue 15, points 3–5).

- One exclusive lock per database (loaders.lock) for build, rollback and fetch: a second update
  stops at once with 「別の更新が実行中です（開始時刻、担当者）」 and changes nothing; a lock left by a
  killed process is taken over.
- A build that would replace the database with much less (no recognised file; >5 % fewer
  municipalities with values, indicators or survey answers) stops with a before/after table
  unless ``--force``.
- ``build`` and ``check`` examine every file and list every problem (file, row, column, reason,
  encoding) before stopping: a folder with three broken files takes one run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from loaders import lock as build_lock
from loaders import store
from loaders.build import BuildProblemsError, ShrinkError, build
from loaders.lock import BuildLock, BuildLockedError

ROOT = Path(__file__).resolve().parent.parent
PREF_FILE = "digital-agency/都道府県のDX進捗状況_都道府県比較.csv"
MUNICIPAL_FILE = "digital-agency/市区町村毎のDX進捗状況_市区町村比較.csv"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def scored_sheet_rows() -> list[list[object]]:
    """A 宮城県-style scored sheet (STEP0–3 per municipality), as a prefecture returns it."""
    names = ["石巻市", "塩竈市", "気仙沼市", "白石市", "名取市"]
    return [
        ["都道府県", "市町村名", "STEP0", "STEP1", "STEP2", "STEP3"],
        *[["宮城県", name, 10 + i, 20, 15, 5] for i, name in enumerate(names)],
    ]


def write_cp932(path: Path, rows: list[list[object]], bad_cell: tuple[int, int] | None = None) -> Path:
    """A cp932 CSV; ``bad_cell`` (row, column; 0-based) gets three bytes that no encoding decodes."""
    text = "".join(",".join(str(c) for c in row) + "\r\n" for row in rows)
    data = text.encode("cp932")
    if bad_cell is not None:
        row, column = bad_cell
        cell = str(rows[row][column]).encode("cp932")
        data = data.replace(cell, cell + b"\x81\x20\xfd\xfe", 1)
    path.write_bytes(data)
    return path


@pytest.fixture()
def full_source(shared_data, tmp_path) -> Path:
    folder = tmp_path / "full"
    folder.mkdir()
    for name in (PREF_FILE, MUNICIPAL_FILE):
        shutil.copy(shared_data / name, folder / Path(name).name)
    return folder


@pytest.fixture()
def built(full_source, tmp_path) -> Path:
    target = tmp_path / "store" / "dashboard.duckdb"
    build([full_source], target)
    return target


# ---------------------------------------------------------------- the lock


def test_a_second_update_stops_at_once_and_changes_nothing(built, full_source):
    before = digest(built)
    with BuildLock(built, user="山田（県DX推進課）", action="再構築"):
        started = time.perf_counter()
        with pytest.raises(BuildLockedError) as stopped:
            build([full_source], built)
        assert time.perf_counter() - started < 5, "it does not wait for the other update"
        message = str(stopped.value)
        assert (
            "別の更新（再構築）が実行中です" in message and "山田（県DX推進課）" in message and "開始時刻 20" in message
        )
        for args in (
            ["build", "--source", str(full_source), "--db", str(built)],
            ["rollback", "--db", str(built)],
            ["fetch", "--db", str(built), "--dest", str(built.parent / "cache"), "--base-url", "http://127.0.0.1:9"],
        ):
            result = cli(*args)
            assert result.returncode == 1 and "別の更新（再構築）が実行中です" in result.stderr, (args, result.stderr)
        assert digest(built) == before
        assert not (built.parent / "cache").exists(), "fetch downloaded nothing"
    assert not build_lock.lock_path(built).exists(), "released and removed when the update ends"
    build([full_source], built)  # free again


def test_two_builds_at_once_one_wins_the_other_says_so(built, full_source):
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "loaders", "build", "--source", str(full_source), "--db", str(built)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    assert any("別の更新" in err for code, err in results if code == 1)
    store.check_database(built)


def test_a_lock_left_by_a_killed_process_is_cleared(built, full_source):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from loaders.lock import BuildLock\n"
                "held = BuildLock(sys.argv[1], user='killed', action='再構築').acquire(); print('held', flush=True)"
                "; time.sleep(600)"
            ),
            str(built),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert build_lock.holder(built)["user"] == "killed"
        with pytest.raises(BuildLockedError):
            build([full_source], built)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        holder.kill()
    assert build_lock.lock_path(built).exists(), "the killed process left its lock file"
    assert build_lock.holder(built) is None, "but nobody holds it"
    summary = build([full_source], built)
    assert any("ロックを解除しました" in str(w) and "killed" in str(w) for w in summary.report.warnings)
    assert not build_lock.lock_path(built).exists()


def test_rollback_of_the_page_and_cli_takes_the_same_lock(built, full_source):
    build([full_source], built)  # a second version to roll back to
    before = digest(built)
    with BuildLock(built, user="other"):
        result = cli("rollback", "--db", str(built))
    assert result.returncode == 1 and digest(built) == before
    assert cli("rollback", "--db", str(built)).returncode == 0


# ---------------------------------------------------------------- no silent shrinking


def test_a_build_with_no_recognised_file_stops_unless_forced(built, tmp_path):
    before = digest(built)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "README.md").write_text("説明だけ", encoding="utf-8")
    with pytest.raises(ShrinkError) as stopped:
        build([docs], built)
    assert "読み込める（種類を判別できる）ファイルが1件もありません" in str(stopped.value)
    table = stopped.value.table.set_index("項目")
    assert (
        table.loc["指標値のある市区町村数", "現在"] > 1700
        and table.loc["指標値のある市区町村数", "新しいデータベース"] == 0
    )
    assert digest(built) == before

    random_xlsx = tmp_path / "random"
    random_xlsx.mkdir()
    (random_xlsx / "returns.xlsx").write_bytes(os.urandom(4096))
    result = cli("build", "--source", str(random_xlsx), "--db", str(built))
    assert (
        result.returncode == 1 and "returns.xlsx" in result.stderr and "データベースは変更していません" in result.stderr
    )
    assert digest(built) == before
    forced = cli("build", "--source", str(random_xlsx), "--db", str(built), "--force")
    assert forced.returncode == 0, forced.stderr
    assert digest(built) != before


def test_a_build_with_much_less_data_shows_before_and_after(built, shared_data, tmp_path):
    before = digest(built)
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    shutil.copy(shared_data / PREF_FILE, fewer / "pref.csv")  # the municipal file is missing
    result = cli("build", "--source", str(fewer), "--db", str(built))
    assert result.returncode == 1, result.stdout
    assert (
        "指標値のある市区町村数" in result.stderr and "5%を超えて少なく" in result.stderr and "--force" in result.stderr
    )
    assert "現在" in result.stderr and "新しいデータベース" in result.stderr, "the before/after table"
    assert digest(built) == before
    with duckdb.connect(str(built), read_only=True) as con:
        with_values = con.execute("SELECT count(DISTINCT code) FROM indicator_values").fetchone()[0]
    assert with_values > 1700
    assert cli("build", "--source", str(fewer), "--db", str(built), "--force").returncode == 0
    assert digest(built) != before


def test_a_small_loss_within_five_percent_passes(built, shared_data, tmp_path):
    """Dropping 2 % of the municipal rows is below the guard's threshold."""
    source = tmp_path / "slightly_fewer"
    source.mkdir()
    shutil.copy(shared_data / PREF_FILE, source / "pref.csv")
    lines = (shared_data / MUNICIPAL_FILE).read_bytes().split(b"\n")
    keep = len(lines) - len(lines) // 50
    (source / "municipal.csv").write_bytes(b"\n".join(lines[:keep]) + b"\n")
    build([source], built)


# ---------------------------------------------------------------- every problem listed


def test_build_and_check_list_every_problem_of_every_file(built, full_source, tmp_path):
    before = digest(built)
    broken = tmp_path / "broken"
    broken.mkdir()
    write_cp932(broken / "調査_2026-baseline.csv", scored_sheet_rows(), bad_cell=(3, 1))  # three invalid bytes
    rows = scored_sheet_rows()
    rows[2][3] = "たくさん"  # not a number
    write_cp932(broken / "点数_2026-baseline.csv", rows)
    (broken / "returns.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(500))
    shutil.copy(next(full_source.glob("都道府県*")), broken / "pref.csv")  # one good file among them

    with pytest.raises(BuildProblemsError) as stopped:
        build([broken], built)
    problems = stopped.value.problems
    assert {p["file"] for p in problems} == {"調査_2026-baseline.csv", "点数_2026-baseline.csv", "returns.xlsx"}
    undecodable = next(p for p in problems if p["file"] == "調査_2026-baseline.csv")
    assert undecodable["row"] == 4 and "文字コードを判別できない" in undecodable["reason"]
    assert "判別できません" in undecodable["encoding"]
    not_a_number = next(p for p in problems if p["file"] == "点数_2026-baseline.csv")
    assert not_a_number["row"] == 3 and "たくさん" in not_a_number["reason"]
    assert next(p for p in problems if p["file"] == "returns.xlsx")["encoding"].startswith("Excel")
    assert list(stopped.value.table().columns) == ["ファイル", "行", "列", "理由", "文字コード"]
    assert digest(built) == before

    result = cli("build", "--source", str(broken), "--db", str(built))
    assert result.returncode == 1
    for name in ("調査_2026-baseline.csv", "点数_2026-baseline.csv", "returns.xlsx"):
        assert name in result.stderr, result.stderr
    check = cli("check", str(broken))
    assert check.returncode == 1
    assert "問題 3 件" in check.stdout, check.stdout
    for name in ("調査_2026-baseline.csv", "点数_2026-baseline.csv", "returns.xlsx"):
        assert name in check.stdout
    assert "文字コード: Shift_JIS（cp932）" in check.stdout and "4行目" in check.stdout
    good = cli("check", str(broken / "pref.csv"))
    assert good.returncode == 0 and "問題なし" in good.stdout


# ---------------------------------------------------------------- the same on データ管理


def open_data_page(monkeypatch, db: Path, sources: list[Path]):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DX_DB", str(db))
    monkeypatch.setattr("loaders.demo.real_data_folders", lambda: list(sources))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page("app_pages/data.py")
    return at.run()


def test_the_page_shows_the_shrink_table_and_replaces_only_when_confirmed(built, shared_data, tmp_path, monkeypatch):
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    shutil.copy(shared_data / PREF_FILE, fewer / "pref.csv")
    before = digest(built)
    at = open_data_page(monkeypatch, built, [fewer])
    assert not at.exception
    at.button(key="dm_rebuild").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert digest(built) == before
    assert any("5%を超えて少なく" in w.value for w in at.warning), [w.value for w in at.warning]
    table = next(d.value for d in at.dataframe if "新しいデータベース" in d.value.columns)
    assert table.set_index("項目").loc["指標値のある市区町村数", "現在"] > 1700
    at.button(key="dm_rebuild_force").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert digest(built) != before
    assert not any(b.key == "dm_rebuild_force" for b in at.button)


def test_the_page_lists_every_problem_and_respects_the_lock(built, full_source, tmp_path, monkeypatch):
    broken = tmp_path / "broken"
    broken.mkdir()
    write_cp932(broken / "調査_2026-baseline.csv", scored_sheet_rows(), bad_cell=(3, 1))
    (broken / "returns.xlsx").write_bytes(os.urandom(300))
    before = digest(built)
    at = open_data_page(monkeypatch, built, [full_source, broken])
    at.button(key="dm_rebuild").click().run()
    assert not at.exception
    problems = next(d.value for d in at.dataframe if "文字コード" in d.value.columns)
    assert set(problems["ファイル"]) == {"調査_2026-baseline.csv", "returns.xlsx"}
    assert any("2 件のファイル" in e.value for e in at.error)
    assert digest(built) == before

    (broken / "調査_2026-baseline.csv").unlink()
    (broken / "returns.xlsx").unlink()
    with BuildLock(built, user="県DX推進課 佐藤", action="再構築"):
        at.run()
        assert any("別の更新（再構築）が実行中です" in i.value and "佐藤" in i.value for i in at.info)
        at.button(key="dm_rebuild").click().run()
        assert not at.exception
        assert any("別の更新（再構築）が実行中です" in e.value for e in at.error)
    assert digest(built) == before
