"""The interactive map on a page: the pydeck spec of ``views.maps`` drawn by Streamlit, with its
legend, a searchable list of the municipalities (keyboard and screen readers) and its table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from views.maps import Geometry, build_deck, picked_code


def show(
    frame: pd.DataFrame,
    measure: pd.Series,
    geometry: Geometry,
    *,
    key: str,
    national: bool,
    height: int = 560,
    category_order: list[str] | None = None,
) -> str | None:
    """Draw the interactive map with its legend, a searchable list that selects a municipality as a
    click on the map does (for the keyboard and screen readers) and the map's values as a table one
    click away; returns the code of the municipality selected (outlined on the map), or None."""
    search_key = f"{key}_search"
    codes = list(frame.sort_values(["pref_name", "name"])["code"]) if national else list(frame["code"])
    known = set(codes)

    def clicked() -> None:  # a click on the map shows in the list too
        code = picked_code(st.session_state.get(key))
        st.session_state[search_key] = code if code in known else None

    # the list holds the selection (a keyed widget's new state is in session_state when the run
    # starts, and a click's callback has already copied it there): outline the pick at once
    selected = st.session_state.get(search_key)
    if selected not in known:
        selected = None
        st.session_state.pop(search_key, None)
    deck, colouring = build_deck(frame, measure, geometry, national, height, selected, category_order)
    st.pydeck_chart(
        deck, height=height, on_select=clicked, selection_mode="single-object", key=key, alt=f"{measure['title']}の地図"
    )
    st.markdown(colouring.legend_html, unsafe_allow_html=True)
    if geometry.empty:
        st.caption("境界データが読み込まれていないため、市区町村の位置を点で表示しています。")
    names = dict(zip(frame["code"], frame["tip_name"]))
    st.selectbox(
        "地図の団体を名前で選ぶ（地図をクリックするのと同じ）",
        codes,
        index=None,
        format_func=names.get,
        key=search_key,
        placeholder="市区町村名を入力して検索",
    )
    with st.expander("地図の値を表で見る", icon=":material/table:"):
        st.dataframe(
            frame[["pref_name", "name", "tip_text"]].rename(
                columns={"pref_name": "都道府県", "name": "市区町村", "tip_text": str(measure["short_title"])}
            ),
            hide_index=True,
            key=f"{key}_table",
        )
    return selected
