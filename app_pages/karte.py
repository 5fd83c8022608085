"""市町村カルテ: one municipality — radar of the four fields, the stage × field sheet, デジタル庁
indicators against its peers with gaps, history across rounds, similar municipalities, support
priority with reasons, recommended support and reference cases. Printable (Ctrl+P)."""

import pandas as pd
import streamlit as st

from exports.karte import build_karte
from metrics import views
from metrics.assessment import maturity, rounds, score_matrix
from metrics.cases import recommendation_table
from metrics.catalog import official_indicators
from metrics.definitions import PILLARS, load_questionnaire
from metrics.filters import Filter, select_municipalities
from metrics.gaps import gaps
from metrics.menus import menus_digest
from metrics.peers import PEER_KINDS, similar_municipalities, similarity_features
from metrics.population import population_change_line, population_history
from metrics.priority import NAME_SEPARATOR, NOT_ANSWERED
from metrics.tables import current_priority, stored_assessment
from store.dates import japanese_date
from ui import chrome, data, filters, links
from views import charts, render, style

selection = filters.current()
directory = filters.directory()
chosen = data.cached(select_municipalities)(selection.flt)
# the selection's municipalities first, so the menu opens where the sidebar points; all remain searchable
in_selection = set(chosen["code"])
order = list(chosen["code"]) + [c for c in directory["code"] if c not in in_selection]
entries = directory.set_index("code")
# built column-wise: 1,741 labels cell by cell cost a noticeable part of every rerun
search_labels = dict(
    zip(
        entries.index,
        entries["name"] + "（" + entries["pref_name"] + "）　" + entries["kana"].fillna("") + "　" + entries.index,
    )
)

chrome.page_header(
    "市町村カルテ", "1団体の現状・弱み・支援をまとめた1枚です。ブラウザの印刷（Ctrl+P）で操作部品を除いて印刷できます。"
)
links.seed("ka_code", filters.municipality_code)  # the URL names the municipality by code
code = st.selectbox(
    "団体を選ぶ（名前・よみがな・団体コードで検索）",
    order,
    format_func=search_labels.get,
    key="ka_code",
)
links.keep("ka_code", code)
chrome.built_download(
    "カルテ（PPTX・A4横1枚）",
    lambda path: build_karte(data.cursor(), code, path),
    f"{style.file_stem('カルテ', entries.at[code, 'pref_name'], entries.at[code, 'name'])}.pptx",
    "ka_pptx",
    help="この団体のカルテを印刷用の1枚（PowerPoint、A4横）にします。",
)
row = entries.loc[code]
national = filters.summary()
summary = national.set_index("code").loc[code]
known_rounds = data.cached(rounds)()
round_labels = dict(zip(known_rounds["round_id"], known_rounds["label"]))
questionnaire = load_questionnaire()
fields = list(questionnaire.fields)

# ---- who
priority_colour = style.PRIORITY_COLOURS.get(summary["priority"], style.MISSING_HEX)
# an HTML block (no markdown inside it): every text from the data is html.escape'd
st.markdown(
    f"<div style='display:flex;align-items:baseline;gap:1rem;flex-wrap:wrap;margin:0.4rem 0 0.6rem'>"
    f"<span style='font-size:2rem;font-weight:700'>{chrome.html_text(row['name'])}</span>"
    f"<span class='dx-muted'>{chrome.html_text(row['pref_name'])}・{chrome.html_text(row['type'])}"
    f"・団体コード {chrome.html_text(code)}"
    f"{'・' + chrome.html_text(row['kana']) if row['kana'] else ''}</span>"
    f"<span class='dx-badge' style='background:{chrome.html_text(priority_colour)}'>"
    f"支援優先度 {chrome.html_text(summary['priority'])}</span></div>",
    unsafe_allow_html=True,
)
band_codes = directory.loc[directory["pop_band"] == row["pop_band"], "code"]
band = national[national["code"].isin(band_codes)]
cards = st.columns(4)
population = style.format_number(row["population"])
population_years = data.cached(population_history)(code)
population_change = population_change_line(population_years)
cards[0].metric(
    "人口",
    f"{population}人",
    border=True,
    delta_color="off",
    delta=None if population_change is None else f"{population_years['change'].iloc[-1]:+,.0f}人（前回の調査時点から）",
    help=f"人口規模 {row['pop_band'] or '不明'}（同じ規模の団体 {len(band):,}、規模は最新の調査時点の人口で判定）",
)
if population_change:
    st.caption(population_change)
    if len(population_years) > 2:
        with st.expander(f"人口の推移（{len(population_years)}時点）"):
            st.dataframe(
                population_years.assign(as_of=population_years["as_of"].map(japanese_date))[
                    ["as_of", "population", "change", "change_percent"]
                ].rename(
                    columns={
                        "as_of": "調査時点",
                        "population": "人口（人）",
                        "change": "増減（人）",
                        "change_percent": "増減率（%）",
                    }
                ),
                hide_index=True,
                column_config={
                    "人口（人）": st.column_config.NumberColumn(format="localized"),
                    "増減（人）": st.column_config.NumberColumn(format="%+d"),
                    "増減率（%）": st.column_config.NumberColumn(format="%+.2f"),
                },
            )


def _vs_band(column: str) -> str | None:
    value, peer = summary[column], band[column].median()
    return None if pd.isna(value) or pd.isna(peer) else f"{value - peer:+.1f}点（同規模の中央値比）"


cards[1].metric(
    "総合得点（デジタル庁指標）",
    style.format_value(summary["composite"], "score", "点"),
    delta=_vs_band("composite"),
    border=True,
)
if len(known_rounds):
    cards[2].metric(
        "アセスメント総合得点",
        style.format_value(summary["assessment"], "score", "点"),
        delta=_vs_band("assessment"),
        border=True,
        help=f"{style.short_round_label(round_labels.get(selection.round_id, ''))}の回答から算出（0〜100）。",
    )
    change = summary["change"]
    level = summary["maturity"]
    cards[3].metric(
        "成熟度",
        style.MISSING_LABEL if pd.isna(level) else f"レベル{int(level)}",
        delta=None if pd.isna(change) else f"{float(change):+.1f}点（当初→評価の得点）",
        border=True,
        help=summary["maturity_label"] if isinstance(summary["maturity_label"], str) else None,
    )
else:
    cards[2].info("アセスメントの回答はまだ取り込まれていません。")

# ---- the sheet: radar and stage × field
# every round of this municipality, read from the metric table the build writes (equal to
# metrics.assessment.assessment_scores, which scores the survey answers of every round again)
scores = data.cached(stored_assessment)(Filter(codes=(code,)))
sheet = scores[scores["round_id"] == selection.round_id] if selection.round_id else scores.iloc[0:0]
if len(sheet):
    radar_col, table_col = st.columns(2, gap="medium")
    with radar_col:
        st.header("4分野のバランス", anchor=False)
        field_scores = sheet[sheet["level"] == "field"].set_index("field")["score"]
        series = {row["name"]: field_scores}
        answered_rounds = set(scores["round_id"])  # once, not per round: at 320 rounds that was most of a rerun
        other = [r for r in known_rounds["round_id"] if r != selection.round_id and r in answered_rounds]
        if other:
            earlier = scores[(scores["round_id"] == other[0]) & (scores["level"] == "field")].set_index("field")[
                "score"
            ]
            series[style.short_round_label(round_labels[other[0]])] = earlier
        series[f"同規模（{row['pop_band']}）の中央値"] = data.cached(views.group_field_medians)(
            tuple(band_codes), selection.round_id
        )
        chrome.chart(charts.radar(series, fields), key="ka_radar")
    with table_col:
        st.header("段階 × 分野の得点", anchor=False)
        matrix = score_matrix(scores, code, selection.round_id, value="score", questionnaire=questionnaire)
        chrome.chart(charts.heat_table(matrix), key="ka_matrix")
        levels = maturity(sheet, questionnaire=questionnaire).iloc[0]
        coverage = sheet.loc[sheet["level"] == "overall", "coverage"]
        st.caption(
            f"得点は0〜100（満点に対する割合）。回答率 {coverage.iloc[0]:.0%}。"
            + (
                ""
                if pd.isna(levels["next_stage"])
                else f"次の段階 STEP{int(levels['next_stage'])} まで あと{levels['next_gap']:.1f}点（しきい値 "
                f"{questionnaire.thresholds[int(levels['next_stage'])]:g}点）。"
            )
        )

# ---- priority, support, cases (the menu in force for this municipality: national + its own prefecture's)
# the judgement the build stored while its support menus are in force (computing it again scored the whole
# country's sheets of the round, seconds at 16× data); a menu accepted since is judged again
mine = data.cached(current_priority)(Filter(pref_code=code[:2], codes=(code,)), selection.round_id, menus_digest())
one = mine.iloc[0] if len(mine) else None
recommended = recommendation_table(mine.assign(population=row["population"])) if one is not None else pd.DataFrame()
why_col, menu_col, case_col = st.columns(3, gap="medium")
with why_col:
    st.header("支援優先度と理由", anchor=False)
    if one is not None:
        if one["basis_label"]:
            st.caption(f"判定の根拠: {one['basis_label']}")
        reasons = [r + "。" for r in one["reasons"].split("。") if r]
        st.markdown("\n".join(f"- {chrome.plain(r)}" for r in reasons))
        if one["response"] == NOT_ANSWERED:
            st.markdown(f"この調査回のアセスメントは **{NOT_ANSWERED}** です。")
        elif one["response"] == "回答":
            st.markdown(
                f"アセスメントによる判定 **{one['survey_priority']}**／公開データによる判定 "
                f"**{one['official_priority']}**"
            )
with menu_col:
    st.header("推奨する支援（最大3件）", anchor=False)
    named = set((one["support_ids"] if one is not None else "").split(","))
    if recommended.empty:
        st.write("推奨する支援はありません。")
    for rec in recommended.itertuples():
        mark = "【支援内容】" if rec.item_id in named else ""
        # markdown with an inline span: texts from the YAML are escaped for both (chrome.plain)
        st.markdown(
            f"{rec.rank}. **{mark}{chrome.plain(rec.item)}**（{chrome.plain(rec.provider)}）  \n"
            f"<span class='dx-muted'>理由: {chrome.plain(rec.reason)}</span>",
            unsafe_allow_html=True,
        )
    others = [
        n
        for n in (one["candidates"] if one is not None else "").split(NAME_SEPARATOR)
        if n and n not in set(recommended.get("item", []))
    ]
    with st.expander(f"ほかの候補（{len(others)}件）"):
        st.markdown("\n".join(f"- {chrome.plain(n)}" for n in others) if others else "ほかの候補はありません。")
with case_col:
    st.header("同じ人口規模の参考事例", anchor=False)
    shown_cases = {}
    for rec in recommended.itertuples():
        for case in rec.cases:
            shown_cases.setdefault(case["case_id"], (case, rec.item))
    if not shown_cases:
        st.write(f"推奨する支援の段階に、同じ人口規模（{row['pop_band'] or '不明'}）の参考事例はありません。")
    for case, item in shown_cases.values():
        body = case["body"] if case["body"] == case["pref_name"] else case["pref_name"] + case["body"]
        st.markdown(
            f"**{chrome.plain(case['title'])}**（{chrome.plain(body)}、人口 "
            f"{chrome.plain(case['population_text'])}）  \n"
            f"{chrome.plain(case['summary'])}  \n<span class='dx-muted'>「{chrome.plain(item)}」の参考。"
            f"出典: {chrome.plain(case['source'])} {chrome.plain(case['section'])}</span>",
            unsafe_allow_html=True,
        )

# ---- indicators against peers
st.header("デジタル庁指標：比較対象との差", anchor=False)
peer_kinds = {k: v for k, v in PEER_KINDS.items() if k != "region" or selection.flt.region_set}
peer = st.segmented_control(
    "比較対象",
    list(peer_kinds),
    format_func=lambda k: peer_kinds[k].split("（")[0],
    default="pop_band",
    key="ka_peer",
    required=True,
)
region_set = selection.flt.region_set if peer == "region" else None
gap_table = data.cached(gaps)(Filter(codes=(code,)), peer=peer, region_set=region_set, as_of=selection.as_of)
gap_table = gap_table[official_indicators(gap_table["indicator_id"])]
if peer != "similar":
    # the groups' shares are the same for every municipality: kept while the municipality changes
    group_shares = data.shared(views.peer_group_shares)(peer, region_set, selection.as_of)
    shares = data.cached(views.peer_shares)(code, peer, region_set, selection.as_of, group_shares)
    binary = shares[(shares["kind"] == "binary") & shares["indicator_id"].isin(gap_table["indicator_id"])]
    chart_col, table_col = st.columns([2, 3], gap="medium")
    with chart_col:
        chrome.chart(charts.peer_comparison(binary, row["name"], peer_kinds[peer].split("（")[0]), key="ka_peers")
else:
    table_col = st.container()
with table_col:
    shown = pd.DataFrame(
        {
            "指標": gap_table["short_title"],
            "値": [
                style.format_value(v, k, u) for v, k, u in zip(gap_table["value"], gap_table["kind"], gap_table["unit"])
            ],
            "比較対象の中央値": [
                style.format_value(v, k, u)
                for v, k, u in zip(gap_table["peer_median"], gap_table["kind"], gap_table["unit"])
            ],
            "差（比較対象）": gap_table["gap_peer"],
            "全国の中央値": [
                style.format_value(v, k, u)
                for v, k, u in zip(gap_table["national_median"], gap_table["kind"], gap_table["unit"])
            ],
            "差（全国）": gap_table["gap_national"],
            "目標との差": gap_table["gap_target"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        height=35 * len(shown) + 40,
        column_config={
            c: st.column_config.NumberColumn(format="%+.1f") for c in ("差（比較対象）", "差（全国）", "目標との差")
        },
    )
    group = gap_table["peer_group"].dropna()
    st.caption(
        "差は「正 = 比較対象より良い」。実施/未実施の指標は 1 = 実施、率は%ポイント。"
        + (f"比較対象: {group.iloc[0]}（{int(gap_table['n_peers'].max())}団体）。" if len(group) else "")
    )

# ---- the デジタル庁 figures at every snapshot: change since the previous release
st.header("デジタル庁指標の推移（調査時点ごと）", anchor=False)


# one 800-snapshot デジタル庁 history (16× data) holds about 20 MB: fewer entries than other shared results
HISTORY_ENTRIES = 32
official = data.shared(render.official_history_view, HISTORY_ENTRIES)(code)
if official is None:
    st.caption(
        "デジタル庁データの調査時点が1つだけのため、推移はまだありません。"
        "次の公表データを取り込むと、前回の調査時点からの変化をここに表示します。"
    )
else:
    trend, trend_table, shown = official
    trend_col, values_col = st.columns([2, 3], gap="medium")
    with trend_col:
        chrome.chart(trend, key="ka_official_history", table=trend_table)
        st.caption("総合得点と4つの柱（0〜100）。")
    with values_col:
        st.dataframe(
            shown,
            hide_index=True,
            height=35 * len(shown) + 40,
            column_config={"前回からの変化": st.column_config.NumberColumn(format="%+.1f")},
        )
        st.caption("変化は良い方向を正とします（実施/未実施は 1 = 実施、率は%ポイント）。")

# ---- history and similar municipalities
hist_col, similar_col = st.columns(2, gap="medium")
with hist_col:
    st.header("回ごとの推移", anchor=False)
    assessment_history = data.shared(render.assessment_history_view, HISTORY_ENTRIES)(code)
    if assessment_history is not None:
        chrome.chart(assessment_history[0], key="ka_history", table=assessment_history[1])
    else:
        st.write("アセスメントの回答がありません。")
with similar_col:
    st.header("類似団体", anchor=False)
    features = data.shared(similarity_features)(selection.round_id)
    similar = data.cached(similar_municipalities)(
        Filter(codes=(code,)), k=5, round_id=selection.round_id, feature_frame=features
    )
    similar = similar.merge(
        national[["code", "composite", "assessment", "priority"]],
        left_on="peer_code",
        right_on="code",
        how="left",
        suffixes=("", "_peer"),
    )
    table = pd.DataFrame(
        {
            "順位": similar["rank"],
            "団体": similar["peer_name"] + "（" + similar["peer_pref_name"] + "）",
            "総合得点": similar["composite"],
            "アセスメント": similar["assessment"],
            "支援優先度": similar["priority"],
        }
    )

    def _open_similar():
        rows = st.session_state["ka_similar"].selection.rows
        if rows:
            st.session_state["ka_code"] = similar.iloc[rows[0]]["peer_code"]

    st.dataframe(
        chrome.filled_columns(table),
        hide_index=True,
        on_select=_open_similar,
        selection_mode="single-row",
        key="ka_similar",
        column_config={c: st.column_config.NumberColumn(format="%.1f") for c in ("総合得点", "アセスメント")},
    )
    if len(similar):
        st.caption(f"近さの基準: {similar['features_used'].iloc[0]}。行を選ぶとその団体のカルテに切り替わります。")

# ---- the comparison set
st.header("比較セットとの比較", anchor=False)
others = [c for c in selection.compare if c != code]
if code not in selection.compare and len(selection.compare) < filters.MAX_COMPARE:

    def _add_to_set():
        st.session_state["cmp"] = list(selection.compare) + [code]

    st.button("この団体を比較セットに追加", on_click=_add_to_set, icon=":material/playlist_add:")
if others:
    columns = [
        "name",
        "pref_name",
        "composite",
        *PILLARS,
        "assessment",
        "maturity",
        "priority",
    ]
    compared = national.set_index("code").loc[[code] + others, [c for c in columns if c in national.columns]]
    st.dataframe(
        compared.reset_index(drop=True).rename(
            columns={
                "name": "団体",
                "pref_name": "都道府県",
                "composite": "総合得点",
                "assessment": "アセスメント",
                "maturity": "成熟度",
                "priority": "支援優先度",
            }
        ),
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%.1f") for c in ("総合得点", *PILLARS, "アセスメント")},
    )
else:
    st.caption("サイドバーの「比較セット」に団体を加えると、ここに並べて表示します。")
