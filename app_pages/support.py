"""支援計画: support priority 高/中/低 with reasons and the support menu, how many municipalities
each menu item is for, and a field-visit plan grouped by region — downloadable for the visits."""

import pandas as pd
import streamlit as st

from exports.images import chart_png
from metrics import views
from metrics.cases import recommendation_table
from metrics.definitions import load_official_rules
from metrics.filters import Filter, select_municipalities
from metrics.menus import menu_summary, menus_digest
from metrics.priority import NAME_SEPARATOR, NOT_ANSWERED, NOT_ASSESSED, REASON_SEPARATOR
from metrics.tables import current_priority
from ui import chrome, data, export, filters
from views import render, style

LEVELS = ["高", "中", "低", NOT_ASSESSED]
selection = filters.current()
chosen = data.cached(select_municipalities)(selection.flt)
pref_code = selection.flt.pref_code
chrome.page_header(
    "支援計画",
    f"{selection.scope}：{len(chosen):,}団体" + (f"　｜　{selection.round_label}" if selection.round_label else ""),
)
# the menu in force: the national one, plus the selected prefecture's own (never another prefecture's). A
# prefecture's judgement is read from what the build stored while the menus are the ones it used (a query
# instead of seconds per prefecture and round); the digest in the key shows an accepted new menu at once.
priority = data.shared(current_priority)(
    Filter(pref_code=pref_code) if pref_code else None, selection.round_id, menus_digest()
)
priority = priority[priority["code"].isin(chosen["code"])]
summary = filters.summary().set_index("code")
priority = priority.assign(
    assessment=priority["code"].map(summary["assessment"]),
    population=priority["code"].map(chosen.set_index("code")["population"]),
)
official_label = load_official_rules().label
surveyed = (priority["response"] != "対象外").any()
if not (priority["basis_label"] == "アセスメント調査による判定").any():
    st.info(
        f"アセスメントの回答がないため、支援優先度は「{official_label}」です。デジタル庁「自治体DX推進状況」の指標"
        "（CIO・全体方針・推進体制・人材・オンライン申請率など）を、同じ人口規模の団体と比べて判定しています。"
        "回答を取り込むと、弱い段階に基づく判定と並べて表示します。"
    )

# ---- how many at each level (未回答 counted on its own: every municipality of the selection is in one box)
counts = priority["priority"].value_counts()
boxes = st.columns(5 if surveyed else 4)
for column, level in zip(boxes, LEVELS):
    n = int(counts.get(level, 0))
    column.metric(
        f"支援優先度「{level}」" if level != NOT_ASSESSED else NOT_ASSESSED,
        f"{n:,}団体",
        help=f"{len(priority):,}団体中 {n / max(len(priority), 1):.0%}",
        border=True,
    )
if surveyed:
    unanswered = int((priority["response"] == NOT_ANSWERED).sum())
    boxes[4].metric(
        f"調査に{NOT_ANSWERED}",
        f"{unanswered:,}団体",
        border=True,
        help=f"この調査回に回答のない団体。優先度は「{official_label}」で付けています。",
    )
st.caption(
    f"判定の根拠: アセスメントの回答がある団体は弱い段階の数（満点の半分未満の段階が2つ以上 → 高、1つ → 中、なし → 低。"
    f"宮城県の表を再現する規則）、回答のない団体は「{official_label}」（CIOと全体方針がともにない、"
    "オンライン申請率が同じ人口規模の中央値を大きく下回る などの弱みの点数）。推奨する支援は1団体あたり最大3件で、"
    "同じ人口規模の団体との差が大きい弱みを多く埋める順に並べています。"
)

# ---- the list
st.header("支援優先度の一覧", anchor=False)
levels = st.multiselect("表示する優先度", LEVELS, default=["高", "中"], key="sp_levels", bind="query-params")
shown = priority[priority["priority"].isin(levels)] if levels else priority
table = pd.DataFrame(
    {
        "優先度": shown["priority"],
        "団体": shown["name"] + "（" + shown["pref_name"] + "）",
        "判定の根拠": shown["basis_label"],
        "推奨する支援（最大3件）": shown["recommended"],
        "主な理由": shown["recommended_reasons"].str.split(REASON_SEPARATOR).str[0].fillna(""),
    }
)
if surveyed:  # without a survey the score column would be empty on every row (shown as "None")
    table.insert(3, "調査の回答", shown["response"])
    table["アセスメント"] = shown["assessment"]
picked = st.dataframe(
    table,
    hide_index=True,
    height=360,
    on_select="rerun",
    selection_mode="single-row",
    key="sp_table",
    column_config={
        "主な理由": st.column_config.TextColumn(width="large"),
        "推奨する支援（最大3件）": st.column_config.TextColumn(width="large"),
        "アセスメント": st.column_config.NumberColumn(format="%.1f"),
    },
)
rows = picked.selection.rows if picked else []
if len(shown):
    one = shown.iloc[rows[0] if rows else 0]
    with st.container(border=True):
        # texts from the data and the menu files are shown literally (chrome.plain)
        st.markdown(
            f"**{chrome.plain(one['name'])}（{chrome.plain(one['pref_name'])}・"
            f"{chrome.plain(one['pop_band'] or '人口規模不明')}）**"
            f" — 支援優先度 **{chrome.plain(one['priority'])}**"
            + (f"（{chrome.plain(one['basis_label'])}）" if one["basis_label"] else "")
            + ("" if rows else "　<span class='dx-muted'>（一覧の先頭。行を選ぶとその団体を表示します）</span>"),
            unsafe_allow_html=True,
        )
        why_col, what_col = st.columns(2, gap="medium")
        with why_col:
            st.markdown("**理由**")
            st.markdown("\n".join(f"- {chrome.plain(r)}。" for r in one["reasons"].split("。") if r))
            if isinstance(one["survey_priority"], str) and one["survey_priority"] not in (NOT_ANSWERED,):
                st.markdown(
                    f"アセスメントによる判定 **{one['survey_priority']}**／{official_label} "
                    f"**{one['official_priority']}**"
                )
        with what_col:
            st.markdown("**推奨する支援（最大3件）**")
            recommended = recommendation_table(shown.iloc[[rows[0] if rows else 0]])
            if recommended.empty:
                st.write("推奨する支援はありません。")
            for rec in recommended.itertuples():
                st.markdown(
                    f"{rec.rank}. **{chrome.plain(rec.item)}**（{chrome.plain(rec.provider)}）  \n理由: "
                    f"{chrome.plain(rec.reason)}"
                    + (
                        f"  \n<span class='dx-muted'>同じ人口規模の参考事例: {chrome.plain(rec.cases_text)}</span>"
                        if rec.cases_text
                        else ""
                    ),
                    unsafe_allow_html=True,
                )
            others = [
                name
                for name in one["candidates"].split(NAME_SEPARATOR)
                if name and name not in set(recommended["item"])
            ]
            with st.expander(f"ほかの候補（{len(others)}件）"):
                st.markdown(
                    "\n".join(f"- {chrome.plain(name)}" for name in others) if others else "ほかの候補はありません。"
                )

# ---- both judgements side by side, where a survey exists
if (priority["basis_label"] == "アセスメント調査による判定").any():
    st.header(f"アセスメントによる判定と「{official_label}」", anchor=False)
    both = priority[priority["response"] == "回答"]
    cross = pd.crosstab(both["survey_priority"], both["official_priority"]).reindex(
        index=["高", "中", "低"], columns=["高", "中", "低", NOT_ASSESSED], fill_value=0
    )
    cross_col, list_col = st.columns([2, 3], gap="medium")
    cross_col.dataframe(cross.rename_axis(index="アセスメント", columns=official_label).reset_index(), hide_index=True)
    cross_col.caption(
        "行 = アセスメントによる判定、列 = 公開データによる判定（団体数）。対角線の外が、判定の食い違う団体です。"
    )
    disagree = both[both["disagree"]]
    list_col.markdown(f"**判定が食い違う団体**（{len(disagree):,}団体。訪問で確かめると学びの大きい団体です）")
    list_col.dataframe(
        pd.DataFrame(
            {
                "団体": disagree["name"] + "（" + disagree["pref_name"] + "）",
                "アセスメント": disagree["survey_priority"],
                official_label: disagree["official_priority"],
                "公開データの理由": disagree["official_reasons"].str.split("。").str[1:3].str.join("。"),
            }
        ),
        hide_index=True,
        height=260,
        column_config={"公開データの理由": st.column_config.TextColumn(width="large")},
    )

menu_table = menu_summary(pref_code)
own_menu = (menu_table["区分"] != "国").any()
with st.expander(
    "この画面の支援メニュー（国のメニュー" + ("と" + selection.scope + "のメニュー" if own_menu else "のみ") + "）"
):
    st.dataframe(menu_table, hide_index=True, column_config={"内容": st.column_config.TextColumn(width="large")})
    if pref_code and not own_menu:
        st.caption(f"{selection.scope}の支援メニューはまだ登録されていません。国のメニューだけで推奨しています。")
    st.caption(
        "都道府県を選ぶと、国のメニューにその都道府県のメニューが加わります（ほかの都道府県のメニューは出ません）。"
        "都道府県のメニューは「データ管理」の支援メニューのテンプレート（Excel）で差し替えられます。"
    )

# ---- the menu
# full width: the menu names are long, a half column left the bars a sliver
menu_col, region_col = st.container(), st.container()
with menu_col:
    st.header("支援メニューごとの対象団体数", anchor=False)
    plan = data.cached(render.priority_view)(
        priority,
        render.Scope(pref_code, selection.scope, selection.flt),
        selection.round_id,
        summary["assessment"],
        filters.measure("composite"),
    )
    chrome.chart(plan.figure, key="sp_items")
    st.caption(
        "推奨する支援（1団体あたり最大3件）に挙がった団体の数。国のメニュー"
        + ("と" + selection.scope + "のメニュー。" if own_menu else "のみ。")
    )
    # the counts of the page's own selection (region, band and type filters included), not the whole prefecture
    chrome.commentary(plan.commentary)
    chrome.png_download(
        plan.figure,
        "支援メニューごとの対象団体数",
        style.file_stem("支援メニューごとの対象団体数", selection.area),
        "sp_items_png",
        selection.scope + (f"・{selection.round_label}" if selection.round_label else ""),
        "出典：都道府県のアセスメント調査・デジタル庁「自治体DX推進状況」、国と都道府県の支援メニュー",
        render=chart_png,
    )

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
    st.header("地域ごとの訪問計画", anchor=False)
    if plan.empty:
        st.write("訪問の対象（支援優先度 " + "・".join(visit_levels) + "）の団体はありません。")
    else:
        per_region = plan.groupby(["region", "priority"], sort=False).size().unstack(fill_value=0)
        per_region = per_region.reindex(columns=[c for c in ("高", "中") if c in per_region.columns])
        st.dataframe(
            per_region.rename_axis("地域").reset_index().rename(columns={"高": "優先度 高", "中": "優先度 中"}),
            hide_index=True,
            height=min(35 * len(per_region) + 40, 360),
        )
    grouping = f"地域区分「{region_set}」" if region_set else "都道府県"
    st.caption(
        f"{grouping}ごとに、優先度の高い順・弱い段階（回答のない団体は公開データの弱みの点数）の多い順・"
        "アセスメント得点の低い順に並べています。調査に未回答の団体も、公開データによる判定で訪問の対象に入ります。"
    )
plan_table = plan.rename(columns=views.VISIT_PLAN_COLUMNS)
if not surveyed:  # official data alone: the survey's columns would be empty
    plan_table = plan_table.drop(columns=["調査の回答", "弱い段階", "支援内容", "アセスメント得点"])
st.dataframe(
    plan_table.drop(columns=["理由"]),
    hide_index=True,
    height=360,
    column_config={
        "アセスメント得点": st.column_config.NumberColumn(format="%.1f"),
        "推奨する支援": st.column_config.TextColumn(width="large"),
    },
)
notes = [
    ("対象", selection.scope),
    ("調査回", selection.round_label or "なし"),
    ("データ", chrome.source_line()),
    (
        "規則",
        f"アセスメント: 弱い段階の数（宮城県の表を再現する規則）。回答のない団体: {official_label}。"
        "支援メニュー: 国のメニュー" + ("と" + selection.scope + "のメニュー" if pref_code else "のみ"),
    ),
]
priority_table = priority.assign(
    recommended_reasons=priority["recommended_reasons"].str.replace(REASON_SEPARATOR, "／")
).rename(
    columns={
        "code": "団体コード",
        "pref_name": "都道府県",
        "name": "市区町村",
        "priority": "支援優先度",
        "basis_label": "判定の根拠",
        "response": "調査の回答",
        "survey_priority": "アセスメントによる判定",
        "official_priority": official_label,
        "n_weak": "弱い段階の数",
        "weak_stages": "弱い段階",
        "support": "支援内容",
        "recommended": "推奨する支援",
        "recommended_reasons": "推奨の理由",
        "candidates": "ほかの候補を含む全候補",
        "reasons": "理由",
        "assessment": "アセスメント得点",
    }
)[
    [
        "団体コード",
        "都道府県",
        "市区町村",
        "支援優先度",
        "判定の根拠",
        "調査の回答",
        "アセスメントによる判定",
        official_label,
        "弱い段階の数",
        "弱い段階",
        "支援内容",
        "推奨する支援",
        "推奨の理由",
        "ほかの候補を含む全候補",
        "アセスメント得点",
        "理由",
    ]
]
downloads = st.container(horizontal=True)
export.download(
    "訪問計画（CSV）",
    lambda: export.csv_bytes(plan_table),
    file_name=f"{style.file_stem('訪問計画', selection.area)}.csv",
    mime=export.CSV_MIME,
    where=downloads,
)
export.download(
    "訪問計画と優先度一覧（Excel）",
    lambda: export.excel_bytes({"訪問計画": plan_table, "支援優先度": priority_table}, notes),
    file_name=f"{style.file_stem('訪問計画と支援優先度', selection.area)}.xlsx",
    mime=export.XLSX_MIME,
    icon=":material/table:",
    where=downloads,
)
st.caption(f"{style.MISSING_LABEL}や未回答の段階は「弱い段階」として数え、支援の対象から漏らしません。")
