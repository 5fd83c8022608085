"""比較・分析: the selection as a sortable table, a scatter of any two measures, box plots by
population band, the 兵庫-style cross-table, a municipality × indicator heatmap and the
hand-picked comparison set (kept in the URL, reused by カルテ and 進捗)."""

import pandas as pd
import streamlit as st

from metrics.composite import indicator_scores
from metrics.crosstab import pop_band_order
from metrics.definitions import PILLARS
from metrics.filters import Filter, select_municipalities
from ui import chrome, data, export, filters
from views import charts, render, style

HEATMAP_LIMIT = 60
selection = filters.current()
chosen = data.cached(select_municipalities)(selection.flt)
national = filters.summary()
summary = national[national["code"].isin(chosen["code"])].merge(chosen[["code", "region"]], on="code", how="left")
options = filters.measures()
titles = dict(zip(options["measure_id"], options["title"]))
bands = data.cached(pop_band_order)()
chrome.page_header("比較・分析", f"{selection.scope}：{len(chosen):,}団体")
if chosen.empty:
    st.info("条件に合う団体がありません。サイドバーの絞り込みを緩めてください。")
    st.stop()

# ---- the table
COLUMNS = {
    "code": "団体コード",
    "pref_name": "都道府県",
    "name": "市区町村",
    "type": "団体区分",
    "pop_band": "人口規模",
    "region": "地域",
    "population": "人口",
    "composite": "総合得点",
    **{pillar: pillar for pillar in PILLARS},
    "assessment": "アセスメント",
    "maturity": "成熟度",
    "priority": "支援優先度",
    "change": "得点の変化",
    "trend_label": "変化の判定",
}
table = summary[[c for c in COLUMNS if c in summary.columns and (c != "region" or selection.flt.region_set)]]
table = table.rename(columns=COLUMNS)
table = chrome.filled_columns(table)  # no survey loaded, one release only: no empty columns
st.header("一覧", anchor=False)
scores = {c: st.column_config.NumberColumn(format="%.1f") for c in ("総合得点", *PILLARS, "アセスメント")}
picked = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="multi-row",
    key="cm_table",
    height=380,
    column_config={
        **scores,
        "人口": st.column_config.NumberColumn(format="localized"),
        "成熟度": st.column_config.NumberColumn(format="%d"),
        "得点の変化": st.column_config.NumberColumn(format="%+.1f"),
    },
)
rows = picked.selection.rows if picked else []
buttons = st.container(horizontal=True)  # each button as wide as its label, wrapping on a narrow screen


def _add_to_set(codes: list[str]) -> None:
    current = list(selection.compare)
    st.session_state["cmp"] = (current + [c for c in codes if c not in current])[: filters.MAX_COMPARE]


buttons.button(
    f"選択した{len(rows)}団体を比較セットに追加",
    disabled=not rows,
    on_click=_add_to_set,
    args=(summary.iloc[rows]["code"].tolist(),),
    icon=":material/playlist_add:",
)
export.download(
    "CSV（Excel対応）",
    lambda: export.csv_bytes(table),
    file_name=f"{style.file_stem('市区町村一覧', selection.area)}.csv",
    mime=export.CSV_MIME,
    where=buttons,
)
export.download(
    "Excel",
    lambda: export.excel_bytes({"一覧": table}, [("対象", selection.scope), ("データ", chrome.source_line())]),
    file_name=f"{style.file_stem('市区町村一覧', selection.area)}.xlsx",
    mime=export.XLSX_MIME,
    icon=":material/table:",
    where=buttons,
)
st.caption(
    "列名をクリックすると並べ替えられます。行を選んで比較セットに追加できます（最大10団体、URLに保存）。"
    "空欄は「データなし」で、0 とは扱いません。"
)

# ---- analyses
numeric = options[~options["kind"].isin(["category", "binary"])]
numeric_ids = numeric["measure_id"].tolist()
population_id = next(
    (m for m in ("population_juki", "population_census", "population_demo") if m in numeric_ids), numeric_ids[0]
)
score_id = "composite" if "composite" in numeric_ids else numeric_ids[0]
# only the open tab is computed (a tab switch is a rerun): every filter change used to build all five.
tabs = st.tabs(
    ["散布図", "人口規模別の分布", "クロス集計（兵庫県方式）", "団体 × 指標ヒートマップ", "比較セット"],
    key="cm_tab",
    bind="query-params",
    on_change="rerun",
)
# The choices inside the closed tabs are kept as they were: Streamlit forgets a widget not drawn in a run
# unless its key is written to again. Only theirs: a widget drawn in the same run as such a write makes
# Streamlit log a warning about its default.
TAB_WIDGET_KEYS = (("cm_x", "cm_y", "cm_logx"), ("cm_box",), ("cm_cross",), ("cm_heat_set",))
for tab, keys in zip(tabs, TAB_WIDGET_KEYS):
    if tab.open:
        continue
    for kept in keys:
        if kept in st.session_state:
            st.session_state[kept] = st.session_state[kept]


def _values(measure_id: str) -> pd.Series:
    values = filters.measure_values(filters.measure(measure_id)).set_index("code")
    return summary["code"].map(values["value"])


def _numeric_measure(where, label: str, default: str, key: str) -> str:
    """A numeric measure picked by its title (kept in the URL)."""
    return where.selectbox(
        label, numeric_ids, index=numeric_ids.index(default), format_func=titles.get, key=key, bind="query-params"
    )


def _axis(measure_id: str) -> str:
    row = filters.measure(measure_id)
    unit = style.unit_label(row["kind"], row["unit"])
    return f"{row['short_title']}（{unit}）" if unit else row["short_title"]


with tabs[0]:
    if tabs[0].open:
        pick = st.columns([3, 3, 1])
        x_id = _numeric_measure(pick[0], "横軸", population_id, "cm_x")
        y_id = _numeric_measure(pick[1], "縦軸", score_id, "cm_y")
        log_x = pick[2].toggle("横軸を対数に", value=x_id.startswith("population"), key="cm_logx")
        frame = summary[["code", "name", "pref_name", "pop_band"]].assign(x=_values(x_id), y=_values(y_id))
        chrome.chart(
            charts.scatter(frame, "x", "y", _axis(x_id), _axis(y_id), bands, log_x, list(selection.compare)),
            key="cm_scatter",
        )
        missing = int(frame[["x", "y"]].isna().any(axis=1).sum())
        st.caption(
            f"点は1団体。色は人口規模。どちらかの値がない{missing:,}団体は描いていません。"
            + ("比較セットの団体は名前つきの丸で示しています。" if selection.compare else "")
        )

with tabs[1]:
    if tabs[1].open:
        box_id = _numeric_measure(st, "指標", score_id, "cm_box")
        frame = summary[["code", "name", "pop_band"]].assign(value=_values(box_id))
        chrome.chart(charts.box_by_band(frame, "value", _axis(box_id), bands), key="cm_boxplot")
        st.caption("箱は四分位範囲、線は中央値、点は各団体。括弧内は値のある団体数です。")

with tabs[2]:
    if tabs[2].open:
        categorical = options[options["kind"].isin(["category", "binary"]) | (options["measure_id"] == "maturity")]
        cat_ids = categorical["measure_id"].tolist()
        default = "priority" if "priority" in cat_ids else ("da_cio" if "da_cio" in cat_ids else cat_ids[0])
        cross_id = st.selectbox(
            "集計する項目",
            cat_ids,
            index=cat_ids.index(default),
            format_func=titles.get,
            key="cm_cross",
            bind="query-params",
        )
        cross_measure = filters.measure(cross_id)
        cross = render.crosstab_view(
            cross_measure,
            filters.measure_values(cross_measure),
            summary[["code", "pop_band"]],
            filters.directory(),
            bands,
            render.Scope(selection.flt.pref_code, selection.scope, selection.flt),
            filters.measure_ranking(cross_measure, selection.flt),
            render.source_line(cross_measure),
            chrome.measure_as_of(cross_measure),
        )
        left, right = st.columns([3, 2], gap="medium")
        if cross.figure is None:
            left.info(cross.commentary[0])
            crossed = pd.DataFrame()
        else:
            crossed = cross.frame.rename_axis(index="人口規模", columns=cross_measure["short_title"])
            left.dataframe(crossed, height=35 * len(crossed) + 40)
            chrome.chart(cross.figure, where=right, key="cm_crossbars")
            chrome.commentary(cross.commentary)
        st.caption(
            "兵庫県「市町DX支援パッケージ」の団体規模別の表と同じ形式です（行 = 人口規模、列 = 回答、計 = 合計）。"
            "「不明」は値のない団体で、合計には必ず全団体が入ります。"
        )
        export.download(
            "クロス集計（CSV）",
            lambda: export.csv_bytes(crossed.reset_index()),
            file_name=f"{style.file_stem('クロス集計', titles[cross_id], selection.area)}.csv",
            mime=export.CSV_MIME,
        )

with tabs[3]:
    if tabs[3].open:
        use_set = bool(selection.compare) and st.toggle("比較セットの団体だけを表示", value=True, key="cm_heat_set")
        codes = (
            list(selection.compare) if use_set else summary.sort_values("composite", ascending=False)["code"].tolist()
        )
        if len(codes) > HEATMAP_LIMIT:
            st.caption(
                f"{len(codes):,}団体のうち、総合得点の高い順に{HEATMAP_LIMIT}団体を表示しています。"
                "絞り込むか比較セットを使うと、目的の団体だけを並べられます。"
            )
            codes = codes[:HEATMAP_LIMIT]
        members = data.cached(indicator_scores)(Filter(codes=tuple(codes)), selection.as_of)
        if members.empty:
            st.info("デジタル庁の指標が取り込まれていません。")
        else:
            names = national.set_index("code")
            members = members.assign(row=members["code"].map(names["name"] + "（" + names["pref_name"] + "）"))
            order = [names.at[c, "name"] + "（" + names.at[c, "pref_name"] + "）" for c in codes]
            columns = list(dict.fromkeys(members.sort_values(["pillar", "indicator_id"])["short_title"]))
            matrix = members.pivot(index="row", columns="short_title", values="normalised").reindex(
                index=order, columns=columns
            )
            text = (
                members.assign(text=[style.format_value(v, k, "") for v, k in zip(members["value"], members["kind"])])
                .pivot(index="row", columns="short_title", values="text")
                .reindex(index=order, columns=columns)
                .fillna(style.MISSING_LABEL)
            )
            chrome.chart(charts.indicator_heatmap(matrix, text), key="cm_heatmap")
            st.caption("デジタル庁の13指標を0〜1にそろえた値（実施 = 1、率は ÷100）。灰色は「データなし」。")

with tabs[4]:
    if tabs[4].open:
        if not selection.compare:
            st.info(
                "比較セットは空です。上の一覧で行を選んで追加するか、サイドバーの「比較セット」に団体名を入力してください。"
            )
        else:
            compared = national.set_index("code").loc[list(selection.compare)].reset_index()
            compared["団体"] = compared["name"] + "（" + compared["pref_name"] + "）"
            pillars = [c for c in PILLARS if c in compared.columns]
            extra = ["assessment"] if compared["assessment"].notna().any() else []
            chrome.chart(
                charts.grouped_bars(
                    compared.rename(columns={"assessment": "アセスメント"}),
                    "団体",
                    pillars + (["アセスメント"] if extra else []),
                ),
                key="cm_setbars",
            )
            shown = compared[
                ["団体", "type", "pop_band", "composite", *pillars, *extra, "maturity", "priority"]
            ].rename(
                columns={
                    "type": "団体区分",
                    "pop_band": "人口規模",
                    "composite": "総合得点",
                    "assessment": "アセスメント",
                    "maturity": "成熟度",
                    "priority": "支援優先度",
                }
            )
            st.dataframe(shown, hide_index=True, column_config=scores)
            st.button(
                "比較セットを空にする", on_click=lambda: st.session_state.update(cmp=[]), icon=":material/clear_all:"
            )
