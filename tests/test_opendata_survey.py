"""デジタル庁 open-data survey loader: the real answer file and crafted variants of it.

Expected counts were measured on the real file (1,788 bodies; 状態 1,449 / 183 / 156;
Q3 1,232 / 217 / blank 339); the other indicators are checked against the file read with csv.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from loaders import area, opendata_survey, population
from loaders.build import detect_loader
from loaders.errors import LoaderError
from loaders.textio import sniff_head

SURVEY = "digital-agency-opendata-survey/20250210_resources_data_questionnaire_outline_04.csv"
LOADER = opendata_survey.OpenDataSurveyLoader()
OTHERS = [*population.LOADERS, *area.LOADERS]


def real_rows(shared_data: Path) -> list[list[str]]:
    with open(shared_data / SURVEY, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def column_of(header: list[str], prefix: str) -> int:
    return next(i for i, cell in enumerate(header) if cell.startswith(prefix))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", newline: str = "\n") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator=newline).writerows(rows)
    return path


def by_indicator(result, indicator: str):
    frame = result.tables["indicator_values"]
    return frame[frame.indicator_id == indicator].set_index("code")


@pytest.fixture(scope="module")
def survey(shared_data, load_context):
    return LOADER.load(shared_data / SURVEY, load_context)


def test_sniffed_by_content(shared_data, tmp_path):
    path = shared_data / SURVEY
    assert detect_loader(path, [*OTHERS, LOADER]) is LOADER
    renamed = tmp_path / "answers.txt"
    renamed.write_bytes(path.read_bytes())
    assert detect_loader(renamed, [*OTHERS, LOADER]) is LOADER
    assert not LOADER.sniff(
        shared_data / "estat-census-2025/kokusei2025sokuho.csv",
        sniff_head(shared_data / "estat-census-2025/kokusei2025sokuho.csv"),
    )


def test_q3_and_status_counts(survey, registry):
    q3 = by_indicator(survey, "opendata_q3")
    assert len(q3) == 1788
    assert Counter(q3.value.dropna()) == {1.0: 1232, 0.0: 217}
    assert q3.value.isna().sum() == 339 and set(q3.raw[q3.value.isna()]) == {""}
    municipalities = set(registry.municipalities.code)
    assert sum(code in municipalities for code in q3.index) == 1741
    assert set(q3.index) - municipalities == set(registry.prefectures.code)
    status = by_indicator(survey, "opendata_response_status")
    assert Counter(status.raw) == {"提出済": 1449, "未提出": 183, "未確認": 156}
    assert status.value.isna().all()
    assert not survey.report.warnings and not survey.report.unresolved


def test_leading_zeros_restored(survey, shared_data):
    rows = real_rows(shared_data)
    assert rows[1][:2] == ["1000", "10006"]  # the file's 北海道 row, zeros lost
    q3 = by_indicator(survey, "opendata_q3")
    assert q3.at["010006", "raw"] == rows[1][column_of(rows[0], "Q3")]
    assert "011002" in q3.index  # 札幌市


def test_other_indicators_follow_the_answers(survey, shared_data):
    rows = real_rows(shared_data)
    ods = column_of(rows[0], "Q24")
    answers = Counter(row[ods] for row in rows[1:])
    values = by_indicator(survey, "opendata_standard_ods").value
    assert (values == 1).sum() == answers["すでに取り組んでいる"]
    assert values.isna().sum() == answers[""] + answers["よく分からない"]
    files = by_indicator(survey, "opendata_file_count")
    assert (files.value == 0).sum() == Counter(row[column_of(rows[0], "Q7")] for row in rows[1:])[
        "オープンデータに取組んでいない"
    ]
    assert set(files.value.dropna()) <= set(range(9))
    assert by_indicator(survey, "opendata_update_frequency").value.max() == 4


@pytest.fixture
def crafted(shared_data) -> list[list[str]]:
    """The real header, 北海道 and 札幌市 rows, and rows that must be reported."""
    rows = real_rows(shared_data)
    header, hokkaido, sapporo = rows[0], rows[1], rows[2]
    q3 = column_of(header, "Q3")
    unknown = [*sapporo]
    unknown[:2] = ["99999", "999997"]  # valid check digit, no such body
    bad_digit = [*rows[3]]
    bad_digit[1] = bad_digit[1][:-1] + str((int(bad_digit[1][-1]) + 1) % 10)
    odd_answer = [*rows[4]]
    odd_answer[q3] = "検討中"
    return [header, hokkaido, sapporo, unknown, bad_digit, odd_answer]


def test_crafted_rows_are_reported_with_their_row(crafted, load_context, tmp_path):
    path = write_csv(tmp_path / "survey.csv", crafted)
    result = LOADER.load(path, load_context)
    assert [(u["row"], u["name"]) for u in result.report.unresolved] == [(4, "999997"), (5, crafted[4][1])]
    q3 = by_indicator(result, "opendata_q3")
    assert list(q3.index) == ["010006", "011002", crafted[5][1].zfill(6)]
    odd = q3.loc[crafted[5][1].zfill(6)]
    assert odd.raw == "検討中" and pd.isna(odd.value)  # kept as text, value missing
    messages = [str(w) for w in result.report.warnings]
    assert any("検討中" in m and "6行目" in m for m in messages)
    assert any("1739 団体" in m for m in messages)  # every municipality but 札幌市 and 小樽市 is missing


def test_cp932_crlf_loads_identically(crafted, load_context, tmp_path):
    # keep to cells cp932 can encode (free-text answers may hold other characters)
    rows = [[cell.encode("cp932", errors="replace").decode("cp932") for cell in row] for row in crafted]
    utf8 = LOADER.load(write_csv(tmp_path / "utf8.csv", rows), load_context)
    sjis = LOADER.load(write_csv(tmp_path / "sjis.csv", rows, encoding="cp932", newline="\r\n"), load_context)
    columns = ["code", "indicator_id", "value", "raw", "as_of"]
    assert sjis.tables["indicator_values"][columns].equals(utf8.tables["indicator_values"][columns])


def test_truncated_file_is_a_loader_error(shared_data, load_context, tmp_path):
    data = (shared_data / SURVEY).read_bytes()
    cut = data[: data.index(b"\n", len(data) // 3) + 40]
    path = tmp_path / "cut.csv"
    path.write_bytes(cut)
    with pytest.raises(LoaderError) as error:
        LOADER.load(path, load_context)
    assert "cut.csv" in str(error.value) and error.value.row is not None


def test_duplicate_code_is_a_loader_error(crafted, load_context, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [*crafted[:3], crafted[2]])
    with pytest.raises(LoaderError, match="重複") as error:
        LOADER.load(path, load_context)
    assert error.value.row == 4


def test_missing_code_column_is_refused(crafted, load_context, tmp_path):
    rows = [[cell for i, cell in enumerate(row) if i != 1] for row in crafted]
    with pytest.raises(LoaderError, match="地方公共団体コード6桁"):
        LOADER.load(write_csv(tmp_path / "nocode.csv", rows), load_context)
