"""Shared fixtures: the real files in ../shared/data, the registry, small crafted files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DX_SHARED_DATA", ROOT.parent / "shared" / "data"))
# pages still show their Japanese error message (ui.guard), and the exception reaches AppTest's at.exception
os.environ.setdefault("DX_STRICT_ERRORS", "1")


def _require_shared_data() -> Path:
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the real data in {SHARED_DATA} (shared/ beside the clone)")
    pytest.skip(f"real data folder {SHARED_DATA} is absent")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public files; skipped where absent, a failure in CI."""
    return _require_shared_data()


@pytest.fixture(scope="session")
def registry():
    from loaders.registry import load_registry

    return load_registry()


@pytest.fixture(scope="session")
def load_context(registry):
    from loaders.base import LoadContext
    from loaders.catalog import load_indicator_catalog, load_sources

    sources = load_sources()
    return LoadContext(registry=registry, indicators=load_indicator_catalog(sources=sources), sources=sources)


@pytest.fixture(scope="session")
def real_build(shared_data, tmp_path_factory):
    """One build of everything in ../shared/data for the whole session: (summary, db path)."""
    from loaders.build import build

    target = tmp_path_factory.mktemp("real") / "dashboard.duckdb"
    return build([shared_data], target), target


@pytest.fixture(scope="session")
def real_db(real_build):
    return real_build[1]


@pytest.fixture(scope="session")
def two_release_db(shared_data, tmp_path_factory):
    """The real files plus a later release of the 市区町村比較 file with some answers changed
    (tests/release_fixtures.py), built as one store: two デジタル庁 snapshots."""
    from release_fixtures import LATER_AS_OF, write_later_release

    from loaders.build import build

    folder = tmp_path_factory.mktemp("releases")
    later = write_later_release(shared_data, folder / "later")

    target = folder / "dashboard.duckdb"
    # the later file declared with its own 調査時点, as `loaders build --as-of FILE=DATE` does
    build([shared_data, later], target, as_of=[f"{later}={LATER_AS_OF}"])
    return target


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The embedded demo exactly as a fresh machine without public data builds it."""
    from loaders.demo import build_demo

    target = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(target, sources=[])
    return target


def _read_only(path: Path):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def real_con(real_db):
    """A read-only connection to the real build (one per test module)."""
    yield from _read_only(real_db)


@pytest.fixture(scope="module")
def demo_con(demo_db):
    """A read-only connection to the embedded demo's build (one per test module)."""
    yield from _read_only(demo_db)


MUNICIPAL_COMPARISON = "市区町村毎のDX進捗状況_市区町村比較.csv"


def changed_comparison_copy(shared_data: Path, target: Path, municipality: str = "神戸市", rows: int = 3) -> Path:
    """A copy of the real 市区町村比較 CSV with one municipality's first ``rows`` 実施/未実施 answers swapped
    (same encoding, BOM and CRLF): another sha256, so no release data/releases.yaml knows."""
    data = (shared_data / "digital-agency" / MUNICIPAL_COMPARISON).read_bytes()
    lines = data.decode("utf-8-sig").split("\r\n")
    column = lines[0].split(",").index(municipality)
    changed = 0
    for index in range(1, len(lines)):
        cells = lines[index].split(",")
        if changed < rows and len(cells) > column and cells[column] in ("実施", "未実施"):
            cells[column] = "未実施" if cells[column] == "実施" else "実施"
            lines[index] = ",".join(cells)
            changed += 1
    target.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    return target


def himeji_square_geojson() -> dict:
    """A one-feature N03 GeoJSON (a small square named 姫路市, code 28201): an upload that a build accepts."""
    square = {
        "type": "Polygon",
        "coordinates": [[[134.6, 34.8], [134.7, 34.8], [134.7, 34.9], [134.6, 34.9], [134.6, 34.8]]],
    }
    properties = {"N03_001": "兵庫県", "N03_002": None, "N03_003": None, "N03_004": "姫路市", "N03_007": "28201"}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": square, "properties": properties}],
    }


# 宮城県's survey table (p.28, as printed) in 総務省「地域社会DX事例集」(市町村のDX推進状況の可視化結果):
# STEP0–3 points, 支援優先度, 支援内容.
MIYAGI_TABLE = [
    (15, 30, 20, 24, "低", ""),
    (25, 30, 25, 21, "低", ""),
    (20, 30, 15, 26, "低", ""),
    (25, 30, 15, 19, "低", ""),
    (0, 30, 15, 18, "中", "育成取組み"),
    (5, 5, 15, 18, "高", "育成取組み・全体方針策定"),
    (10, 30, 15, 17, "中", "育成取組み"),
    (10, 30, 15, 17, "中", "育成取組み"),
    (20, 30, 15, 16, "低", ""),
    (25, 30, 15, 16, "低", ""),
    (25, 30, 25, 15, "低", ""),
    (10, 30, 0, 15, "高", "育成取組み、推進体制"),
    (10, 15, 30, 14, "高", "育成取組み"),
    (15, 30, 15, 5, "中", "取組み実行"),
]
