"""概要: KPI cards for the selected municipalities."""
import streamlit as st

from metrics.filters import select_municipalities
from ui import data

st.title("概要")
municipalities = data.cached(select_municipalities)()
columns = st.columns(3)
columns[0].metric("市区町村数", f"{len(municipalities):,}")
columns[1].metric("人口（合計）", f"{int(municipalities.population.sum()):,} 人")
columns[2].metric("都道府県数", municipalities.pref_code.nunique())
st.dataframe(municipalities[["code", "pref_name", "name", "type", "population", "pop_band"]], hide_index=True)
