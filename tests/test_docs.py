"""Docs checked by tests: the README's two commands, CI calling the same one, the schema doc."""

import re
from pathlib import Path

import duckdb

from loaders.store import create_schema

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands() -> list[str]:
    head = README.split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", head, flags=re.S)


def test_readme_opens_with_one_sentence_and_exactly_two_commands():
    lines = [line for line in README.splitlines() if line.strip()]
    assert lines[0].startswith("# ")
    assert not lines[1].startswith(("#", "`"))  # the sentence on what this is
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "streamlit run app.py" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup_commands()[1] in ci


def test_readme_folder_map_names_existing_paths():
    for path in re.findall(r"^\| `([^`]+)` \|", README, flags=re.M):
        assert (ROOT / path.rstrip("/")).exists(), path


def test_schema_doc_lists_every_table_and_column():
    con = duckdb.connect()
    create_schema(con)
    doc = (ROOT / "data" / "SCHEMA.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[3] for line in doc.splitlines() if line.startswith("| `")
    }
    tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert {t for (t,) in tables} == set(rows)
    for (table,) in tables:
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        documented = {c.strip().split(" ")[0] for c in rows[table].split(",")}
        assert set(columns) <= documented, (table, set(columns) - documented)


def test_methodology_dates_table_matches_the_release_list():
    """docs/METHODOLOGY.md §0 states the 調査時点 recorded for each indicator group of the copies in
    ../shared/data; it must say what data/releases.yaml says (不明 where the list has none, （推定） where
    estimated)."""
    from loaders.releases import load_release_list

    doc = (ROOT / "docs" / "METHODOLOGY.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 0. Dates") : doc.index("## 1.")]
    rows = {
        line.split("|")[1].strip().split(" (")[0]: line.split("|")[2].strip()
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| indicator group")
    }
    recorded: dict[str, set[str]] = {}
    for release in load_release_list().values():
        for group, entry in release.as_of.items():
            text = "不明" if entry.as_of is None else entry.as_of.isoformat() + (" (推定)" if entry.estimated else "")
            recorded.setdefault(group, set()).add(text)
    for group, texts in recorded.items():
        documented = next((value for name, value in rows.items() if group in name.split(" / ")), None)
        if group in ("人口", "人口動態"):
            documented = rows["人口 / 人口動態"].split(" / ")[0 if group == "人口" else 1]
        assert documented is not None, group
        assert {part.strip() for part in documented.split(" and ")} == texts, (group, documented, texts)
