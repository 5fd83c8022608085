"""自治体DX進捗ダッシュボード: navigation, page config and the shared sidebar."""
import streamlit as st

from ui import chrome

st.set_page_config(page_title="自治体DX進捗ダッシュボード", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "ダッシュボード": [
        st.Page("pages/overview.py", title="概要", icon=":material/map:", url_path="overview", default=True),
    ],
}

navigation = st.navigation(PAGES)
with st.sidebar:
    st.caption(chrome.source_line())
chrome.demo_banner()
navigation.run()
with st.expander("出典・ライセンス"):
    chrome.credits()
