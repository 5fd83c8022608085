"""ruff keeps the style (pyproject.toml: lint rules and the formatter, line length 120)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess:
    # the ruff installed beside this Python (requirements-dev.txt), else one on PATH
    candidate = Path(sys.executable).with_name("ruff")
    ruff = str(candidate) if candidate.exists() else shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: pip install -r requirements-dev.txt")
    return subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean():
    result = _ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_unchanged():
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
