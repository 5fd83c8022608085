"""A replica with no database to serve (issue 18, Bad input): before the first build, a file that is
not a store, a store not marked complete, a store an earlier version of the app built, a swap it
must notice without a restart. It shows
「データを準備中です」 (never a traceback, never the demo built in its place when the deployment
names its database) or keeps serving the version it had, and switches by itself once a database
can be read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

import loaders.demo
from loaders.errors import LoaderError
from loaders.store import check_database, create_schema
from ui import data, preparing

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_demo_build(monkeypatch):
    """A deployment that names its database never builds the demo in its place."""

    def refuse(*args, **kwargs):
        raise AssertionError("the demo must not be built when the deployment names its database")

    monkeypatch.setattr(loaders.demo, "build_demo", refuse)


def open_app(monkeypatch, db: Path | None) -> AppTest:
    if db is not None:
        monkeypatch.setenv("DX_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    return at.run()


def shown_text(at: AppTest) -> str:
    return "\n".join(
        [t.value for t in at.title]
        + [i.value for i in at.info]
        + [m.value for m in at.markdown]
        + [c.value for c in at.caption]
    )


def assert_preparing(at: AppTest, path: Path) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [t.value for t in at.title] == [preparing.TITLE]
    text = shown_text(at)
    assert "自動で確認" in text and "再読み込みする必要はありません" in text
    assert str(path) not in text and path.name not in text  # no file path on screen (the log has it)
    return text


def test_a_replica_before_the_first_build_waits_and_then_shows_the_data(monkeypatch, tmp_path, demo_db):
    target = tmp_path / "store" / "dashboard.duckdb"
    at = open_app(monkeypatch, target)
    text = assert_preparing(at, target)
    assert preparing.WHAT["missing"] in text
    assert not target.exists(), "nothing was built in the deployment's place"

    target.parent.mkdir()
    shutil.copy2(demo_db, target)  # the administration replica's first build arrives
    at.run()
    assert not at.exception
    assert preparing.TITLE not in [t.value for t in at.title]
    assert any("構築:" in c.value for c in at.sidebar.caption), "the dashboard with its source line"


@pytest.mark.parametrize("damage", ["not a database", "incomplete store"])
def test_a_file_that_is_not_a_finished_store_is_never_a_traceback(monkeypatch, tmp_path, demo_db, damage):
    target = tmp_path / "dashboard.duckdb"
    if damage == "not a database":
        target.write_bytes(b"half-copied " * 1000)
    else:
        shutil.copy2(demo_db, target)
        with duckdb.connect(str(target)) as con:
            con.execute("UPDATE build_info SET value = 'false' WHERE key = 'complete'")
    at = open_app(monkeypatch, target)
    assert preparing.WHAT["unreadable"] in assert_preparing(at, target)


def outdated_copy(demo_db: Path, target: Path) -> Path:
    """The demo as an earlier version of the app built it: without a metric table and a column added since."""
    shutil.copy2(demo_db, target)
    with duckdb.connect(str(target)) as con:
        con.execute("DROP TABLE indicator_gaps")
        con.execute("ALTER TABLE support_priority DROP COLUMN disagree")
    return target


def test_a_store_an_earlier_version_built_says_so_and_is_never_a_traceback(monkeypatch, tmp_path, demo_db, caplog):
    target = outdated_copy(demo_db, tmp_path / "dashboard.duckdb")
    at = open_app(monkeypatch, target)
    assert preparing.WHAT["outdated"] in assert_preparing(at, target)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "indicator_gaps" in logged and "support_priority.disagree" in logged, "the log says what is missing"

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy2(demo_db, rebuilt)
    os.replace(rebuilt, target)  # the administrator rebuilds: the page switches by itself
    at.run()
    assert not at.exception and preparing.TITLE not in [t.value for t in at.title]


def test_a_demo_an_earlier_version_built_is_built_again(monkeypatch, tmp_path, demo_db):
    monkeypatch.delenv("DX_DB", raising=False)
    monkeypatch.setattr(loaders.demo, "DEFAULT_DB", tmp_path / "no-store.duckdb")
    demo = tmp_path / "demo.duckdb"
    monkeypatch.setattr(loaders.demo, "DEMO_DB", demo)
    builds = []
    monkeypatch.setattr(loaders.demo, "build_demo", lambda: builds.append(shutil.copy2(demo_db, demo)))

    shutil.copy2(demo_db, demo)
    assert loaders.demo.resolve_database() == (demo, True) and builds == [], "a current demo is kept"
    outdated_copy(demo_db, demo)
    assert loaders.demo.resolve_database() == (demo, True) and len(builds) == 1, "an outdated one is built again"
    demo.write_bytes(b"not a database")
    assert loaders.demo.resolve_database() == (demo, True) and len(builds) == 2


def test_require_db_without_dx_db_never_builds_the_demo(monkeypatch, tmp_path):
    monkeypatch.delenv("DX_DB", raising=False)
    monkeypatch.setenv(data.REQUIRE_ENV, "1")
    missing = tmp_path / "dashboard.duckdb"
    monkeypatch.setattr(data, "DEFAULT_DB", missing)
    at = open_app(monkeypatch, None)
    assert_preparing(at, missing)


def write_store(path: Path, value: str) -> None:
    staged = path.with_name(f".{path.name}.staged")
    with duckdb.connect(str(staged)) as con:
        create_schema(con)  # the tables of this version, empty
        con.execute("INSERT INTO build_info VALUES ('complete', 'true'), ('build_id', ?)", [value])
    os.replace(staged, path)  # the build's atomic swap


def build_id() -> str:
    return data.cursor().execute("SELECT value FROM build_info WHERE key = 'build_id'").fetchone()[0]


def test_a_replica_keeps_serving_its_version_through_a_broken_file_and_takes_the_next_swap(monkeypatch, tmp_path):
    target = tmp_path / "dashboard.duckdb"
    monkeypatch.setenv("DX_DB", str(target))
    assert isinstance(data.unavailable(), data.DatabaseUnavailable)

    write_store(target, "first")
    assert data.unavailable() is None and build_id() == "first"
    held = data.cursor()  # a session mid-run

    broken = tmp_path / "broken"
    broken.write_bytes(b"\0" * 4096)
    os.replace(broken, target)  # e.g. an operator copying a file into place by hand
    assert data.unavailable() is None, "the version opened before is still served"
    assert build_id() == "first"

    target.unlink()  # moved away during a restore
    assert data.unavailable() is None and build_id() == "first"

    write_store(target, "second")  # another process (the administration replica) swaps in a build
    assert build_id() == "second", "picked up on the next query, no restart"
    assert held.execute("SELECT value FROM build_info WHERE key = 'build_id'").fetchone() == ("first",)
    assert str(os.stat(target).st_ino) in data.db_key(), "the query caches are keyed by the new file"


@pytest.mark.parametrize(
    "kind, said",
    [
        ("foreign", "ダッシュボードのデータベースではありません"),
        ("incomplete", "完成していません"),
        ("outdated", "以前の版"),
    ],
)
def test_the_check_before_a_swap_names_what_is_wrong_with_a_store(tmp_path, demo_db, kind, said):
    """The same judgement as the app's (store.connection.store_problem), said in Japanese with the file."""
    target = tmp_path / "dashboard.duckdb"
    if kind == "foreign":
        with duckdb.connect(str(target)) as con:
            con.execute("CREATE TABLE municipalities (code VARCHAR)")
    elif kind == "incomplete":
        shutil.copy2(demo_db, target)
        with duckdb.connect(str(target)) as con:
            con.execute("UPDATE build_info SET value = 'false' WHERE key = 'complete'")
    else:
        outdated_copy(demo_db, target)
    with pytest.raises(LoaderError) as raised:
        check_database(target)
    assert said in raised.value.message and raised.value.file == str(target)
    if kind == "outdated":
        assert "indicator_gaps" in raised.value.message
    shutil.copy2(demo_db, target)
    assert check_database(target)["municipalities"] > 1700
