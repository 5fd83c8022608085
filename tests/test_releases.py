"""Release list: the official files are recognised by sha256 and their values carry the 調査時点 of
their indicator group (data/releases.yaml), never the download date."""

import hashlib
from datetime import date

import pandas as pd
import pytest

from loaders.catalog import load_indicator_catalog, load_sources
from loaders.errors import LoaderError
from loaders.releases import RELEASES_FILE, load_release_list


@pytest.fixture(scope="module")
def known():
    sources = load_sources()
    return load_release_list(catalog=load_indicator_catalog(sources=sources), sources=sources)


def test_every_copy_in_shared_data_is_a_known_release(shared_data, known):
    indicator_files = [
        *sorted((shared_data / "digital-agency").glob("*.csv")),
        *sorted((shared_data / "soumu-juki-population").glob("*.xlsx")),
        shared_data / "estat-census-2025" / "kokusei2025sokuho.csv",
        shared_data / "gsi-area" / "area20240101.csv",
        shared_data / "digital-agency-opendata-survey" / "20250210_resources_data_questionnaire_outline_04.csv",
    ]
    for path in indicator_files:
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        assert sha256 in known, path.name
        assert known[sha256].file == path.name


def test_loaded_values_carry_their_groups_date_from_the_release_list(real_con, known):
    catalog = load_indicator_catalog()
    releases = real_con.execute("SELECT release_id, sha256, as_of, as_of_origin, label FROM releases").df()
    assert set(releases.as_of_origin) == {"release_list"}
    by_id = {release.release_id: release for release in known.values()}
    for row in releases.itertuples():
        assert by_id[row.release_id].sha256 == row.sha256
    carried = real_con.execute("SELECT release_id, indicator_id, as_of, as_of_estimated FROM release_indicators").df()
    assert len(carried) > 0
    for row in carried.itertuples():
        expected = by_id[row.release_id].as_of[catalog[row.indicator_id]["as_of_group"]]
        loaded = None if pd.isna(row.as_of) else row.as_of.date()
        assert loaded == expected.as_of, (row.release_id, row.indicator_id)
        assert bool(row.as_of_estimated) == expected.estimated
    # every value row of a release sits on a 調査時点 its release carries
    orphans = real_con.execute(
        """
        SELECT count(*) FROM indicator_values AS v
        WHERE NOT EXISTS (SELECT 1 FROM release_indicators AS r WHERE r.release_id = v.release_id
                          AND r.indicator_id = v.indicator_id AND r.as_of IS NOT DISTINCT FROM v.as_of)
        """
    ).fetchone()[0]
    assert orphans == 0


def test_governance_items_are_the_2023_survey_and_no_value_is_dated_by_its_download(real_con):
    # the 推進体制 counts equal 総務省's 令和5年度 (2023-04-01) figures: CIO 1,270 of the municipalities
    cio = real_con.execute(
        """
        SELECT v.as_of, sum(v.value) FROM indicator_values v JOIN municipalities USING (code)
        WHERE indicator_id = 'da_cio' GROUP BY 1
        """
    ).fetchall()
    assert [(as_of, int(total)) for as_of, total in cio] == [(date(2023, 4, 1), 1270)]
    retrieved = real_con.execute("SELECT DISTINCT retrieved_on FROM indicator_values").fetchall()
    dated_by_download = real_con.execute(
        "SELECT count(*) FROM indicator_values WHERE as_of IN (SELECT retrieved_on FROM releases)"
    ).fetchone()[0]
    assert retrieved and dated_by_download == 0


def test_unknown_as_of_is_labelled_with_the_retrieval_date_not_as_a_survey_date(real_con):
    unknown = real_con.execute("SELECT label, retrieved_on FROM releases WHERE as_of IS NULL").fetchall()
    assert unknown  # the オンライン申請率 files: the evidence does not settle their 調査時点
    for label, retrieved_on in unknown:
        assert label == f"調査時点不明（取得日 {retrieved_on.year}年{retrieved_on.month}月{retrieved_on.day}日）"


def test_a_release_list_missing_a_group_or_repeating_a_file_is_refused(tmp_path):
    text = RELEASES_FILE.read_text(encoding="utf-8")
    sources = load_sources()
    catalog = load_indicator_catalog(sources=sources)
    missing_group = tmp_path / "missing.yaml"
    missing_group.write_text(text.replace("    面積:\n", "    面積の誤記:\n"), encoding="utf-8")
    with pytest.raises(LoaderError, match="gsi-area-2024-01-01"):
        load_release_list(missing_group, catalog=catalog, sources=sources)
    repeated = tmp_path / "repeated.yaml"
    first = text.index("- release_id: census-2025-preliminary")
    block = text[first : text.index("\n\n", first)]
    repeated.write_text(text + "\n" + block.replace("census-2025-preliminary", "census-copy") + "\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="sha256"):
        load_release_list(repeated, catalog=catalog, sources=sources)
    bad_hash = tmp_path / "bad.yaml"
    bad_hash.write_text(
        text.replace("be61872bde8af3af4dd20648a02e90cf036aa16344c1eea3062e72b11d74689a", "not-a-hash"), encoding="utf-8"
    )
    with pytest.raises(LoaderError, match="census-2025-preliminary"):
        load_release_list(bad_hash, catalog=catalog, sources=sources)
