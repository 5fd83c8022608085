"""「データを準備中です」: what a replica shows while it has no database to serve.

A replica behind nginx may start before the administration replica has built the first database, or
find a file it cannot open (one copied into place by hand, still incomplete, or built by an earlier
version of the app whose tables this version does not find). app.py then draws this
page instead of any page that queries: what is happening, in Japanese, and a fragment that checks
again every ``REFRESH_SECONDS`` and switches to the dashboard by itself once a database can be read.
The details (path, DuckDB's message) go to the server log only.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from ui import data

TITLE = "データを準備中です"
REFRESH_SECONDS = 15
WHAT = {
    "missing": "表示するデータベースがまだ用意されていません。管理者がデータを取り込むと、このページに表示されます。",
    "unreadable": (
        "データベースを読み込めませんでした。管理者がデータベースを入れ替えている途中か、"
        "ファイルがまだ完成していません。入れ替えが終わると、このページに表示されます。"
    ),
    "outdated": (
        "データベースが以前の版のダッシュボードで作られたため、この版の表示に必要な表がありません。"
        "管理者がデータを取り込み直す（データベースを作り直す）と、このページに表示されます。"
    ),
}


def show(problem: data.DatabaseUnavailable) -> None:
    st.title(TITLE, anchor=False)
    st.info(WHAT.get(problem.reason, WHAT["missing"]), icon=":material/hourglass_top:")
    st.markdown(
        "ページを再読み込みする必要はありません。しばらくたっても表示されないときは、管理者にお知らせください。"
    )
    _check_again()


@st.fragment(run_every=REFRESH_SECONDS)
def _check_again() -> None:
    if data.unavailable() is None:
        st.rerun(scope="app")
    st.caption(f"{REFRESH_SECONDS}秒ごとに自動で確認しています（最終確認: {datetime.now().strftime('%H:%M:%S')}）。")
