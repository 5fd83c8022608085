"""自治体DX進捗ダッシュボード: navigation, page config and the shared sidebar."""
import streamlit as st

from ui import chrome, filters

st.set_page_config(page_title="自治体DX進捗ダッシュボード", page_icon="📊", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/overview.py", title="概要", icon=":material/map:", default=True),  # served at /
    st.Page("pages/karte.py", title="市町村カルテ", icon=":material/assignment_ind:", url_path="karte"),
    st.Page("pages/compare.py", title="比較・分析", icon=":material/query_stats:", url_path="compare"),
    st.Page("pages/progress.py", title="進捗", icon=":material/trending_up:", url_path="progress"),
    st.Page("pages/support.py", title="支援計画", icon=":material/support_agent:", url_path="support"),
    st.Page("pages/data.py", title="データ管理", icon=":material/database:", url_path="data"),
]

navigation = st.navigation(PAGES, position="top")
chrome.inject_css()
filters.render()
with st.sidebar:
    st.divider()
    st.caption(chrome.source_line())
chrome.demo_banner()
navigation.run()
st.divider()
with st.expander("出典・ライセンス"):
    chrome.credits()
