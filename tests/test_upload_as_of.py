"""The upload form's 調査時点: kept beside the accepted upload, passed to the rebuild, refused in the future,
forgotten with the file."""

from datetime import date, timedelta

import duckdb
import pytest
from conftest import changed_comparison_copy

from loaders.build import build
from ui import uploads


def test_a_declared_upload_date_reaches_the_release(shared_data, tmp_path):
    staging, folder = tmp_path / "staging", tmp_path / "uploads"
    staging.mkdir()
    copy = changed_comparison_copy(shared_data, staging / "dx-2025.csv")
    staged = uploads.stage(copy.name, copy.read_bytes(), staging)
    accepted = uploads.accept(staged.path, folder, as_of=date(2025, 4, 1))
    declared = uploads.declared_dates(folder)
    assert declared == {accepted.name: "2025-04-01"}
    assert uploads.accepted(folder) == [accepted]  # the declarations file is not an upload
    target = tmp_path / "db.duckdb"
    build([folder], target, upload_dirs=[folder], declared_as_of={str(folder / n): d for n, d in declared.items()})
    con = duckdb.connect(str(target), read_only=True)
    row = con.execute("SELECT as_of, as_of_origin, retrieved_on_origin FROM releases").fetchone()
    assert row == (date(2025, 4, 1), "declared", "upload")
    con.close()
    uploads.remove(accepted.name, folder)
    assert uploads.declared_dates(folder) == {}


def test_a_future_upload_date_is_refused_and_the_file_stays_staged(shared_data, tmp_path):
    staging, folder = tmp_path / "staging", tmp_path / "uploads"
    staging.mkdir()
    copy = changed_comparison_copy(shared_data, staging / "dx.csv")
    staged = uploads.stage(copy.name, copy.read_bytes(), staging)
    with pytest.raises(uploads.UploadNameError, match="未来の日付"):
        uploads.accept(staged.path, folder, as_of=date.today() + timedelta(days=1))
    assert staged.path.exists() and uploads.accepted(folder) == []
