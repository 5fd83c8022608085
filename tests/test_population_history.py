"""Population over time: both 住民基本台帳 files keep their 調査時点, size bands use the newest, the カルテ
shows the change, and a third year just works."""

import shutil
from datetime import date

import duckdb
import openpyxl
import pytest

from loaders.build import build
from metrics.population import population_change_line, population_history

SAPPORO = "011002"
JUKI = ("FY2023-population_dynamics_municipal.xlsx", "FY2024-population_dynamics_municipal.xlsx")


def test_both_years_keep_their_dates_and_bands_use_the_newest(real_con):
    years = real_con.execute(
        "SELECT as_of, count(*) FROM indicator_values WHERE indicator_id = 'population_juki' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [as_of for as_of, _ in years] == [date(2023, 1, 1), date(2024, 1, 1)]
    assert years[0][1] == years[1][1] == 1741 + 47
    newest = dict(
        real_con.execute(
            "SELECT code, value FROM indicator_values WHERE indicator_id = 'population_juki' AND as_of = DATE "
            "'2024-01-01'"
        ).fetchall()
    )
    municipalities = real_con.execute(
        "SELECT code, population, population_as_of, pop_band FROM municipalities"
    ).fetchall()
    bands = real_con.execute("SELECT label, min_population FROM pop_bands ORDER BY min_population").fetchall()
    for code, population, as_of, band in municipalities:
        assert as_of == date(2024, 1, 1) and population == newest[code]
        assert band == [label for label, low in bands if population >= low][-1]


def test_the_karte_line_states_both_dates_and_the_change(real_con):
    history = population_history(real_con, SAPPORO)
    values = dict(
        real_con.execute(
            "SELECT as_of, value FROM indicator_values WHERE code = ? AND indicator_id = 'population_juki'", [SAPPORO]
        ).fetchall()
    )
    change = values[date(2024, 1, 1)] - values[date(2023, 1, 1)]
    assert history["change"].iloc[-1] == change
    line = population_change_line(history)
    assert line.startswith("人口 2023年1月1日 ") and "→ 2024年1月1日 " in line
    assert f"{abs(change):,.0f}人" in line and ("−" if change < 0 else "+") in line


@pytest.fixture()
def three_years(shared_data, tmp_path):
    """The two real files plus the 2024 file re-titled as 令和7年1月1日 with 札幌市's population changed."""
    folder = tmp_path / "population"
    folder.mkdir()
    for name in JUKI:
        shutil.copy(shared_data / "soumu-juki-population" / name, folder / name)
    book = openpyxl.load_workbook(folder / JUKI[1])
    sheet = book.worksheets[0]
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "令和6年1月1日" in cell.value:
                cell.value = cell.value.replace("令和6年1月1日", "令和7年1月1日").replace("令和5年", "令和6年")
            if cell.value == SAPPORO:
                population = next(
                    c for c in row if isinstance(c.value, (int, float)) and c.value > 1_000_000 and c.column > 5
                )
                population.value = int(population.value) + 1000
    book.save(folder / "FY2025-population_dynamics_municipal.xlsx")
    return folder


def test_a_third_year_just_works(three_years, tmp_path):
    target = tmp_path / "db.duckdb"
    build([three_years], target)
    con = duckdb.connect(str(target), read_only=True)
    history = population_history(con, SAPPORO)
    assert [d.date() for d in history["as_of"]] == [date(2023, 1, 1), date(2024, 1, 1), date(2025, 1, 1)]
    assert con.execute("SELECT population_as_of FROM municipalities WHERE code = ?", [SAPPORO]).fetchone()[0] == date(
        2025, 1, 1
    )
    assert "→ 2025年1月1日 " in population_change_line(history)
    origins = {row[0] for row in con.execute("SELECT as_of_origin FROM releases").fetchall()}
    assert origins == {"release_list", "in_file"}  # the new year is dated by its own title
