"""概要: KPI cards against the nation, the map of any measure (national or one prefecture), its
distribution and the prefecture ranking."""

import pandas as pd
import streamlit as st

from exports.images import chart_png
from exports.pptx_deck import build_deck
from metrics import commentary, views
from metrics.crosstab import pop_band_order
from metrics.filters import select_municipalities
from ui import chrome, data, export, filters
from ui.maps import show as show_map
from views import maps, render, style

selection = filters.current()
measure = filters.measure()
chosen = data.cached(select_municipalities)(selection.flt)
chrome.page_header("概要", f"{selection.scope}：{len(chosen):,}団体", measure)
if measure is None or chosen.empty:
    st.info("表示できる団体・指標がありません。絞り込みを緩めるか、「データ管理」からデータを取り込んでください。")
    st.stop()

national = filters.summary()
summary = national[national["code"].isin(chosen["code"])]
scoped = len(chosen) < len(national)
# the views of the deck and 会議モード (views/render.py) with the sidebar's whole selection: every sentence
# is computed from the frame its figure draws (the ranking of prefectures is over the selection's bands
# and types, so a prefecture × band selection is its prefecture's bar)
basis = commentary.basis_text(selection.flt.pop_bands, selection.flt.types)
scope = render.Scope(selection.flt.pref_code, selection.scope, selection.flt, basis)
source, as_of = render.source_line(measure), chrome.measure_as_of(measure)

# ---- KPI cards: the selection beside the nation
kpis = views.headline(summary, national)
for column, row in zip(st.columns(len(kpis)), kpis.itertuples()):
    if row.item == "municipalities":
        column.metric(row.label, f"{int(row.value):,}団体", help=f"全国 {int(row.national):,}団体", border=True)
        continue
    digits = 2 if row.item == "maturity" else 1
    value = style.MISSING_LABEL if pd.isna(row.value) else f"{row.value:.{digits}f}{row.unit}"
    delta = None
    if scoped and pd.notna(row.value) and pd.notna(row.national):
        delta = f"{row.value - row.national:+.{digits}f}{'pt' if row.unit == '%' else row.unit}（全国比）"
    counted = getattr(row, "n", None)
    counted = f"（{int(counted):,}団体）" if counted is not None and pd.notna(counted) else ""
    column.metric(
        row.label,
        value,
        delta=delta,
        delta_color="inverse" if row.item == "priority_high" else "normal",
        border=True,
        help=f"{row.description}{counted}。全国 {row.national:.{digits}f}{row.unit}。"
        f"{row.with_data:,}団体のデータから算出。",
    )

# ---- map and the municipality picked on it
values = filters.measure_values(measure)
ranking = filters.measure_ranking(measure, selection.flt)
map_view = render.map_view(measure, values, chosen, scope, ranking, source, as_of)
frame = map_view.frame
order = views.measure_category_order(values, measure)
left, right = st.columns([3, 2], gap="medium")
with left:
    st.header(map_view.title, anchor=False)
    geometry = data.shared(maps.load_geometry)()
    picked = show_map(
        frame,
        measure,
        geometry,
        key="ov_map",
        national=selection.flt.pref_code is None and selection.flt.region_set is None,
        category_order=order,
    )
    st.caption("市区町村をクリックするか、地図の下の一覧から名前で選ぶと右に詳細を表示します。" + map_view.caption)
    chrome.commentary(map_view.commentary)
with right:
    if picked and picked in set(chosen["code"]):
        row = summary[summary["code"] == picked].iloc[0]
        value_row = frame[frame["code"] == picked].iloc[0]
        shown_value = style.format_value(value_row["value"], measure["kind"], measure["unit"], value_row["label"])
        st.header(f"{row['name']}（{row['pref_name']}）", anchor=False)
        st.markdown(
            f"- {row['type']}・人口 {style.format_number(row['population'])}人（{row['pop_band'] or '人口不明'}）\n"
            f"- {measure['short_title']}: **{shown_value}**\n"
            f"- 総合得点（デジタル庁指標）: {style.format_value(row['composite'], 'score', '点')}\n"
            + (
                f"- アセスメント総合得点: {style.format_value(row['assessment'], 'score', '点')}"
                f"・{row['maturity_label'] or ''}\n"
                if "assessment" in row and pd.notna(row["assessment"])
                else ""
            )
            + (
                f"- 支援優先度: **{row['priority']}**"
                if isinstance(row.get("priority"), str) and row["priority"]
                else ""
            )
        )
        if st.button("この団体のカルテを開く", icon=":material/assignment_ind:", type="primary"):
            st.session_state["ka_code"] = picked
            # an empty mapping, not None: the sidebar's parameters are bound to widgets, which put
            # them back into the URL on the next page (None would try to clear them and fail)
            st.switch_page("app_pages/karte.py", query_params={})
    elif measure["kind"] in ("binary", "category"):
        st.header("回答の内訳", anchor=False)
        shares = views.category_shares(values[values["code"].isin(chosen["code"])], order)
        st.dataframe(
            shares.rename(columns={"label": "区分", "municipalities": "団体数", "share": "割合（%）"}),
            hide_index=True,
            column_config={"割合（%）": st.column_config.NumberColumn(format="%.1f")},
        )
    else:
        best_first = measure["polarity"] != "lower_is_better"
        ranked = frame.dropna(subset=["value"]).sort_values("value", ascending=not best_first)
        ranked = ranked[["tip_name", "tip_value"]].rename(columns={"tip_name": "団体", "tip_value": "値"})
        st.header("上位の団体", anchor=False)
        st.dataframe(ranked.head(5), hide_index=True)
        st.header("下位の団体", anchor=False)
        st.dataframe(ranked.tail(5).iloc[::-1], hide_index=True)
    export.download(
        "この指標の値（CSV）",
        lambda: export.csv_bytes(map_view.table),
        file_name=f"{style.file_stem(measure['short_title'], selection.area)}.csv",
        mime=export.CSV_MIME,
    )

# ---- distribution and ranking
bands = data.cached(pop_band_order)()
distribution = render.distribution_view(
    measure, values, chosen, filters.directory(), bands, scope, map_view.commentary, source, as_of
)
dist_col, rank_col = st.columns(2, gap="medium")
with dist_col:
    st.header("分布", anchor=False)
    chrome.chart(distribution.figure, key="ov_distribution")
    chrome.png_download(
        distribution.figure,
        distribution.title,
        style.file_stem("分布", measure["short_title"], selection.area),
        "ov_distribution_png",
        distribution.subtitle,
        chrome.measure_source(measure),
        render=chart_png,
    )
    if measure["kind"] != "category":
        st.header("人口規模別", anchor=False)
        by_band = distribution.frame
        statistic = by_band["statistic"].iloc[0]

        def shown(column: str) -> list[str]:
            return [style.format_statistic(v, statistic, measure["kind"], measure["unit"]) for v in by_band[column]]

        st.dataframe(
            pd.DataFrame(
                {
                    "人口規模": by_band["pop_band"],
                    "団体数": by_band["municipalities"],
                    "データあり": by_band["with_data"],
                    f"{statistic}（{selection.pref_name or '選択'}）": shown("value"),
                    f"{statistic}（全国）": shown("national"),
                }
            ),
            hide_index=True,
        )
        chrome.commentary(commentary.band_sentences(measure, by_band, selection.scope))
with rank_col:
    st.header("都道府県の順位", anchor=False)
    if ranking.empty:
        st.info("区分の指標には順位がありません。分布と地図をご覧ください。")
    else:
        ranking_view = render.prefecture_ranking_view(measure, values, ranking, scope, "screen", source, as_of)
        chrome.chart(ranking_view.figure, key="ov_ranking")
        st.caption(ranking_view.caption)
        chrome.commentary(ranking_view.commentary)
        chrome.png_download(
            ranking_view.figure,
            f"都道府県の順位：{measure['title']}",
            style.file_stem("都道府県の順位", measure["short_title"]),
            "ov_ranking_png",
            ranking_view.subtitle,
            chrome.measure_source(measure),
            render=chart_png,
        )

# ---- change since the previous release of the デジタル庁 data (the measure's snapshot and the one before)
_, measure_as_of = filters.measure_arguments(measure)
base_as_of, eval_as_of = data.cached(views.official_pair)(measure_as_of)
if base_as_of and render.change_applies(measure):
    change = data.shared(views.official_change)(measure["measure_id"], base_as_of, eval_as_of)
    change_view = render.change_view(measure, change, chosen, scope, base_as_of, eval_as_of, source)
    st.header(change_view.title, anchor=False)
    compared = change_view.frame
    counts = compared["trend_label"].value_counts()
    for column, label in zip(st.columns(4), list(views.TRENDS.values())[:4]):
        n = int(counts.get(label, 0))
        column.metric(label, f"{n:,}団体", help=f"{len(compared):,}団体中 {n / max(len(compared), 1):.0%}", border=True)
    st.caption(change_view.caption)
    chrome.chart(change_view.figure, key="ov_change")
    chrome.commentary(change_view.commentary)
    moved = change_view.table[change_view.table["判定"].isin([views.TRENDS["improved"], views.TRENDS["regressed"]])]
    if len(moved):
        st.dataframe(moved, hide_index=True, column_config={"変化": st.column_config.NumberColumn(format="%+.1f")})

if st.toggle(
    "エクスポート用の地図（静止画向け）を表示",
    key="ov_export",
    help="会議資料に貼り付ける静止画向けの地図です（右上のカメラのアイコンでPNG保存）。",
):
    chrome.offline_geo()
    export_map = render.map_figure(map_view, measure, geometry, values)
    chrome.chart(export_map, key="ov_export_map")
    chrome.png_download(
        export_map,
        map_view.title,
        style.file_stem("地図", measure["short_title"], selection.area),
        "ov_map_png",
        map_view.subtitle,
        chrome.measure_source(measure),
        render=chart_png,
    )

chrome.built_download_with_progress(
    "会議資料（PPTX）",
    lambda path, progress: build_deck(data.cursor(), render.load_deck(), selection.pref_name, path, progress=progress),
    f"会議資料_{selection.area}.pptx",
    "ov_deck",
    help="data/decks/committee.yaml のビュー（地図・順位・分布・クロス集計・支援優先度・進捗など）を"
    "この都道府県（未選択なら全国）のスライドにします。作成には数秒かかり、進み具合を表示します。",
)
