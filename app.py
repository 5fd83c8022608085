"""自治体DX進捗ダッシュボード: navigation, page config and the shared sidebar."""

import streamlit as st

from ui import chrome, data, filters, meeting, preparing
from ui.guard import friendly_errors

st.set_page_config(
    page_title="自治体DX進捗ダッシュボード", page_icon="📊", layout="wide", initial_sidebar_state="expanded"
)

PAGES = [
    st.Page("app_pages/overview.py", title="概要", icon=":material/map:", default=True),  # served at /
    st.Page("app_pages/karte.py", title="市町村カルテ", icon=":material/assignment_ind:", url_path="karte"),
    st.Page("app_pages/compare.py", title="比較・分析", icon=":material/query_stats:", url_path="compare"),
    st.Page("app_pages/progress.py", title="進捗", icon=":material/trending_up:", url_path="progress"),
    st.Page("app_pages/support.py", title="支援計画", icon=":material/support_agent:", url_path="support"),
    st.Page("app_pages/data.py", title="データ管理", icon=":material/database:", url_path="data"),
]

problem = data.unavailable()
if problem is not None:  # no database yet (a replica before the first build): 「データを準備中です」, no page runs
    st.navigation([meeting.page()] if meeting.active() else PAGES, position="hidden")  # the URL's page stays known
    chrome.inject_css()
    preparing.show(problem)
    st.stop()

if meeting.active():  # 会議モード (?mode=meeting): only the slides, no sidebar, filters or navigation
    navigation = st.navigation([meeting.page()], position="hidden")
    chrome.inject_css()
    meeting.inject_css()
    chrome.offline_geo()
    with friendly_errors("会議モード"):
        navigation.run()
    st.stop()

navigation = st.navigation(PAGES, position="top")
chrome.inject_css()
filters.render()
with st.sidebar:
    meeting.sidebar_switch()
    st.divider()
    st.caption(chrome.source_line())
chrome.demo_banner()
with friendly_errors(navigation.title):  # no English error box: a Japanese message, details in the log
    navigation.run()
st.divider()
with st.expander("出典・ライセンス"):
    chrome.credits()
