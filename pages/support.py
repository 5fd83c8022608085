"""支援計画: support priority 高/中/低 with reasons and the support menu, how many municipalities
each menu item is for, and a field-visit plan grouped by region — downloadable for the visits."""
import pandas as pd
import streamlit as st

from metrics import commentary, views
from metrics.definitions import load_support_menu
from metrics.filters import Filter, select_municipalities
from metrics.priority import NOT_ASSESSED, support_priority
from ui import charts, chrome, data, export, filters, style

LEVELS = ["高", "中", "低", NOT_ASSESSED]
selection = filters.current()
chosen = data.cached(select_municipalities)(selection.flt)
chrome.page_header("支援計画", f"{selection.scope}：{len(chosen):,}団体"
                   + (f"　｜　{selection.round_label}" if selection.round_label else ""))
priority = data.shared(support_priority)(None, selection.round_id)
priority = priority[priority["code"].isin(chosen["code"])]
summary = filters.summary().set_index("code")
priority = priority.assign(assessment=priority["code"].map(summary["assessment"]))
if selection.round_id is None:
    st.info("アセスメントの回答がまだないため、支援優先度は「判定不可」です。推奨する支援は、デジタル庁指標で"
            "目標や全国の中央値を下回る項目から選んでいます。回答を取り込むと、弱い段階に基づく優先度が付きます。")

# ---- how many at each level
counts = priority["priority"].value_counts()
for column, level in zip(st.columns(4), LEVELS):
    n = int(counts.get(level, 0))
    column.metric(f"支援優先度「{level}」" if level != NOT_ASSESSED else NOT_ASSESSED, f"{n:,}団体",
                  help=f"{len(priority):,}団体中 {n / max(len(priority), 1):.0%}", border=True)
st.caption("弱い段階（満点の半分未満）が2つ以上 → 高、1つ → 中、なし → 低（宮城県の表を再現する規則。data/priority_rules.yaml）。"
           "支援内容は弱い段階ごとのメニューで、STEP0〜2 が弱いうちは STEP3 の支援を後回しにします。")

# ---- the list
st.subheader("支援優先度の一覧")
levels = st.multiselect("表示する優先度", LEVELS, default=["高", "中"], key="sp_levels", bind="query-params")
shown = priority[priority["priority"].isin(levels)] if levels else priority
first_reason = shown["reasons"].str.split("。").str[1:3].str.join("。").fillna("")
table = pd.DataFrame({
    "優先度": shown["priority"], "団体": shown["name"] + "（" + shown["pref_name"] + "）", "弱い段階": shown["weak_stages"],
    "支援内容": shown["support"], "推奨する支援": shown["recommended"], "主な理由": first_reason,
    "アセスメント": shown["assessment"]})
picked = st.dataframe(table, hide_index=True, height=360, on_select="rerun", selection_mode="single-row", key="sp_table",
                      column_config={"主な理由": st.column_config.TextColumn(width="large"),
                                     "推奨する支援": st.column_config.TextColumn(width="large"),
                                     "アセスメント": st.column_config.NumberColumn(format="%.1f")})
rows = picked.selection.rows if picked else []
if rows:
    one = shown.iloc[rows[0]]
    with st.container(border=True):
        st.markdown(f"**{one['name']}（{one['pref_name']}）** — 支援優先度 **{one['priority']}**")
        st.markdown("\n".join(f"- {r}。" for r in one["reasons"].split("。") if r))
        menu = load_support_menu()
        items = [menu[i] for i in one["recommended_ids"].split(",") if i]
        if items:
            st.markdown("推奨する支援: " + "、".join(f"{item.name}（{item.provider}）" for item in items))
else:
    st.caption("行を選ぶと、理由の全文と推奨する支援を表示します。")

# ---- the menu
menu_col, region_col = st.columns(2, gap="medium")
with menu_col:
    st.subheader("支援メニューごとの対象団体数")
    item_counts = views.support_counts(priority)
    items_chart = charts.support_items(item_counts)
    st.plotly_chart(items_chart, key="sp_items")
    st.caption("推奨する支援に挙がった団体の数（1団体が複数のメニューに数えられます）。メニューは data/support_menu.yaml。")
    # the counts of the page's own selection (region, band and type filters included), not the whole prefecture
    chrome.commentary(commentary.priority_commentary(data.cursor(), selection.flt.pref_code, selection.round_id, priority,
                                                     scope_name=selection.scope))
    chrome.png_download(items_chart, "支援メニューごとの対象団体数", "support_items", "sp_items_png",
                        selection.scope + (f"・{selection.round_label}" if selection.round_label else ""),
                        "出典：都道府県のアセスメント調査、支援メニュー data/support_menu.yaml")

# ---- the visit plan
region_set = selection.flt.region_set
if region_set is None and selection.flt.pref_code:
    coverage = data.cached(views.region_set_prefectures)()
    covering = coverage.loc[coverage["pref_code"] == selection.flt.pref_code, "region_set"].tolist()
    region_set = covering[0] if covering else None
places = chosen[["code", "pref_name"]]
if region_set:
    regions = data.cached(select_municipalities)(Filter(region_set=region_set))[["code", "region"]]
    places = places.merge(regions, on="code", how="left")
visit_levels = tuple(level for level in ("高", "中") if level in (levels or LEVELS)) or ("高",)
plan = views.visit_plan(priority, places, visit_levels)
with region_col:
    st.subheader("地域ごとの訪問計画")
    if plan.empty:
        st.write("訪問の対象（支援優先度 " + "・".join(visit_levels) + "）の団体はありません。")
    else:
        per_region = plan.groupby(["region", "priority"], sort=False).size().unstack(fill_value=0)
        per_region = per_region.reindex(columns=[c for c in ("高", "中") if c in per_region.columns])
        st.dataframe(per_region.rename_axis("地域").reset_index().rename(columns={"高": "優先度 高", "中": "優先度 中"}),
                     hide_index=True, height=min(35 * len(per_region) + 40, 360))
    grouping = f"地域区分「{region_set}」" if region_set else "都道府県"
    st.caption(f"{grouping}ごとに、優先度の高い順・弱い段階の多い順・アセスメント得点の低い順に並べています。")
plan_table = plan.rename(columns=views.VISIT_PLAN_COLUMNS)
st.dataframe(plan_table.drop(columns=["理由"]), hide_index=True, height=360,
             column_config={"アセスメント得点": st.column_config.NumberColumn(format="%.1f"),
                            "推奨する支援": st.column_config.TextColumn(width="large")})
notes = [("対象", selection.scope), ("調査回", selection.round_label or "なし"), ("データ", chrome.source_line()),
         ("規則", "data/priority_rules.yaml・data/support_menu.yaml（docs/METHODOLOGY.md §6）")]
priority_table = priority.rename(columns={
    "code": "団体コード", "pref_name": "都道府県", "name": "市区町村", "priority": "支援優先度", "n_weak": "弱い段階の数",
    "weak_stages": "弱い段階", "support": "支援内容", "recommended": "推奨する支援", "reasons": "理由",
    "assessment": "アセスメント得点"})[["団体コード", "都道府県", "市区町村", "支援優先度", "弱い段階の数", "弱い段階", "支援内容",
                                  "推奨する支援", "アセスメント得点", "理由"]]
downloads = st.columns([2, 2, 5])
downloads[0].download_button("訪問計画（CSV）", export.csv_bytes(plan_table), file_name="visit_plan.csv",
                             mime=export.CSV_MIME, icon=":material/download:")
downloads[1].download_button("訪問計画と優先度一覧（Excel）",
                             export.excel_bytes({"訪問計画": plan_table, "支援優先度": priority_table}, notes),
                             file_name="support_plan.xlsx", mime=export.XLSX_MIME, icon=":material/table:")
st.caption(f"{style.MISSING_LABEL}や未回答の段階は「弱い段階」として数え、支援の対象から漏らしません。")
