"""概要: KPI cards against the nation, the map of any measure (national or one prefecture), its
distribution and the prefecture ranking."""

import pandas as pd
import streamlit as st

from exports.pptx_deck import build_deck
from exports.views import load_deck
from metrics import commentary, views
from metrics.crosstab import pop_band_order
from metrics.filters import select_municipalities
from ui import charts, chrome, data, export, filters, maps, style

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
# every sentence is computed from the frame its figure draws: the map's municipalities, the table by
# band, the ranking of prefectures over the selection's bands and types (so a prefecture × band
# selection is its prefecture's bar)
whole_prefecture = bool(selection.flt.pref_code) and not (selection.flt.region_set or selection.flt.codes)
basis = commentary.basis_text(selection.flt.pop_bands, selection.flt.types)

# ---- KPI cards: the selection beside the nation
kpis = views.headline(summary, national)
for column, row in zip(st.columns(len(kpis)), kpis.itertuples()):
    if row.item == "municipalities":
        column.metric(row.label, f"{int(row.value):,}団体", help=f"全国 {int(row.national):,}団体", border=True)
        continue
    digits = 2 if row.item == "maturity" else 1
    value = style.MISSING_LABEL if row.value != row.value else f"{row.value:.{digits}f}{row.unit}"
    delta = None
    if scoped and row.value == row.value and row.national == row.national:
        delta = f"{row.value - row.national:+.{digits}f}{'pt' if row.unit == '%' else row.unit}（全国比）"
    counted = getattr(row, "n", None)
    counted = f"（{int(counted):,}団体）" if counted is not None and counted == counted else ""
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
frame = maps.map_frame(values, chosen, measure)
order = views.category_order(values) if measure["kind"] == "category" else None
if measure["kind"] == "binary":
    order = ["実施", "未実施"]
if measure["measure_id"] == "priority":
    order = list(views.PRIORITY_LEVELS)
left, right = st.columns([3, 2], gap="medium")
with left:
    st.header(f"地図：{measure['title']}", anchor=False)
    geometry = data.shared(maps.load_geometry)()
    picked = maps.show(
        frame,
        measure,
        geometry,
        key="ov_map",
        national=selection.flt.pref_code is None and selection.flt.region_set is None,
        category_order=order,
    )
    st.caption(
        "市区町村をクリックするか、地図の下の一覧から名前で選ぶと右に詳細を表示します。境界のない島しょ部の団体は点で示しています。"
    )
    ranking = filters.measure_ranking(measure, selection.flt)
    chrome.commentary(
        commentary.selection_sentences(
            measure,
            values,
            chosen,
            selection.scope,
            ranking=ranking if whole_prefecture else None,
            pref_code=selection.flt.pref_code,
            basis=basis,
        )
    )
with right:
    if picked and picked in set(chosen["code"]):
        row = summary[summary["code"] == picked].iloc[0]
        value_row = frame[frame["code"] == picked].iloc[0]
        st.header(f"{row['name']}（{row['pref_name']}）", anchor=False)
        st.markdown(
            f"- {row['type']}・人口 {style.format_number(row['population'])}人（{row['pop_band'] or '人口不明'}）\n"
            f"- {measure['short_title']}: **{style.format_value(value_row['value'], measure['kind'], measure['unit'], value_row['label'])}**\n"
            f"- 総合得点（デジタル庁指標）: {style.format_value(row['composite'], 'score', '点')}\n"
            + (
                f"- アセスメント総合得点: {style.format_value(row['assessment'], 'score', '点')}・{row['maturity_label'] or ''}\n"
                if "assessment" in row and row["assessment"] == row["assessment"]
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
    else:
        ranked = frame.dropna(subset=["value"])
        if measure["kind"] in ("binary", "category"):
            st.header("回答の内訳", anchor=False)
            shares = views.category_shares(values[values["code"].isin(chosen["code"])], order)
            st.dataframe(
                shares.rename(columns={"label": "区分", "municipalities": "団体数", "share": "割合（%）"}),
                hide_index=True,
                column_config={"割合（%）": st.column_config.NumberColumn(format="%.1f")},
            )
        else:
            best_first = measure["polarity"] != "lower_is_better"
            ranked = ranked.sort_values("value", ascending=not best_first)
            shown = lambda part: part[["tip_name", "tip_value"]].rename(columns={"tip_name": "団体", "tip_value": "値"})  # noqa: E731
            st.header("上位の団体", anchor=False)
            st.dataframe(shown(ranked.head(5)), hide_index=True)
            st.header("下位の団体", anchor=False)
            st.dataframe(shown(ranked.tail(5).iloc[::-1]), hide_index=True)
    table = frame[["code", "pref_name", "name", "value", "label"]].rename(
        columns={
            "code": "団体コード",
            "pref_name": "都道府県",
            "name": "市区町村",
            "value": measure["short_title"],
            "label": "区分",
        }
    )
    st.download_button(
        "この指標の値（CSV）",
        export.csv_bytes(table),
        file_name=f"{measure['measure_id']}.csv",
        mime=export.CSV_MIME,
        icon=":material/download:",
    )

# ---- distribution and ranking
dist_col, rank_col = st.columns(2, gap="medium")
with dist_col:
    st.header("分布", anchor=False)
    chosen_values = values[values["code"].isin(chosen["code"])]
    if measure["kind"] in ("binary", "category"):
        distribution = charts.distribution(
            chosen_values, measure, category_shares=views.category_shares(chosen_values, order)
        )
        chrome.chart(distribution, key="ov_distribution")
    else:
        reference, _ = views.summary_statistic(values["value"], "number")
        distribution = charts.distribution(chosen_values, measure, reference)
        chrome.chart(distribution, key="ov_distribution")
    chrome.png_download(
        distribution,
        f"分布：{measure['title']}",
        f"distribution_{measure['measure_id']}",
        "ov_distribution_png",
        selection.scope,
        chrome.measure_source(measure),
    )
    if measure["kind"] != "category":
        st.header("人口規模別", anchor=False)
        bands = data.cached(pop_band_order)()
        by_band = views.band_summary(
            values.merge(filters.directory()[["code", "pop_band"]], on="code"), chosen["code"], measure["kind"], bands
        )
        statistic = by_band["statistic"].iloc[0]
        shown = pd.DataFrame(
            {
                "人口規模": by_band["pop_band"],
                "団体数": by_band["municipalities"],
                "データあり": by_band["with_data"],
                f"{statistic}（{selection.pref_name or '選択'}）": [
                    style.format_statistic(v, statistic, measure["kind"], measure["unit"]) for v in by_band["value"]
                ],
                f"{statistic}（全国）": [
                    style.format_statistic(v, statistic, measure["kind"], measure["unit"]) for v in by_band["national"]
                ],
            }
        )
        st.dataframe(shown, hide_index=True)
        chrome.commentary(commentary.band_sentences(measure, by_band, selection.scope))
with rank_col:
    st.header("都道府県の順位", anchor=False)
    if ranking.empty:
        st.info("区分の指標には順位がありません。分布と地図をご覧ください。")
    else:
        national_value, _ = views.summary_statistic(values["value"], measure["kind"])
        ranking_chart = charts.prefecture_ranking(ranking, measure, selection.flt.pref_code, national_value)
        chrome.chart(ranking_chart, key="ov_ranking")
        statistic = ranking["statistic"].iloc[0]
        st.caption(
            f"都道府県内の{basis + 'の' if basis else ''}市区町村の{statistic}（データのある団体のみ）。"
            + ("" if measure["polarity"] != "lower_is_better" else "値が小さいほど上位です。")
        )
        chrome.commentary(commentary.prefecture_ranking_sentences(measure, ranking, selection.flt.pref_code, basis))
        chrome.png_download(
            ranking_chart,
            f"都道府県の順位：{measure['title']}",
            f"ranking_{measure['measure_id']}",
            "ov_ranking_png",
            f"{basis + 'の団体でみた' if basis else ''}都道府県別の{statistic}",
            chrome.measure_source(measure),
        )

# ---- change since the previous release of the デジタル庁 data (the measure's snapshot and the one before)
_, measure_as_of = filters.measure_arguments(measure)
base_as_of, eval_as_of = data.cached(views.official_pair)(measure_as_of)
official = measure["group"] in (views.GROUP_COMPOSITE, views.GROUP_DA, views.GROUP_PROCEDURES)
if official and base_as_of and measure["kind"] != "category" and measure["polarity"] != "neutral":
    base_label, eval_label = views.snapshot_label(base_as_of), views.snapshot_label(eval_as_of)
    st.header(f"前回の調査時点からの変化：{measure['title']}", anchor=False)
    change = data.shared(views.official_change)(measure["measure_id"], base_as_of, eval_as_of)
    change = change[change["code"].isin(chosen["code"])].merge(chosen[["code", "pref_name", "name"]], on="code")
    counts = change["trend_label"].value_counts()
    for column, label in zip(st.columns(4), ("改善", "停滞", "後退", "比較不可")):
        n = int(counts.get(label, 0))
        column.metric(label, f"{n:,}団体", help=f"{len(change):,}団体中 {n / max(len(change), 1):.0%}", border=True)
    moved = change[change["trend"].isin(["improved", "regressed"])].sort_values(
        ["change", "code"], ascending=[False, True]
    )
    kind, unit = measure["kind"], measure["unit"]
    st.caption(
        f"デジタル庁データの{base_label}と{eval_label}の比較（{selection.scope}）。"
        "変化は良い方向を正とします。どちらかの時点に値がなければ「比較不可」。"
    )
    if len(moved):
        st.dataframe(
            pd.DataFrame(
                {
                    "都道府県": moved["pref_name"],
                    "市区町村": moved["name"],
                    base_label: [style.format_value(v, kind, unit) for v in moved["base_value"]],
                    eval_label: [style.format_value(v, kind, unit) for v in moved["eval_value"]],
                    "変化": moved["change"],
                    "判定": moved["trend_label"],
                }
            ),
            hide_index=True,
            column_config={"変化": st.column_config.NumberColumn(format="%+.1f")},
        )

if st.toggle(
    "エクスポート用の地図（静止画向け）を表示",
    key="ov_export",
    help="会議資料に貼り付ける静止画向けの地図です（右上のカメラのアイコンでPNG保存）。",
):
    chrome.offline_geo()
    export_map = maps.export_figure(frame, measure, geometry, f"{measure['title']}（{selection.scope}）", order)
    chrome.chart(export_map, key="ov_export_map")
    chrome.png_download(
        export_map,
        f"地図：{measure['title']}",
        f"map_{measure['measure_id']}",
        "ov_map_png",
        selection.scope,
        chrome.measure_source(measure),
    )

chrome.built_download_with_progress(
    "会議資料（PPTX）",
    lambda path, progress: build_deck(data.cursor(), load_deck(), selection.pref_name, path, progress=progress),
    f"会議資料_{selection.pref_name or '全国'}.pptx",
    "ov_deck",
    help="data/decks/committee.yaml のビュー（地図・順位・分布・クロス集計・支援優先度・進捗など）を"
    "この都道府県（未選択なら全国）のスライドにします。作成には数秒かかり、進み具合を表示します。",
)
