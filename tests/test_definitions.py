"""Definition files in data/ read through pydantic models: a mistake names the file and the field, in Japanese."""

from __future__ import annotations

import pytest

from loaders.catalog import load_indicator_catalog, load_pop_bands
from loaders.errors import LoaderError
from metrics.definitions import DefinitionError, load_official_rules, load_reference_cases
from metrics.menus import indicator_titles
from metrics.rules import load_priority_rules
from store.paths import DATA_DIR


def _copy(tmp_path, name: str, *replacements: tuple[str, str]):
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_committed_files_are_valid():
    cases = load_reference_cases()
    assert cases and all(case["population"] > 0 and case["stage"] in (0, 1, 2, 3) for case in cases)
    official = load_official_rules()
    assert official.signals and official.levels[-1][1] == 0
    rules = load_priority_rules()
    assert rules.levels[-1].min_weak_stages == 0 and 0 < rules.weak_share <= 1


def test_a_priority_rules_mistake_names_the_file_and_the_field(tmp_path):
    path = _copy(
        tmp_path,
        "priority_rules.yaml",
        ("share_below: 0.5", "share_below: 半分"),
        ("min_weak_stages: 2", "min_weak: 2"),
    )
    with pytest.raises(DefinitionError) as failure:
        load_priority_rules(path)
    message = str(failure.value)
    assert "ファイル「priority_rules.yaml」のweak_stage › share_below: 数値を書いてください。" in message
    assert "levels › 1番目 › min_weak_stages: 値がありません。" in message
    assert "levels › 1番目 › min_weak: この項目は使えません。" in message


def test_an_official_rule_needs_exactly_one_condition(tmp_path):
    path = _copy(
        tmp_path, "official_priority_rules.yaml", ("    by: 20\n", "    by: 20\n    not_implemented: [da_cio]\n")
    )
    with pytest.raises(DefinitionError, match=r"official_priority_rules.yaml」のsignals › \d+番目: .*どちらか1つ"):
        load_official_rules(path)


def test_a_reference_case_mistake_names_the_case_and_the_field(tmp_path):
    path = _copy(
        tmp_path, "reference_cases.yaml", ("body_kind: prefecture", "body_kind: 県"), ("  stage: 0\n", "  stage: 4\n")
    )
    with pytest.raises(DefinitionError) as failure:
        load_reference_cases(path)
    assert "ファイル「reference_cases.yaml」の1番目 › body_kind: 次のどれかにしてください" in str(failure.value)
    assert "1番目 › stage: 3以下の数値にしてください。" in str(failure.value)


def test_an_indicator_mistake_names_the_file_the_entry_and_the_field(tmp_path):
    folder = tmp_path / "indicators"
    folder.mkdir()
    text = (DATA_DIR / "indicators" / "population.yaml").read_text(encoding="utf-8")
    (folder / "population.yaml").write_text(
        text.replace("kind: count", "kind: 人数", 1).replace("polarity:", "polarty:", 1), encoding="utf-8"
    )
    with pytest.raises(LoaderError) as failure:
        load_indicator_catalog(folder)
    message = failure.value.message
    assert "ファイル「population.yaml」の1番目 › kind: 次のどれかにしてください" in message
    assert "1番目 › polarity: 値がありません。" in message and "1番目 › polarty: この項目は使えません。" in message


def test_the_metrics_read_indicator_titles_from_the_same_catalog():
    titles = indicator_titles()
    catalog = load_indicator_catalog()
    assert titles.keys() == catalog.keys()
    assert all(titles[i] == (entry.get("short_title") or entry["title"]) for i, entry in catalog.items())


def test_a_csv_definition_mistake_names_the_file_the_row_and_the_column(tmp_path):
    text = (DATA_DIR / "pop_bands.csv").read_text(encoding="utf-8")
    path = tmp_path / "pop_bands.csv"
    path.write_text(text.replace("5～10万,50000,2", "5～10万,5万,2"), encoding="utf-8")
    with pytest.raises(LoaderError) as failure:
        load_pop_bands(path)
    assert "ファイル「pop_bands.csv」のデータ2番目 › min_population: 整数を書いてください。" in failure.value.message
    bands = load_pop_bands()
    assert bands["min_population"].is_monotonic_increasing and bands["label"].iloc[0] == "5万未満"
