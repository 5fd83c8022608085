"""fetch: downloads from a loopback HTTP server that serves copies of ../shared/data."""

import functools
import hashlib
import http.server
import threading

import pytest

from loaders.errors import LoaderError
from loaders.fetch import fetch, planned_downloads, safe_destination


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def mirror(shared_data):
    handler = functools.partial(QuietHandler, directory=str(shared_data))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_downloads_every_listed_file_with_sha256(mirror, shared_data, tmp_path):
    manifest = fetch(tmp_path, base_url=mirror, progress=None)
    assert len(manifest) == len(planned_downloads()) >= 5
    for row in manifest:
        original = (shared_data / row["path"]).read_bytes()
        assert hashlib.sha256(original).hexdigest() == row["sha256"]
        assert (tmp_path / row["path"]).read_bytes() == original
    assert (tmp_path / "manifest.json").exists()
    assert not list(tmp_path.rglob("*.part"))


def test_fetched_folder_builds(mirror, tmp_path):
    from loaders.build import build

    fetch(tmp_path / "cache", base_url=mirror, progress=None)
    summary = build([tmp_path / "cache"], tmp_path / "db.duckdb")
    assert summary.counts["指標値のある市区町村数"] >= 1700


def test_missing_file_on_the_server_is_a_clear_error(tmp_path, mirror):
    with pytest.raises(LoaderError, match="ダウンロードに失敗"):
        fetch(tmp_path, base_url=mirror + "/nothing-here", retries=0, progress=None)
    assert not list(tmp_path.rglob("*.part"))


def test_destinations_cannot_escape_the_cache(tmp_path):
    with pytest.raises(LoaderError):
        safe_destination(tmp_path, "../outside.csv")
    with pytest.raises(LoaderError):
        safe_destination(tmp_path, "/etc/passwd")
