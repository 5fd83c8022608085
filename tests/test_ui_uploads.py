"""Uploads (ui.uploads): names are sanitised, files stay in their folders, only allowed types."""

from __future__ import annotations

import pytest

from ui import uploads


@pytest.mark.parametrize(
    "name, expected",
    [
        ("survey.xlsx", "survey.xlsx"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\evil.zip", "evil.zip"),
        (".hidden.csv", "hidden.csv"),
        ("兵庫県 調査票（当初）.xlsx", "兵庫県_調査票(当初).xlsx"),
        ("ＡＢＣ１２３.CSV", "ABC123.csv"),
        ("a;rm -rf $HOME.geojson", "a_rm_-rf_HOME.geojson"),
        ("x" * 300 + ".topojson", "x" * (uploads.MAX_NAME_LENGTH - len(".topojson")) + ".topojson"),
    ],
)
def test_safe_name(name, expected):
    assert uploads.safe_name(name) == expected


@pytest.mark.parametrize("name", ["report.pdf", "script.py", "noextension", "archive.tar.gz", "page.html"])
def test_other_types_are_refused_in_japanese(name):
    with pytest.raises(uploads.UploadNameError, match="取り込めません"):
        uploads.safe_name(name)


def test_stage_accept_remove_stay_in_their_folders(tmp_path):
    staging, accepted = tmp_path / "staging", tmp_path / "uploads"
    staged = uploads.stage("../../outside.csv", b"a,b\r\n1,2\r\n", staging)
    assert staged.path == (staging / "outside.csv").resolve() and staged.size == 10 and len(staged.sha256) == 64
    assert not (tmp_path / "outside.csv").exists()
    again = uploads.stage("outside.csv", b"fixed\r\n", staging)
    assert again.path.read_bytes() == b"fixed\r\n", "a corrected re-upload replaces the staged file"
    target = uploads.accept(again.path, accepted)
    assert target == accepted / "outside.csv" and not again.path.exists()
    assert uploads.accepted(accepted) == [target]
    victim = tmp_path / "keep.csv"
    victim.write_text("x")
    uploads.remove("../keep.csv", accepted)
    assert victim.exists(), "remove never reaches outside the uploads folder"
    uploads.remove("outside.csv", accepted)
    assert uploads.accepted(accepted) == []
    assert uploads.accepted(tmp_path / "missing") == []


def test_the_folders_a_rebuild_reads_are_described_without_their_paths(tmp_path, monkeypatch):
    monkeypatch.setattr("ui.uploads.UPLOAD_DIR", tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "a.csv").write_text("x")
    (tmp_path / "uploads" / ".declared.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sub").mkdir(parents=True)
    for name in ("b.csv", "sub/c.zip"):
        (elsewhere / name).write_text("x")
    lines = uploads.describe_sources([elsewhere, tmp_path / "uploads", tmp_path / "gone"])
    assert lines == [
        "サーバーで指定された公開データのフォルダ：2 ファイル",
        "取り込み対象に追加したファイル（下の一覧）：1 ファイル",
        "サーバーで指定された公開データのフォルダ（2）：0 ファイル",
    ]
    assert not any(str(tmp_path) in line for line in lines)
