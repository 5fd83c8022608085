"""Concurrent users (issue #8 part 4): the short profile of tests/load_test.py — 20 sessions against
`streamlit run app.py` on a loopback port for 60 s while `python -m loaders build` swaps the
database: no error anywhere, every session shows the new database after the swap, and the times
(alone and in the crowd), the server's CPU time and peak RSS are reported
(artifacts/load_test.json). About two minutes. The long profile is one command:
`python -m tests.load_test --sessions 30 --seconds 300`.

The sessions are tests/streamlit_client.py tabs (Streamlit's websocket protocol, nothing drawn);
the first test shows, on a tiny app of its own, that such a tab sees what a browser would show as
broken, so a clean load test means something."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest

from tests.load_test import PAGES, ROOT, SWAP_WAIT_SECONDS, Server, run_load_test
from tests.streamlit_client import StreamlitTab, TabError

SESSIONS = 20
SECONDS = 60

TINY_APP = """
import streamlit as st

def front():
    st.title("表紙")
    st.write(f"選択: {pref}")
    if pref == "沖縄県":
        raise ValueError("わざと")
    if pref == "鳥取県":
        st.error("データがありません")

def second():
    st.title("二枚目")

with st.sidebar:
    pref = st.selectbox("都道府県", ["兵庫県", "北海道", "沖縄県", "鳥取県"], key="pref", bind="query-params")
    st.caption("データ: test　構築: 2026-12-03 07:00:00")
st.navigation([st.Page(front, title="表紙", default=True), st.Page(second, title="二枚目", url_path="second")]).run()
"""


@pytest.fixture()
def tiny_app(tmp_path):
    script = tmp_path / "tiny_app.py"
    script.write_text(textwrap.dedent(TINY_APP), encoding="utf-8")
    return script


def test_a_tab_sees_what_a_browser_would(tiny_app, tmp_path):
    async def visit(base: str) -> None:
        tab = StreamlitTab(base, limit_seconds=30)
        try:
            opened = await tab.open("", {"pref": "北海道"})  # a deep link sets the widget
            assert opened.problems == [] and opened.main_elements > 0
            assert tab.selected("都道府県") == "北海道" and tab.current_page() == ""
            assert opened.sidebar_value("構築:") == "2026-12-03 07:00:00"
            assert any("選択: 北海道" in text for text in opened.main_text)

            chosen = await tab.choose("都道府県", "兵庫県")
            assert chosen.problems == [] and any("選択: 兵庫県" in text for text in chosen.main_text)
            assert tab.query == {"pref": "兵庫県"}  # the bound widget's value goes to the URL

            broken = await tab.choose("都道府県", "沖縄県")
            assert any(p.startswith("例外: ValueError") for p in broken.problems), broken.problems
            shown = await tab.choose("都道府県", "鳥取県")
            assert shown.problems == ["エラー表示: データがありません"]

            moved = await tab.navigate("second")
            assert moved.problems == [] and tab.current_page() == "second"
            assert any(text == "二枚目" for text in moved.main_text)
            assert tab.selected("都道府県") == "鳥取県"  # the sidebar keeps its choice across pages

            with pytest.raises(TabError, match="選択肢がありません"):
                await tab.choose("都道府県", "東京都")
            with pytest.raises(TabError, match="ナビゲーション"):
                await tab.navigate("nowhere")
        finally:
            await tab.close()

    with Server(tmp_path / "server.log", script=tiny_app) as server:
        asyncio.run(visit(server.base))
        assert "ValueError: わざと" in server.log_text()  # the server saw the same failure


def test_a_tab_reports_a_lost_server(tiny_app, tmp_path):
    async def visit(server: Server) -> None:
        tab = StreamlitTab(server.base, limit_seconds=30)
        await tab.open("", {"pref": "北海道"})
        server.process.kill()
        server.process.wait()
        with pytest.raises(TabError, match="接続が切れました|秒以内に"):
            await tab.choose("都道府県", "兵庫県")
        await tab.close()

    with Server(tmp_path / "server.log", script=tiny_app) as server:
        asyncio.run(visit(server))


@pytest.mark.timeout(int(SWAP_WAIT_SECONDS) + 600)
def test_20_sessions_through_a_database_swap(shared_data, tmp_path):
    result = run_load_test(SESSIONS, SECONDS, shared_data, workdir=tmp_path)
    summary = result.summary()
    out = ROOT / "artifacts" / "load_test.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary | {"errors": result.errors}, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n".join(result.lines()))
    assert not result.errors, "\n".join(result.lines())
    assert result.build_seconds is not None, "the database was swapped during the test"
    assert result.sessions_seeing_new_data == SESSIONS
    crowd = [a for a in result.actions if a.phase == "crowd"]
    for session in range(SESSIONS):
        kinds = {a.kind for a in crowd if a.session == session}
        assert {"load", "rerun"} <= kinds, f"session {session} opened a page and changed the filter"
        assert any(a.after_swap for a in crowd if a.session == session)
    assert {a.page for a in crowd} == set(PAGES), "every page was used, the overview's map included"
    assert summary["crowd"]["navigate"]["count"] > 0
    assert summary["solo"]["all"]["count"] == 3 * len(PAGES), "the baseline did every action alone"
    assert summary["crowd"]["rerun"]["p95"] is not None and summary["peak_rss_mb"] > 0
    assert summary["crowd_cpu_seconds"] > 0
