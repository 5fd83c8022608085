"""Fuzzing every loader (issue #8): mutated real and crafted files never crash a loader, the check or the build.

The only allowed failure is a ``LoaderError`` with a Japanese message naming the file; each example is
bounded in time. ``DX_FUZZ_PROFILE=long`` (or ``python -m tests.fuzz_long``) runs ≥ 2,000 examples per loader.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import struct
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from fuzz_helpers import (
    BUILD_SETTINGS,
    FUZZ_SETTINGS,
    JAPANESE,
    assert_loader_error,
    count,
    file_name,
    junk_seeds,
    make_seeds,
    mutate,
    outcome,
    shapefile_zip,
    squares,
    time_limit,
    write_stats,
)
from hypothesis import given
from hypothesis import strategies as st

from loaders.build import BuildError, all_loaders, build, check_file, detect_loader
from loaders.errors import LoaderError

LOADERS = all_loaders()
_numbers = itertools.count()


class Bench:
    """Seeds, context and work folder of the fuzz tests (one object with a short repr, so a failing example
    prints its drawn values rather than every fixture)."""

    def __init__(self, seeds, junk, ctx, workdir: Path):
        self.seeds, self.junk, self.ctx, self.workdir = seeds, junk, ctx, workdir
        self.by_loader = defaultdict(list)
        for seed in seeds:
            loader = detect_loader(seed.path)
            self.by_loader[loader.name if loader else None].append(seed)

    def __repr__(self) -> str:
        return f"<{len(self.seeds)} seeds, {len(self.junk)} junk files>"


@pytest.fixture(scope="module")
def bench(shared_data, registry, load_context, tmp_path_factory):
    seeds = make_seeds(shared_data, tmp_path_factory.mktemp("seeds"), registry)
    yield Bench(seeds, junk_seeds(tmp_path_factory.mktemp("junk")), load_context, tmp_path_factory.mktemp("examples"))
    if os.environ.get("DX_FUZZ_STATS"):
        write_stats(Path(os.environ["DX_FUZZ_STATS"]))


def example_file(data, seed, folder: Path) -> tuple[Path, list[str]]:
    content, operations = mutate(data, seed)
    path = folder / str(next(_numbers)) / file_name(data, seed)
    path.parent.mkdir()
    path.write_bytes(content)
    return path, operations


def test_every_loader_has_seeds_that_load_cleanly(bench):
    """The fuzzing starts from valid files of every loader; the junk files are taken by none."""
    assert None not in bench.by_loader, [s.name for s in bench.by_loader[None]]
    without = [loader.name for loader in LOADERS if not bench.by_loader[loader.name]]
    assert not without, f"loaders without a seed file in tests/fuzz_helpers.make_seeds: {without}"
    for loader in LOADERS:
        for seed in bench.by_loader[loader.name]:
            assert loader.load(seed.path, bench.ctx).rows > 0, seed.name
    assert [detect_loader(seed.path) for seed in bench.junk] == [None] * len(bench.junk)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.name)
@FUZZ_SETTINGS
@given(data=st.data())
def test_loader_returns_or_raises_a_japanese_loader_error(loader, data, bench):
    # mostly this loader's own files; sometimes another source's or junk (a wrong file given to it)
    pool = bench.by_loader[loader.name] if data.draw(st.integers(0, 4), label="foreign?") else bench.seeds + bench.junk
    seed = data.draw(st.sampled_from(pool), label="seed")
    path, operations = example_file(data, seed, bench.workdir)
    try:
        detected = []
        outcome(lambda: detected.append(detect_loader(path)), path)
        result = outcome(lambda: loader.load(path, bench.ctx), path)
        other = detected[0] if detected else None
        if other is not None and other.name != loader.name:
            outcome(lambda: other.load(path, bench.ctx), path)
        count("load", loader.name, result, operations)
    finally:
        shutil.rmtree(path.parent)


@FUZZ_SETTINGS
@given(data=st.data())
def test_check_file_reports_instead_of_raising(data, bench):
    seed = data.draw(st.sampled_from(bench.seeds + bench.junk), label="seed")
    path, operations = example_file(data, seed, bench.workdir)
    try:
        with time_limit():
            loader, result, issues = check_file(path)
        errors = [issue for issue in issues if issue.level == "error"]
        assert (result is None) == bool(errors)
        for issue in errors:
            assert JAPANESE.search(issue.message) and Path(issue.file).name == path.name, str(issue)
        count("check_file", loader.name if loader else "不明", "error" if errors else "ok", operations)
    finally:
        shutil.rmtree(path.parent)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def previous_db(bench, tmp_path_factory):
    """A small database the failing builds must leave byte-for-byte as it was."""
    folder = tmp_path_factory.mktemp("previous")
    target = folder / "dashboard.duckdb"
    build([next(seed.path for seed in bench.seeds if seed.name.startswith("real:都道府県"))], target, keep_versions=0)
    return target


@BUILD_SETTINGS
@given(data=st.data())
def test_build_with_a_mutated_file_finishes_or_keeps_the_old_database(data, bench, previous_db):
    """Finalising (population → BIGINT, bands, density) must survive whatever values a loader accepted."""
    seed = data.draw(st.sampled_from([seed for seed in bench.seeds if seed.small]), label="seed")
    path, operations = example_file(data, seed, bench.workdir)
    store = path.parent / "store"
    store.mkdir()
    target = store / "dashboard.duckdb"
    shutil.copy(previous_db, target)
    before = digest(target)
    try:
        with time_limit():
            # forced past the shrink guard (a census file replaces a prefecture file): the loaders are tested here
            build([path], target, keep_versions=0, force=True)
        result = "ok"
    except BuildError as error:
        assert JAPANESE.search(error.message) and path.name in str(error), str(error)
        assert digest(target) == before
        result = "error"
    finally:
        leftovers = [p.name for p in store.rglob("*") if p not in (target, store / "versions")]
        shutil.rmtree(path.parent)
    assert not leftovers, leftovers
    count("build", seed.name, result, operations)


# ---------------------------------------------------------------- crashes the fuzzing found, kept as regressions


def seed(bench, name: str):
    return next(s for s in bench.seeds if s.name == name)


def corrupt_member(path: Path, member: str, target: Path, at: float = 0.5) -> Path:
    """A copy of the zip whose ``member`` has a damaged compressed stream at fraction ``at`` (headers intact)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    middle = start + int(info.compress_size * at)
    data[middle : middle + 16] = b"\xff" * 16
    target.write_bytes(bytes(data))
    return target


def refused_in_time(loader, path: Path, ctx, pattern: str) -> None:
    with pytest.raises(LoaderError) as error, time_limit(10):
        loader.load(path, ctx)
    assert_loader_error(error.value, path)
    assert re.search(pattern, error.value.message), error.value.message


def test_topojson_without_its_transform_is_refused_not_simplified_for_minutes(bench, tmp_path):
    """Quantized arcs read as degrees (tens of thousands wide) took ~30 s in browser_shapes."""
    topology = json.loads(seed(bench, "real:designated").data)
    del topology["transform"]
    path = tmp_path / "N03-21_210101_designated_city.topojson.json"
    path.write_text(json.dumps(topology), encoding="utf-8")
    refused_in_time(detect_loader(path), path, bench.ctx, "経緯度の範囲")
    # the long run's example: one arc point 6e13 away made GEOS fail in set_precision (TopologyException)
    topology = json.loads(seed(bench, "real:designated").data)
    topology["arcs"][2][1][0] = 62353435919737.0
    path.write_text(json.dumps(topology), encoding="utf-8")
    refused_in_time(detect_loader(path), path, bench.ctx, "経緯度の範囲")


def test_broken_json_structures_in_n03_files(bench, tmp_path):
    topology = json.loads(seed(bench, "topojson_small").data)
    topology["objects"]["extra"] = "N03_007"  # a layer that is not an object: was AttributeError
    path = tmp_path / "layer.topojson.json"
    path.write_text(json.dumps(topology, ensure_ascii=False), encoding="utf-8")
    refused_in_time(detect_loader(path), path, bench.ctx, "オブジェクト「extra」")
    features = json.loads(seed(bench, "geojson_small").data)
    features["features"][0]["properties"]["N03_007"] = ["31201", "31201"]  # was "truth value of an array"
    path = tmp_path / "array.geojson"
    path.write_text(json.dumps(features, ensure_ascii=False), encoding="utf-8")
    # GDAL then reads the whole column as lists: no code matches, which is an error naming the file
    refused_in_time(detect_loader(path), path, bench.ctx, "境界（面積のある形状）が1件もありません")


def test_broken_csv_shapes_reach_the_digital_agency_loader_as_errors(bench, tmp_path):
    rows = seed(bench, "da_municipal_hokkaido").data.decode("utf-8-sig").split("\r\n")
    path = tmp_path / "quote.csv"
    path.write_text('"' + "\r\n".join(rows), encoding="utf-8")  # an unclosed quote: was a ValueError in sniffing
    assert outcome(lambda: detect_loader(path), path) == "ok"
    path = tmp_path / "one_column.csv"
    path.write_text("自治体DXの推進体制等\r\nCIOの任命\r\n", encoding="utf-8")  # was an IndexError
    refused_in_time(LOADERS[0], path, bench.ctx, "団体の列がありません")


@pytest.mark.parametrize("value, pattern", [("1e309", "数値ではない値"), ("9" * 23, "大きすぎます")])
def test_infinite_or_absurd_numbers_are_refused_before_the_build_casts_them(value, pattern, bench, tmp_path):
    """1e309 became inf and 10^23 overflowed BIGINT in the build's population step (a DuckDB error)."""
    text = seed(bench, "kokusei2025sokuho.csv:small").data.decode("utf-8")
    path = tmp_path / "census.csv"
    path.write_text(text.replace("\n01100,1964034,", f"\n01100,{value},"), encoding="utf-8")
    refused_in_time(detect_loader(path), path, bench.ctx, pattern)
    with pytest.raises(BuildError, match=pattern):
        build([path], tmp_path / "db" / "dashboard.duckdb")


def test_damaged_compressed_members_are_loader_errors(bench, tmp_path):
    """zlib errors from a damaged member escaped the sniffers and the Shapefile reader."""
    juki = corrupt_member(seed(bench, "juki_small").path, "xl/worksheets/sheet1.xml", tmp_path / "juki.xlsx")
    assert outcome(lambda: detect_loader(juki), juki) == "ok"
    refused_in_time(next(loader for loader in LOADERS if loader.name == "juki_population"), juki, bench.ctx, "Excel")
    # damaged after the first 4 KB of the .dbf, which the sniffer reads: only the loader meets the damage
    shapes = shapefile_zip(squares(bench.ctx.registry, "01", size=150), tmp_path, "hokkaido.zip", "cp932")
    with zipfile.ZipFile(shapes) as archive:
        dbf = next(n for n in archive.namelist() if n.endswith(".dbf"))
    broken = corrupt_member(shapes, dbf, tmp_path / "N03-20240101_01_GML.zip", at=0.8)
    refused_in_time(
        next(loader for loader in LOADERS if loader.name == "n03_boundaries"), broken, bench.ctx, "展開できません"
    )


def test_a_doubled_identity_column_in_a_survey_export_names_the_file(bench, tmp_path):
    """Sniffing raised the strict header error without a file (and detect_loader with it)."""
    rows = list(csv.reader(io.StringIO(seed(bench, "survey_form_cp932").data.decode("cp932"), newline="")))
    rows = [row[:4] + [row[3]] + row[4:] for row in rows]  # a second 都道府県 column
    path = tmp_path / "フォーム回答.csv"
    path.write_text("\r\n".join(",".join(row) for row in rows), encoding="utf-8")
    loader = detect_loader(path)
    assert loader is not None and loader.name == "survey_answers"
    refused_in_time(loader, path, bench.ctx, "「都道府県」の列が2つあります")
