"""Page chrome shared by every page: demo banner, data source and as-of line, credits."""
from __future__ import annotations

import html

import streamlit as st

from ui import data

DEMO_LABEL = "デモ用の架空データ"


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _build_info(key: str) -> dict:
    con = data.cursor()
    info = dict(con.execute("SELECT key, value FROM build_info").fetchall())
    info["sources"] = con.execute(
        """
        WITH used_sources AS (
            SELECT DISTINCT source FROM indicator_values
            UNION SELECT DISTINCT source FROM boundaries
        )
        SELECT s.id, s.title, s.credit, s.licence, s.as_of, s.as_of_note
        FROM sources AS s JOIN used_sources AS u ON u.source = s.id
        ORDER BY s.id
        """
    ).df()
    info["synthetic_survey"] = con.execute("SELECT count(*) FROM survey_rounds WHERE synthetic").fetchone()[0] > 0
    return info


def build_info() -> dict:
    return _build_info(data.db_key())


def is_demo() -> bool:
    return build_info().get("demo") == "true"


def demo_banner() -> None:
    """Shown on every page while any synthetic data is on screen."""
    if is_demo():
        st.warning(
            f"**{DEMO_LABEL}** を表示しています。アセスメント回答（と、公開データがない環境では指標値・人口）は"
            "架空の値で、実在の自治体の回答ではありません。実データは「データ管理」から取り込めます。",
            icon=":material/science:",
        )


def source_line() -> str:
    info = build_info()
    path = data.database_path().name
    built = info.get("built_at", "不明")
    label = f"{DEMO_LABEL}（{path}）" if is_demo() else path
    return f"データ: {label}　構築: {built}"


def credits() -> None:
    sources = build_info()["sources"]
    lines = [f"- {html.escape(str(row.credit))}（{html.escape(str(row.licence))}、基準日 {row.as_of or '—'}）"
             for row in sources.itertuples()]
    lines.append("- 市区町村一覧：code4fukui/localgovjp（CC0）")
    st.caption("\n".join(lines))
