"""進捗: baseline → evaluation. Counts of improved / stalled / regressed, the change map, a slope
chart, the maturity transition matrix per field, and the lists of who improved and who stalled.
和歌山県's outcome measure is exactly this difference between the two rounds (its assessment sheet). Without an
assessment survey the same page compares two releases of the デジタル庁 data (前回 → 今回)."""

import pandas as pd
import streamlit as st

from exports.images import chart_png
from metrics import views
from metrics.assessment import rounds
from metrics.change import TRENDS, assessment_change, default_rounds
from metrics.definitions import COMPOSITE, PILLARS, load_questionnaire
from metrics.filters import select_municipalities
from metrics.rules import load_priority_rules
from ui import chrome, data, export, filters
from ui.maps import show as show_map
from views import charts, maps, render, style

selection = filters.current()
chosen = data.cached(select_municipalities)(selection.flt)
chrome.page_header("進捗", f"{selection.scope}：{len(chosen):,}団体")
known_rounds = data.cached(rounds)()
official_dates = [str(d)[:10] for d in data.cached(views.snapshots)()["as_of"] if not pd.isna(d)]

# ---- what to compare: two assessment rounds, or two releases of the デジタル庁 data (official data alone)
sources = {}
if len(known_rounds) >= 2:
    sources["assessment"] = "アセスメント（都道府県の調査）"
if len(official_dates) >= 2:
    sources["official"] = "デジタル庁指標（公表データ）"
if not sources:
    st.info(
        "比べる2時点がまだありません。デジタル庁データの新しい公表分（調査時点の異なるファイル）を取り込むか、"
        "アセスメントの回を2回以上取り込むと、当初と評価（前回と今回）の差を表示します。"
        "調査票（Excel）は「データ管理」からダウンロードできます。"
    )
    st.stop()
source = list(sources)[0]
if len(sources) > 1:
    source = st.segmented_control(
        "比べるデータ", list(sources), format_func=sources.get, default=source, key="pr_source", required=True
    )
questionnaire = load_questionnaire()
pick = st.columns([2, 2, 3])
if source == "assessment":
    labels = dict(zip(known_rounds["round_id"], known_rounds["label"].map(style.short_round_label)))
    ids = known_rounds["round_id"].tolist()
    default_base, default_eval = data.cached(default_rounds)()
    parts = (
        {"overall": COMPOSITE}
        | {f"stage:{s}": questionnaire.stage_label(s) for s in sorted(questionnaire.stages)}
        | {f"field:{f}": f"分野「{f}」" for f in questionnaire.fields}
    )
    base_round = pick[0].selectbox(
        "当初（ベースライン）",
        ids,
        index=ids.index(default_base),
        format_func=labels.get,
        key="pr_base",
        bind="query-params",
    )
    eval_round = pick[1].selectbox(
        "評価", ids, index=ids.index(default_eval), format_func=labels.get, key="pr_eval", bind="query-params"
    )
    part = pick[2].selectbox("比べる得点", list(parts), format_func=parts.get, key="pr_part", bind="query-params")
    if base_round == eval_round:
        st.warning("当初と評価に同じ回が選ばれています。別の回を選んでください。")
        st.stop()
    change = data.shared(assessment_change)(None, base_round, eval_round)
    level, _, key = part.partition(":")
    rows = change[change["level"] == ("overall" if part == "overall" else level)]
    if level == "stage":
        rows = rows[rows["stage"] == int(key)]
    elif level == "field":
        rows = rows[rows["field"] == key]
    tolerance = load_priority_rules().change_tolerance.get("assessment", 0.0)
    unit, kind, credit = "点", "score", "都道府県のアセスメント調査"
    rule = (
        f"の得点（0〜100）が {{base}} から {{eval}} に{tolerance:g}点を超えて上がれば「改善」、"
        f"{tolerance:g}点を超えて下がれば「後退」、その間は「停滞」。どちらかの回に回答のない団体は「未回答」、"
        "回答はあるが得点を出せない団体は「比較不可」として数え、どの団体も一つの判定に入ります。"
    )
else:
    labels = {day: views.snapshot_label(day) for day in official_dates}
    options = filters.measures()
    indicators = options[
        (options["group"] == views.GROUP_DA) & ~options["kind"].isin(["category"]) & (options["polarity"] != "neutral")
    ]
    parts = {
        "composite": "総合得点",
        **{f"pillar:{p}": f"柱「{p}」" for p in PILLARS},
        **dict(zip(indicators["measure_id"], indicators["short_title"])),
    }
    base_round = pick[0].selectbox(
        "前回（調査時点）",
        official_dates,
        index=len(official_dates) - 2,
        format_func=labels.get,
        key="pr_base_snap",
        bind="query-params",
    )
    eval_round = pick[1].selectbox(
        "今回（調査時点）",
        official_dates,
        index=len(official_dates) - 1,
        format_func=labels.get,
        key="pr_eval_snap",
        bind="query-params",
    )
    part = pick[2].selectbox(
        "比べる指標", list(parts), format_func=parts.get, key="pr_official_part", bind="query-params"
    )
    if base_round >= eval_round:
        st.warning("「前回」には「今回」より前の調査時点を選んでください。")
        st.stop()
    rows = data.shared(views.official_change)(part, base_round, eval_round).rename(
        columns={"base_value": "base_score", "eval_value": "eval_score"}
    )
    option = options.set_index("measure_id").loc[part] if part in set(options["measure_id"]) else None
    kind = "score" if option is None or option["kind"] == "score" else option["kind"]
    unit = "点" if kind == "score" else option["unit"]
    tolerance = load_priority_rules().change_tolerance.get("assessment" if kind == "score" else kind, 0.0)
    credit = "デジタル庁「自治体DX推進状況」"
    rule = (
        "：{base} → {eval}。良い方向への変化を「改善」、悪い方向への変化を「後退」、"
        + (f"差が{tolerance:g}以内なら" if tolerance else "変わらなければ")
        + "「停滞」、どちらかの時点に値がなければ「比較不可」。"
    )
# downloads are named by what users see: the measure, the two rounds and the area
file_part = style.file_stem(parts[part], labels[base_round], labels[eval_round], selection.area)
rows = rows[rows["code"].isin(chosen["code"])].merge(chosen[["code", "pref_name", "name"]], on="code", how="left")
base_label, eval_label = labels[base_round], labels[eval_round]
sides = ("当初", "評価") if source == "assessment" else ("前回", "今回")

# ---- how many improved
counts = rows["trend_label"].value_counts()
# 未回答 is a fact about a survey round: official snapshots have no such box
shown_trends = [label for trend, label in TRENDS.items() if source == "assessment" or trend != "not_answered"]
for column, label in zip(st.columns(len(shown_trends)), shown_trends):
    n = int(counts.get(label, 0))
    column.metric(label, f"{n:,}団体", help=f"{len(rows):,}団体中 {n / max(len(rows), 1):.0%}", border=True)
st.caption(parts[part] + rule.format(base=base_label, eval=eval_label))

# ---- change map and slope chart
map_col, slope_col = st.columns([3, 2], gap="medium")
change_measure = pd.Series(
    {
        "measure_id": "change",
        "title": f"{parts[part]}の変化",
        "short_title": "変化",
        "unit": unit,
        "kind": "change",
        "polarity": "higher_is_better",
        "group": views.GROUP_ASSESSMENT if source == "assessment" else views.GROUP_DA,
        "credit": credit,
        "as_of": f"{base_label}→{eval_label}",
        "synthetic": bool(known_rounds["synthetic"].any()) if source == "assessment" else False,
        "domain_min": float("nan"),
        "domain_max": float("nan"),
        "diverging": True,
        "description": "",
    }
)
with map_col:
    st.header("変化の地図", anchor=False)
    values = (
        rows[["code", "change"]]
        .rename(columns={"change": "value"})
        .assign(label=rows["trend_label"].where(rows["trend"] == "not_answered").astype("object"))
    )
    frame = maps.map_frame(values, chosen, change_measure)
    picked = show_map(
        frame,
        change_measure,
        data.shared(maps.load_geometry)(),
        key="pr_map",
        height=520,
        national=selection.flt.pref_code is None and selection.flt.region_set is None,
    )
    hit = rows[rows["code"] == picked]
    if len(hit):
        one = hit.iloc[0]
        st.markdown(
            f"**{one['name']}（{one['pref_name']}）**：{style.format_value(one['base_score'], kind, unit)} → "
            f"{style.format_value(one['eval_score'], kind, unit)}（{one['trend_label']}）"
        )
# the sentences count the rows the map and the slope chart draw (the whole selection, named by label)
if source == "assessment":
    subject = "アセスメント総合得点" if part == "overall" else f"アセスメント {parts[part]}の得点"
else:
    subject = f"デジタル庁指標の{parts[part]}"
progress = render.progress_view(
    rows,
    render.Scope(selection.flt.pref_code, selection.scope, selection.flt),
    subject,
    base_label,
    eval_label,
    f"出典：{change_measure['credit']}",
    f"{base_label} → {eval_label}",
    unit={"score": "点", "percent": "ポイント"}.get(kind),
    compare=tuple(selection.compare),
)
with slope_col:
    st.header(f"{sides[0]} → {sides[1]}", anchor=False)
    st.caption(progress.caption)
    shown = progress.frame
    chrome.chart(
        progress.figure,
        key="pr_slope",
        table=shown[["name", "base_score", "eval_score", "trend_label"]].rename(
            columns={"name": "市区町村", "base_score": base_label, "eval_score": eval_label, "trend_label": "判定"}
        ),
    )
    chrome.png_download(
        progress.figure,
        f"{sides[0]} → {sides[1]}：{parts[part]}",
        f"変化_{file_part}",
        "pr_slope_png",
        f"{selection.scope}・{base_label} → {eval_label}",
        progress.source,
        render=chart_png,
    )
chrome.commentary(progress.commentary)


# ---- maturity movement (assessment rounds only)
if source == "assessment":
    st.header("成熟度レベルの移動", anchor=False)
    levels = data.shared(views.maturity_levels)()
    fields = ["全体", *questionnaire.fields]
    field = st.segmented_control("分野", fields, default="全体", key="pr_field", required=True)
    matrix = views.maturity_transition(levels, base_round, eval_round, field, codes=chosen["code"].tolist())
    left, right = st.columns([3, 2], gap="medium")
    transition = charts.transition(matrix, base_label, eval_label)
    chrome.chart(transition, where=left, key="pr_transition")
    with left:
        chrome.png_download(
            transition,
            f"成熟度レベルの移動（{field}）",
            style.file_stem("成熟度レベルの移動", field, labels[base_round], labels[eval_round], selection.area),
            "pr_transition_png",
            f"{selection.scope}・{base_label} → {eval_label}",
            f"出典：{change_measure['credit']}",
            render=chart_png,
        )
    body = matrix.drop(index="計", columns="計", errors="ignore")
    up = sum(body.iat[i, j] for i in range(min(5, len(body))) for j in range(min(5, body.shape[1])) if j > i)
    down = sum(body.iat[i, j] for i in range(min(5, len(body))) for j in range(min(5, body.shape[1])) if j < i)
    same = sum(body.iat[i, i] for i in range(min(5, len(body), body.shape[1])))
    right.metric("レベルが上がった団体", f"{up:,}団体", border=True)
    right.metric("同じレベルの団体", f"{same:,}団体", border=True)
    right.metric("レベルが下がった団体", f"{down:,}団体", border=True)
    right.caption(
        "成熟度 = STEP0から順に、得点がしきい値（50点）に達した段階の数。"
        "分野別は、その分野の各段階の得点で同じ規則を当てはめたもの。"
    )

# ---- lists
st.header("改善した団体・停滞している団体", anchor=False)
columns = {
    "pref_name": "都道府県",
    "name": "市区町村",
    "base_score": base_label,
    "eval_score": eval_label,
    "change": "変化",
    "trend_label": "判定",
}
number = {c: st.column_config.NumberColumn(format="%.1f") for c in (base_label, eval_label)}
number["変化"] = st.column_config.NumberColumn(format="%+.1f")
if kind == "binary":  # 実施 / 未実施 rather than 1.0 / 0.0
    rows = rows.assign(
        **{side: [style.format_value(v, kind, unit) for v in rows[side]] for side in ("base_score", "eval_score")}
    )
improved_col, stalled_col = st.columns(2, gap="medium")
improved = rows[rows["trend"] == "improved"].sort_values("change", ascending=False)
improved_col.markdown(f"**改善**（{len(improved):,}団体、変化の大きい順）")
improved_col.dataframe(
    improved[list(columns)].rename(columns=columns), hide_index=True, height=320, column_config=number
)
stalled = rows[rows["trend"].isin(["stalled", "regressed"])].sort_values(["change", "eval_score"])
stalled_col.markdown(f"**停滞・後退**（{len(stalled):,}団体、変化の小さい順）")
stalled_col.dataframe(stalled[list(columns)].rename(columns=columns), hide_index=True, height=320, column_config=number)
table = rows[["code", *columns]].rename(columns={"code": "団体コード", **columns})
export.download(
    "変化の一覧（CSV）",
    lambda: export.csv_bytes(table),
    file_name=f"変化の一覧_{file_part}.csv",
    mime=export.CSV_MIME,
)
