"""Concurrent users (issue #8 part 4), the short CI profile of tests/load_test.py: 20 browser sessions
against `streamlit run app.py` on a loopback port for 60 s while `python -m loaders build` swaps the
database: no error anywhere, every session runs on the new database after the swap, and the rerun
times are reported (artifacts/load_test.json). The long profile is one command:
`python -m tests.load_test --sessions 30 --seconds 300`; this profile runs with `DX_LOAD_TEST=1`."""
from __future__ import annotations

import json
import os

import pytest

from load_test import CHROMIUM, ROOT, run_load_test

SESSIONS = 20
SECONDS = 60

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {CHROMIUM} (apt-get install chromium fonts-noto-cjk)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)
pytest.importorskip("playwright.async_api")
if not os.environ.get("DX_LOAD_TEST"):
    # Opt-in: ~3 minutes at a load average near 20 on two cores. Its one intermittent failure is
    # understood — a run the server finished (its script_finished arrived on the websocket) that a
    # starved browser never painted as "running"; load_test now counts such runs from the websocket —
    # but it has passed only twice since, too few to let it gate CI.
    pytest.skip("DX_LOAD_TEST=1 で実行します（同時接続の負荷試験、約4分）", allow_module_level=True)


@pytest.mark.timeout(900)
def test_20_sessions_through_a_database_swap(shared_data, tmp_path):
    result = run_load_test(SESSIONS, SECONDS, shared_data, workdir=tmp_path)
    summary = result.summary()
    out = ROOT / "artifacts" / "load_test.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "errors": result.errors,
                               "input_retries": result.input_retries}, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n".join(result.lines()))
    assert not result.errors, "\n".join(result.lines())
    assert result.build_seconds is not None, "the database was swapped during the test"
    assert result.sessions_seeing_new_data == SESSIONS
    per_session = {i: [a for a in result.actions if a.session == i] for i in range(SESSIONS)}
    assert all(any(a.kind == "rerun" for a in actions) for actions in per_session.values()), \
        "every session changed a filter at least once"
    assert all(any(a.after_swap for a in actions) for actions in per_session.values())
    assert summary["rerun"]["p95"] is not None and summary["peak_rss_mb"] > 0
