"""The long fuzzing profile (issue #8): at least 2,000 mutated files per loader, then the counts.

Run from the repository root (about an hour on 2 cores):

    python -m tests.fuzz_long                      # every loader, check_file and the build
    python -m tests.fuzz_long -k census_2025       # extra arguments go to pytest
    DX_FUZZ_EXAMPLES=5000 python -m tests.fuzz_long

It runs tests/test_fuzz_loaders.py with ``DX_FUZZ_PROFILE=long`` (fresh random examples every run) and
prints, per test and loader, the examples run and how many ended in a loader error. A crash fails the
run and hypothesis prints the smallest file operations that reproduce it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest


def main(argv: list[str]) -> int:
    stats = Path(tempfile.mkdtemp(prefix="dx-fuzz-")) / "stats.json"
    os.environ["DX_FUZZ_PROFILE"] = "long"
    os.environ["DX_FUZZ_STATS"] = str(stats)
    started = time.perf_counter()
    code = pytest.main(["-q", "-p", "no:cacheprovider", str(Path(__file__).with_name("test_fuzz_loaders.py")), *argv])
    minutes = (time.perf_counter() - started) / 60
    counts = json.loads(stats.read_text()) if stats.exists() else {}
    print(f"\n{'test:loader':<48} {'examples':>9} {'ok':>7} {'error':>7}")
    for key, counter in sorted(counts.items()):
        print(f"{key:<48} {counter.get('examples', 0):>9} {counter.get('ok', 0):>7} {counter.get('error', 0):>7}")
    print(f"{minutes:.1f} min; pytest exit code {int(code)}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
