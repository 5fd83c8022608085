"""Sentences match their numbers: every generated sentence is computed from the same filtered
frame as the figure beside it. Over several filter combinations (北海道 × 5万未満, 兵庫県 × 町,
全国, a region of data/regions.csv) each number and each municipality, band or prefecture named in
a sentence is checked against the table or figure it describes — on the 概要 page (AppTest: KPI,
map, band table, ranking chart), the committee deck's views and the カルテ export — with the
reference figures computed here independently from the store."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_app_pages import open_app

from metrics.composite import composite
from metrics.filters import Filter, select_municipalities
from views.render import render_view

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"[+-]?\d[\d,]*(?:\.\d+)?"
HYOGO_REGIONS = "兵庫県 県民局・センター"
# (query parameters of the page, the same selection as a Filter, the scope the page names)
SELECTIONS = [
    ({"pref": "北海道", "band": ["5万未満"]}, Filter(pref_code="01", pop_bands=("5万未満",))),
    ({"pref": "兵庫県", "type": ["町"]}, Filter(pref_code="28", types=("町",))),
    ({}, Filter()),
    (
        {"pref": "兵庫県", "rset": HYOGO_REGIONS, "region": "但馬"},
        Filter(pref_code="28", region_set=HYOGO_REGIONS, region="但馬"),
    ),
    ({"band": ["5万未満", "5～10万"]}, Filter(pop_bands=("5万未満", "5～10万"))),
]


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(NUMBER, text)]


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _sentences(at: AppTest, marker: str) -> str:
    hits = [unescaped(m.value) for m in at.markdown if marker in unescaped(m.value)]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def _chart(at: AppTest, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key))
    return json.loads(chart.proto.spec)


def _array(encoded) -> list:
    """A plotly array from a figure's JSON (plain or base64-packed)."""
    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).tolist()
    return list(encoded)


def _scores(con, flt: Filter) -> pd.DataFrame:
    """Composite scores of the selection, with name, prefecture, band and type (independently of
    the page: the composite family and the municipality filter)."""
    chosen = select_municipalities(con, flt)
    scores = composite(con)
    scores = scores[scores["pillar"] == "総合"][["code", "score"]]
    return chosen.merge(scores, on="code", how="left")


@pytest.mark.parametrize("query, flt", SELECTIONS, ids=["北海道×5万未満", "兵庫県×町", "全国", "但馬", "全国×10万未満"])
def test_overview_sentences_match_kpi_band_table_and_ranking(real_db, real_con, monkeypatch, query, flt):
    at = open_app(monkeypatch, real_db, **query)
    assert not at.exception, [e.message for e in at.exception]
    selected = _scores(real_con, flt)
    everyone = _scores(real_con, Filter())
    median, national = selected["score"].median(), everyone["score"].median()

    # map: the selection's median is the KPI's, beside the nation's
    kpi = next(m.value for m in at.metric if m.label == "総合得点 中央値")
    assert kpi == f"{median:.1f}点"
    sentence = _sentences(at, "の「デジタル庁指標 総合得点」の中央値は")
    assert f"の中央値は{median:.1f}点" in sentence
    if flt != Filter():
        assert f"全国の中央値（{national:.1f}点）を{abs(median - national):.1f}点" in sentence
    missing = int(selected["score"].isna().sum())
    assert (f"データのない団体が{missing:,}団体" in sentence) == (missing > 0)

    # ranking: the bars are the prefectures over the selection's bands and types; the sentences read them
    basis = _scores(real_con, Filter(pop_bands=flt.pop_bands, types=flt.types))
    by_pref = basis.dropna(subset=["score"]).groupby(["pref_code", "pref_name"])["score"].median().reset_index()
    by_pref = by_pref.sort_values(["score", "pref_code"], ascending=[False, True]).set_index("pref_name")["score"]
    bars = _chart(at, "ov_ranking")["data"][0]
    assert [label.split(". ", 1)[1] for label in bars["y"]] == list(by_pref.index)
    assert _array(bars["x"]) == pytest.approx(list(by_pref.values))
    ranking = _sentences(at, "都道府県別の中央値の上位は")
    top = re.findall(rf"([^、（は]+?)（({NUMBER})点）", ranking.split("上位は", 1)[1].split("。")[0])
    assert [(name, float(value)) for name, value in top] == [(n, round(v, 1)) for n, v in by_pref.head(3).items()]
    if flt.pref_code:
        pref_name = selected["pref_name"].iloc[0]
        rank = list(by_pref.index).index(pref_name) + 1
        assert f"{pref_name}は{by_pref[pref_name]:.1f}点で{len(by_pref)}都道府県中{rank}位。" in ranking
        if not flt.region_set:  # the selection is the prefecture's bar: its rank is said under the map too
            assert f"{pref_name}は{len(by_pref)}都道府県中{rank}位" in sentence
            assert by_pref[pref_name] == pytest.approx(median)
        else:
            assert "都道府県中" not in sentence
    if flt.pop_bands or flt.types:
        assert ranking.startswith(
            "・".join(filter(None, ["人口 " + "・".join(flt.pop_bands) if flt.pop_bands else "", "・".join(flt.types)]))
            + "の団体でみた"
        )

    # population bands: only bands of the selection are named, with its counts and medians (the table beside)
    table = next(d.value for d in at.dataframe if "人口規模" in d.value.columns)
    band_sentence = _sentences(
        at,
        "人口規模別にみると" if selected["pop_band"].nunique() > 1 else "」の中央値は" + selected["pop_band"].iloc[0],
    )
    named = re.findall(rf"(\d[^（、]*?万(?:未満|以上)?)（({NUMBER})団体）の?で?({NUMBER})点", band_sentence)
    assert named, band_sentence
    for band, count, value in named:
        members = selected[selected["pop_band"] == band]
        assert len(members) == int(count.replace(",", "")) > 0, f"{band} is not in the selection"
        assert float(value) == round(members["score"].median(), 1)
        row = table[table["人口規模"] == band].iloc[0]
        assert row["団体数"] == len(members) and row.iloc[3] == f"{members['score'].median():.1f}点"
    medians = selected.dropna(subset=["score"]).groupby("pop_band")["score"].median()
    if len(medians) > 1:
        assert named[0][0] == medians.idxmin() and named[-1][0] == medians.idxmax()


@pytest.mark.parametrize("query, flt", SELECTIONS[:2], ids=["北海道×5万未満", "兵庫県×町"])
def test_overview_binary_sentence_counts_the_selection(real_db, real_con, monkeypatch, query, flt):
    at = open_app(monkeypatch, real_db, ind="CIOの任命", **query)
    assert not at.exception
    codes = select_municipalities(real_con, flt)["code"].tolist()
    with_data, done = real_con.execute(
        "SELECT count(value), count(*) FILTER (WHERE value = 1) FROM indicator_values WHERE indicator_id = 'da_cio' "
        "AND code IN (SELECT unnest(?))",
        [codes],
    ).fetchone()
    sentence = _sentences(at, "を実施している団体は")
    assert f"{with_data:,}団体中{done:,}団体（{100 * done / with_data:.0f}%）" in sentence
    shares = next(d.value for d in at.dataframe if "区分" in d.value.columns)
    assert int(shares.loc[shares["区分"] == "実施", "団体数"].iloc[0]) == done


@pytest.mark.parametrize("query, flt", SELECTIONS[:2] + SELECTIONS[3:4], ids=["北海道×5万未満", "兵庫県×町", "但馬"])
def test_overview_survey_score_sentences_on_the_demo(demo_db, demo_con, monkeypatch, query, flt):
    """The assessment score (survey answers, the sidebar's newest round): KPI, map sentence and band
    sentence say the median of the same municipalities."""
    from metrics.assessment import assessment_scores

    at = open_app(monkeypatch, demo_db, ind="アセスメント総合得点", **query)
    assert not at.exception, [e.message for e in at.exception]
    scores = assessment_scores(demo_con, flt, round_ids=["2026-evaluation"])
    overall = select_municipalities(demo_con, flt)[["code", "pop_band"]].merge(
        scores[scores["level"] == "overall"][["code", "score"]], on="code", how="left"
    )
    median = overall["score"].median()
    assert next(m.value for m in at.metric if m.label == "アセスメント 中央値") == f"{median:.1f}点"
    assert f"の「アセスメント総合得点」の中央値は{median:.1f}点" in _sentences(
        at, "の「アセスメント総合得点」の中央値は"
    )
    bands = overall.groupby("pop_band")["score"].agg(["median", "size"])
    band_sentence = _sentences(at, "人口規模別にみると" if len(bands) > 1 else "」の中央値は" + bands.index[0])
    named = re.findall(rf"(\d[^（、]*?万(?:未満|以上)?)（({NUMBER})団体）の?で?({NUMBER})点", band_sentence)
    assert named, band_sentence
    for band, count, value in named:
        assert (int(count), float(value)) == (bands.loc[band, "size"], round(bands.loc[band, "median"], 1))


# ---------------------------------------------------------------- the deck's views


def _table_numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


@pytest.mark.parametrize("prefecture", ["北海道", "兵庫県", None])
def test_deck_sentences_describe_their_views(real_con, prefecture):
    flt = Filter(pref_code={"北海道": "01", "兵庫県": "28"}[prefecture]) if prefecture else Filter()
    selected = _scores(real_con, flt)
    scope = prefecture or "全国"

    shown = render_view(real_con, {"view": "overview_map", "measure": "composite"}, prefecture)
    values = _table_numbers(shown.table["総合得点"])
    assert len(shown.table) == len(selected)
    assert f"{scope}の「デジタル庁指標 総合得点」の中央値は{values.median():.1f}点" in shown.commentary[0]

    ranking = render_view(real_con, {"view": "ranking", "measure": "composite"}, prefecture)
    if (
        prefecture
    ):  # the municipalities of the prefecture, best first: the sentence names the table's first three and last
        table = ranking.table
        top = re.findall(rf"([^、（]+?)（({NUMBER})点）", ranking.commentary[0].split("順に、", 1)[1])
        assert [(n, float(v)) for n, v in top] == [
            (n, round(v, 1)) for n, v in zip(table["市区町村"][:3], table["総合得点"][:3])
        ]
        assert set(n for n, _ in top) <= set(selected["name"])
        worst = table.iloc[-1]
        assert ranking.commentary[1] == f"最も低いのは{worst['市区町村']}（{worst['総合得点']:.1f}点）。"
    else:
        table = ranking.table
        top = re.findall(rf"([^、（は]+?)（({NUMBER})点）", ranking.commentary[0].split("上位は", 1)[1])
        assert [(n, float(v)) for n, v in top] == [
            (n, round(v, 1)) for n, v in zip(table["都道府県"][:3], table["中央値"][:3])
        ]
        last = table.dropna(subset=["中央値"]).iloc[-1]
        assert ranking.commentary[1] == f"最も低いのは{last['都道府県']}（{last['中央値']:.1f}点）。"

    crosstab = render_view(real_con, {"view": "crosstab", "measure": "composite"}, prefecture)
    totals = crosstab.table.set_index("人口規模")["計"]
    named = re.findall(rf"(\d[^（、]*?万(?:未満|以上)?)（({NUMBER})団体）の({NUMBER})点", "".join(crosstab.commentary))
    assert len(named) == 2
    for band, count, value in named:
        members = selected[selected["pop_band"] == band]
        assert totals[band] == len(members) == int(count.replace(",", ""))
        assert float(value) == round(members["score"].median(), 1)


def test_deck_progress_and_priority_sentences_count_their_tables(demo_con):
    progress = render_view(demo_con, {"view": "progress"}, "兵庫県")
    judged = progress.table["判定"].value_counts()
    comparable = int(progress.table["変化"].notna().sum())
    assert (
        f"比べられる{comparable}団体のうち改善{judged.get('改善', 0)}団体" in progress.commentary[0]
        and f"停滞{judged.get('停滞', 0)}団体、後退{judged.get('後退', 0)}団体。" in progress.commentary[0]
    )
    assert "2026年度 ベースライン（当初）→2026年度 評価（年度末）" in progress.commentary[0]
    best = progress.table.iloc[0]
    assert progress.commentary[1].startswith(f"最も改善したのは{best['市区町村']}（{best['変化']:+.1f}点）")

    priority = render_view(demo_con, {"view": "priority"}, "兵庫県")
    levels = priority.table["支援優先度"].value_counts()
    assessed = int(priority.table["支援優先度"].isin(["高", "中", "低"]).sum())
    assert priority.commentary[0] == (
        f"兵庫県でアセスメントに回答した{assessed}団体のうち、支援優先度「高」は{levels.get('高', 0)}団体"
        f"（{100 * levels.get('高', 0) / assessed:.0f}%）、「中」は{levels.get('中', 0)}団体。"
    )


def test_karte_sentences_match_its_facts_and_gap_table(demo_con, tmp_path):
    from pptx import Presentation

    from exports import images
    from exports.karte import build_karte
    from metrics.assessment import assessment_scores

    karte = render_view(demo_con, {"view": "karte", "code": "282014"}, None)
    maturity, priority, gap = karte.commentary
    # the gap sentence is the gap table's row furthest below the peers, with the table's value and peer median
    facts = karte.table.set_index("指標")
    title, value, peer = re.match(
        r"同じ人口規模の団体と比べて最も差が大きいのは「(.+)」（(.+)、同規模の中央値(.+)）。", gap
    ).groups()
    short = demo_con.execute("SELECT coalesce(short_title, title) FROM indicators WHERE title = ?", [title]).fetchone()[
        0
    ]
    row = facts.loc[short]
    assert (row["値"], row["同規模の中央値"]) == (value, peer)
    assert row["差（同規模）"] == facts["差（同規模）"].min()
    # the weakest stage of its newest round, as the store's scores say
    scores = assessment_scores(demo_con, Filter(codes=("282014",)))
    stages = scores[(scores["level"] == "stage") & (scores["round_id"] == "2026-evaluation")].sort_values(
        ["score", "stage"]
    )
    assert (
        f"STEP{int(stages['stage'].iloc[0])}（{stages['stage_name'].iloc[0]}、{stages['score'].iloc[0]:.1f}点）"
        in maturity
    )
    if images.chromium_path() is None:
        return
    # the one-page カルテ prints the same maturity and priority beside the sentences
    out = build_karte(demo_con, "282014", tmp_path / "karte.pptx")
    text = "\n".join(
        shape.text_frame.text
        for slide in Presentation(str(out)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    label = re.match(r"姫路市の成熟度は(.+?)で、", maturity).group(1)
    assert f"成熟度：{label}" in text
    assert f"支援優先度：{re.search(r'支援優先度は「(.)」', priority).group(1)}" in text
    assert gap in text


# ---------------------------------------------------------------- 進捗 and 支援計画 (survey scores: the demo)


@pytest.mark.parametrize(
    "query",
    [
        {"pref": "北海道", "band": ["5万未満"]},
        {"pref": "兵庫県", "type": ["町"]},
        {"pref": "兵庫県", "rset": HYOGO_REGIONS, "region": "但馬", "pr_part": "分野「BPR」"},
    ],
)
def test_progress_and_support_sentences_count_the_cards(demo_db, monkeypatch, query):
    at = open_app(monkeypatch, demo_db, "app_pages/progress.py", **query)
    assert not at.exception, [e.message for e in at.exception]
    cards = {m.label: int(m.value.replace(",", "").removesuffix("団体")) for m in at.metric}
    sentence = _sentences(at, "比べられる")
    comparable = cards["改善"] + cards["停滞"] + cards["後退"]
    assert (
        f"比べられる{comparable:,}団体のうち改善{cards['改善']:,}団体" in sentence
        and f"停滞{cards['停滞']:,}団体、後退{cards['後退']:,}団体。" in sentence
    )
    assert "2026年度 ベースライン（当初）→2026年度 評価（年度末）" in sentence
    improved = next(d.value for d in at.dataframe if "判定" in d.value.columns and (d.value["判定"] == "改善").all())
    if len(improved):  # the biggest improvement is the first row of the 改善 list, a member of the selection
        best = improved.iloc[0]
        assert f"最も改善したのは{best['市区町村']}（{best['変化']:+.1f}点）" in sentence

    at = open_app(monkeypatch, demo_db, "app_pages/support.py", **query)
    assert not at.exception
    cards = {m.label: int(m.value.replace(",", "").removesuffix("団体")) for m in at.metric}
    sentence = _sentences(at, "アセスメントに回答した")
    assessed = cards["支援優先度「高」"] + cards["支援優先度「中」"] + cards["支援優先度「低」"]
    scope = at.caption[0].value.split("団体")[0].rsplit("：", 1)[0]  # 「{scope}：{n}団体　｜　{round}」
    assert sentence.startswith(
        f"{scope}でアセスメントに回答した{assessed:,}団体のうち、支援優先度「高」は{cards['支援優先度「高」']:,}団体"
    )
