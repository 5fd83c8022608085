"""Generated commentary: two or three Japanese sentences per chart, computed from the metrics.

Pure like the rest of ``metrics``: every function takes an open DuckDB connection (or cursor) and
returns ``list[str]``. Numbers are formatted one way everywhere: counts 「29団体」, shares 「71%」,
differences of shares 「8ポイント」, scores 「62.3点」; brackets are full-width. Missing data is
said to be missing (「データのない団体」), never counted as zero or as 未実施. Names are plain text —
callers render them escaped (st.text / markdown / a PPTX run), never as HTML.

measure_commentary(con, measure_id, pref_code=None, round_id=None, as_of=None)
    The selection's share / statistic beside the nation, the prefecture's rank, missing data.
ranking_commentary(con, measure_id, pref_code=None, …)
    Best and worst municipalities of the prefecture (numbers) or the prefectures (shares).
crosstab_commentary(con, measure_id, pref_code=None, …)
    Which population band lags and which leads.
    The three measure commentaries also come as ``measure_sentences`` / ``ranking_sentences`` /
    ``crosstab_sentences(measure, values, places, pref_code)``, from frames a page already holds
    (its measure row, the measure's values of every municipality and the municipality directory),
    so a prefecture change does not read the measure again.
selection_sentences / band_sentences / prefecture_ranking_sentences / municipality_ranking_sentences
    The same sentences from exactly the frame a figure draws — the selection on the map (any
    filter), the table by population band, the prefecture ranking, the municipalities ranked —
    so every number and name in them can be found beside them. Pages and the deck use these.
progress_sentences(rows, scope_name, subject)
    ``progress_commentary`` from the change rows a chart draws. Rounds are named by their label
    (``metrics.assessment.round_labels``), never by their id.
priority_commentary(con, pref_code=None, round_id=None, priority=None, scope_name=None)
    How many are 高 / 中, the most recommended support item, 判定不可 (of the rows given, if any).
progress_commentary(con, pref_code=None, base_round=None, eval_round=None)
    Improved / stalled / regressed counts and the biggest movers (composite snapshots when fewer
    than two assessment rounds are loaded).
stage_field_commentary(con, pref_code=None, round_id=None)
    The weakest and strongest stage × field cells of the prefecture (median scores).
municipality_commentary(con, code, round_id=None)
    One municipality: maturity, priority, its weakest stage and largest gaps to its peers.
"""

from __future__ import annotations

import math

import pandas as pd

from metrics.assessment import assessment_scores, latest_rounds, maturity, round_labels, rounds
from metrics.catalog import official_indicators
from metrics.change import assessment_change, composite_change, default_rounds
from metrics.definitions import COMPOSITE, load_questionnaire
from metrics.filters import Filter, select_municipalities
from metrics.gaps import gaps
from metrics.priority import NOT_ASSESSED, SURVEY_LABEL, support_priority
from metrics.snapshots import snapshot_dates, snapshot_label
from metrics.views import (
    band_summary,
    measure_frame,
    measure_options,
    prefecture_ranking,
    summary_statistic,
    support_counts,
)

NATIONAL = "全国"
NO_DATA = "データのない団体"


# ---------------------------------------------------------------- formatting


def count_text(n: int) -> str:
    return f"{int(n):,}団体"


def share_text(share: float) -> str:
    return f"{share:.0f}%"


def value_text(value: float, kind: str, unit: str | None = None) -> str:
    """A measure's value in a sentence: 62.3点, 45.2%, レベル2.1 (means keep a decimal), 12,345人."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "データなし"
    if kind in ("score", "change"):
        return f"{value:+.1f}点" if kind == "change" else f"{value:.1f}点"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "binary":
        return f"{value:.0f}%"
    if kind == "level":
        return f"{value:.2f}"
    unit = "" if unit is None or "=" in str(unit) else str(unit)
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    return text + unit


def difference_text(difference: float, kind: str, reference: str, unit: str | None = None) -> str:
    """「{reference}を8ポイント上回る」 / 「…下回る」 / 「…と同じ水準」 (the rounded difference is 0).
    Counts and other numbers are written in their unit (「17,724人下回る」)."""
    if kind in ("binary", "percent"):
        digits, suffix = (0, "ポイント") if kind == "binary" else (1, "ポイント")
    elif kind in ("score", "change"):
        digits, suffix = 1, "点"
    elif kind == "level":
        digits, suffix = 2, ""
    else:
        digits, suffix = 1, ""
    size = round(abs(difference), digits)
    if size == 0:
        return f"{reference}と同じ水準"
    number = f"{size:.{digits}f}" if digits else f"{size:.0f}"
    if kind not in ("binary", "percent", "score", "change", "level"):
        number = value_text(abs(difference), kind, unit)
    return f"{reference}を{number}{suffix}{'上回る' if difference > 0 else '下回る'}"


def _scope(con, pref_code: str | None) -> tuple[Filter | None, str]:
    if not pref_code:
        return None, NATIONAL
    municipalities = select_municipalities(con, Filter(pref_code=pref_code))
    name = municipalities["pref_name"].iloc[0] if len(municipalities) else str(pref_code)
    return Filter(pref_code=pref_code), name


def _pref(pref_code: str | None) -> str | None:
    return str(pref_code)[:2].zfill(2) if pref_code else None


def _scope_name(places: pd.DataFrame, pref_code: str | None) -> str:
    if not pref_code:
        return NATIONAL
    names = places.loc[places["pref_code"] == _pref(pref_code), "pref_name"]
    return names.iloc[0] if len(names) else str(pref_code)


def _measure(con, measure_id: str) -> pd.Series:
    options = measure_options(con)
    row = options[options["measure_id"] == measure_id]
    if row.empty:
        raise KeyError(f"指標「{measure_id}」はデータベースにありません。")
    return row.iloc[0]


PLACE_COLUMNS = ["code", "pref_code", "pref_name", "name", "pop_band", "pop_band_order"]


def _with_places(values: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """The measure's values (code, value, label) with each municipality's prefecture, name and band."""
    return values[["code", "value", "label"]].merge(places[PLACE_COLUMNS], on="code", how="left")


def measure_inputs(
    con, measure_id: str, round_id: str | None = None, as_of: str | None = None
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """(measure row, its values for every municipality, the municipality directory): what the
    ``*_sentences`` functions take."""
    return _measure(con, measure_id), measure_frame(con, measure_id, round_id, as_of), select_municipalities(con)


def _missing_sentence(values: pd.Series) -> list[str]:
    missing = int(values.isna().sum())
    if not missing:
        return []
    return [f"{NO_DATA}が{count_text(missing)}あり、計算から除いている。"]


def _better(kind: str, polarity: str) -> bool:
    """True when larger values are better (neutral measures are read as 'larger')."""
    return polarity != "lower_is_better"


# ---------------------------------------------------------------- one measure

# Each sentence is computed from the frame its figure draws: ``selection_sentences`` from the
# municipalities on the map, ``band_sentences`` from the table by population band,
# ``prefecture_ranking_sentences`` from the ranking the bar chart shows and
# ``municipality_ranking_sentences`` from the municipalities ranked. A page passes the frames it
# draws; ``measure_sentences`` / ``crosstab_sentences`` / ``ranking_sentences`` (and the
# ``*_commentary`` functions reading the store) build those frames for a whole prefecture.


def basis_text(pop_bands=(), types=()) -> str:
    """The part of a selection that applies to every prefecture alike (population bands and
    団体区分): 「人口 5万未満」「町・村」「人口 5万未満・町」, or '' when neither is chosen."""
    parts = (["人口 " + "・".join(pop_bands)] if pop_bands else []) + (["・".join(types)] if types else [])
    return "・".join(parts)


def selection_sentences(
    measure: pd.Series,
    values: pd.DataFrame,
    chosen: pd.DataFrame,
    scope_name: str,
    *,
    ranking: pd.DataFrame | None = None,
    pref_code: str | None = None,
    basis: str = "",
) -> list[str]:
    """The selection's share (binary), most common answer (category) or statistic (numbers)
    beside the nation's, the prefecture's rank and how many of the selection have no data.

    ``values``: the measure for every municipality (code, value, label), the national reference;
    ``chosen``: the municipalities the figure draws (a ``code`` column); ``scope_name`` names
    them. With ``ranking`` (the prefecture ranking shown beside, ``views.ranking_of``) and
    ``pref_code`` the prefecture's rank is read from it — pass it only when the selection is that
    prefecture's row of the ranking (the whole prefecture, within the ranking's ``basis``)."""
    scoped = values[values["code"].isin(chosen["code"])]
    kind, title = measure["kind"], measure["title"]
    present = scoped["value"].dropna()
    if present.empty and (kind != "category" or scoped["label"].isna().all()):
        return [f"{scope_name}には「{title}」のデータがない。"]
    if kind == "category":
        labels = scoped["label"].dropna()
        top = labels.value_counts()
        return [
            f"「{title}」で最も多い回答は「{top.index[0]}」で、{count_text(len(labels))}中{count_text(top.iloc[0])}"
            f"（{share_text(100.0 * top.iloc[0] / len(labels))}）。",
            *_missing_sentence(scoped["label"]),
        ]
    compared = len(scoped) < len(values)  # a part of the country is set beside the whole
    sentences = []
    if kind == "binary":
        done = int((present == 1).sum())
        share = 100.0 * done / len(present)
        national = 100.0 * (values["value"].dropna() == 1).mean()
        sentence = (
            f"「{title}」を実施している団体は{count_text(len(present))}中{count_text(done)}（{share_text(share)}）"
        )
        if compared:
            sentence += f"で、{difference_text(share - national, kind, f'全国平均（{share_text(national)}）')}"
        sentences.append(sentence + "。")
    else:
        value, statistic = summary_statistic(present, kind)
        national, _ = summary_statistic(values["value"], kind)
        sentence = f"{scope_name}の「{title}」の{statistic}は{value_text(value, kind, measure['unit'])}"
        if compared:
            reference = f"全国の{statistic}（{value_text(national, kind, measure['unit'])}）"
            sentence += f"で、{difference_text(value - national, kind, reference, measure['unit'])}"
        sentences.append(sentence + "。")
    if ranking is not None and pref_code:
        own = ranking[ranking["pref_code"] == _pref(pref_code)]
        if len(own) and pd.notna(own["rank"].iloc[0]):
            ranked = int(ranking["rank"].notna().sum())
            sentences.append(
                (f"{basis}の団体で比べると、" if basis else "")
                + f"{own['pref_name'].iloc[0]}は{ranked}都道府県中{int(own['rank'].iloc[0])}位"
                + ("（値が小さいほど上位）" if measure["polarity"] == "lower_is_better" else "")
                + "。"
            )
    return sentences + _missing_sentence(scoped["value"])


def band_sentences(measure: pd.Series, by_band: pd.DataFrame, scope_name: str = NATIONAL) -> list[str]:
    """By population band, from the table shown (``views.band_summary``: pop_band, municipalities,
    with_data, value, statistic): the band furthest behind and the one furthest ahead, with the
    number of the selection's municipalities in each; bands without any are not named."""
    kind, title = measure["kind"], measure["title"]
    rows = [
        (r.pop_band, r.value, r.statistic, int(r.municipalities))
        for r in by_band.itertuples()
        if r.municipalities > 0 and not pd.isna(r.value)
    ]
    if not rows:
        return [f"{scope_name}には「{title}」のデータがない。"]
    higher_first = _better(kind, measure["polarity"])
    ordered = sorted(rows, key=lambda r: r[1], reverse=higher_first)
    ahead, behind = ordered[0], ordered[-1]
    statistic = ahead[2]
    if len(rows) == 1:
        return [
            f"「{title}」の{statistic}は{ahead[0]}（{count_text(ahead[3])}）"
            f"で{value_text(ahead[1], kind, measure['unit'])}。"
        ]
    sentences = [
        f"人口規模別にみると、「{title}」の{statistic}が最も遅れているのは{behind[0]}（{count_text(behind[3])}）の"
        f"{value_text(behind[1], kind, measure['unit'])}。",
        f"最も進んでいるのは{ahead[0]}（{count_text(ahead[3])}）の{value_text(ahead[1], kind, measure['unit'])}。",
    ]
    missing = int((by_band["municipalities"] - by_band["with_data"]).sum())
    return sentences + ([f"{NO_DATA}が{count_text(missing)}あり、計算から除いている。"] if missing else [])


def prefecture_ranking_sentences(
    measure: pd.Series, ranking: pd.DataFrame, pref_code: str | None = None, basis: str = ""
) -> list[str]:
    """The top three prefectures of the ranking shown (``views.ranking_of``) and where the
    prefecture stands (or, nationally, the last one). ``basis`` names the municipalities each
    prefecture is summed up over when not all of them (「人口 5万未満」)."""
    kind, title, polarity = measure["kind"], measure["title"], measure["polarity"]
    if kind == "category":
        return [f"「{title}」は区分の指標のため、順位はつけていない。"]
    ranking = ranking.dropna(subset=["value"])
    if ranking.empty:
        return [f"「{title}」のデータがない。"]
    statistic = ranking["statistic"].iloc[0]
    top = "、".join(
        f"{r.pref_name}（{value_text(r.value, kind, measure['unit'])}）" for r in ranking.head(3).itertuples()
    )
    sentences = [(f"{basis}の団体でみた" if basis else "") + f"都道府県別の{statistic}の上位は{top}。"]
    own = ranking[ranking["pref_code"] == _pref(pref_code)] if pref_code else ranking.iloc[0:0]
    if len(own):
        row = own.iloc[0]
        sentences.append(
            f"{row['pref_name']}は{value_text(row['value'], kind, measure['unit'])}で"
            f"{len(ranking)}都道府県中{int(row['rank'])}位。"
        )
    elif not pref_code:
        last = ranking.iloc[-1]
        sentences.append(
            f"最も{'低い' if _better(kind, polarity) else '高い'}のは{last['pref_name']}"
            f"（{value_text(last['value'], kind, measure['unit'])}）。"
        )
    return sentences


def municipality_ranking_sentences(measure: pd.Series, frame: pd.DataFrame, scope_name: str) -> list[str]:
    """The best three municipalities of the frame ranked (code, name, value; missing values
    included, said to be missing) and its worst."""
    kind, title = measure["kind"], measure["title"]
    if kind == "category":
        return [f"「{title}」は区分の指標のため、順位はつけていない。"]
    higher_first = _better(kind, measure["polarity"])
    present = frame.dropna(subset=["value"]).sort_values(["value", "code"], ascending=[not higher_first, True])
    if present.empty:
        return [f"{scope_name}には「{title}」のデータがない。"]
    best = "、".join(f"{r.name}（{value_text(r.value, kind, measure['unit'])}）" for r in present.head(3).itertuples())
    sentences = [f"{scope_name}で「{title}」が{'高い' if higher_first else '低い'}順に、{best}。"]
    if len(present) > 3:
        worst = present.iloc[-1]
        sentences.append(
            f"最も{'低い' if higher_first else '高い'}のは{worst['name']}"
            f"（{value_text(worst['value'], kind, measure['unit'])}）。"
        )
    return sentences + _missing_sentence(frame["value"])


def _prefecture_frames(places: pd.DataFrame, pref_code: str | None) -> tuple[pd.DataFrame, str]:
    """The municipalities of a prefecture (all without one) and the scope's name."""
    chosen = places[places["pref_code"] == _pref(pref_code)] if pref_code else places
    return chosen, _scope_name(places, pref_code)


def measure_commentary(
    con, measure_id: str, pref_code: str | None = None, round_id: str | None = None, as_of: str | None = None
) -> list[str]:
    """The selection's share (binary), most common answer (category) or statistic (numbers) beside
    the nation, the prefecture's rank among the prefectures, and how many have no data."""
    return measure_sentences(*measure_inputs(con, measure_id, round_id, as_of), pref_code)


def measure_sentences(
    measure: pd.Series, values: pd.DataFrame, places: pd.DataFrame, pref_code: str | None = None
) -> list[str]:
    """``selection_sentences`` of a whole prefecture (or the nation) from a measure row, its values
    and the municipality directory, ranked among all prefectures."""
    chosen, scope_name = _prefecture_frames(places, pref_code)
    ranking = (
        prefecture_ranking(_with_places(values, places), measure["kind"], measure["polarity"]) if pref_code else None
    )
    return selection_sentences(measure, values, chosen, scope_name, ranking=ranking, pref_code=pref_code)


def ranking_commentary(
    con, measure_id: str, pref_code: str | None = None, round_id: str | None = None, as_of: str | None = None
) -> list[str]:
    """Numbers in a prefecture: its best three and its worst municipality. Otherwise (national, or a
    share): the top three prefectures and where the prefecture stands."""
    return ranking_sentences(*measure_inputs(con, measure_id, round_id, as_of), pref_code)


def ranking_sentences(
    measure: pd.Series, values: pd.DataFrame, places: pd.DataFrame, pref_code: str | None = None
) -> list[str]:
    """``ranking_commentary`` from a measure row, its values and the municipality directory."""
    kind = measure["kind"]
    if kind == "category":
        return prefecture_ranking_sentences(measure, pd.DataFrame(), pref_code)
    if pref_code and kind != "binary":
        chosen, scope_name = _prefecture_frames(places, pref_code)
        frame = chosen[["code", "name"]].merge(values[["code", "value"]], on="code", how="left")
        return municipality_ranking_sentences(measure, frame, scope_name)
    ranking = prefecture_ranking(_with_places(values, places), kind, measure["polarity"])
    return prefecture_ranking_sentences(measure, ranking, pref_code)


def crosstab_commentary(
    con, measure_id: str, pref_code: str | None = None, round_id: str | None = None, as_of: str | None = None
) -> list[str]:
    """By population band: the band furthest behind and the one furthest ahead (by the measure's
    statistic: 実施率, mean level or median), with the number of municipalities in each."""
    return crosstab_sentences(*measure_inputs(con, measure_id, round_id, as_of), pref_code)


def crosstab_sentences(
    measure: pd.Series, values: pd.DataFrame, places: pd.DataFrame, pref_code: str | None = None
) -> list[str]:
    """``band_sentences`` of a whole prefecture (or the nation) from a measure row, its values and
    the municipality directory."""
    if measure["kind"] == "category":
        return measure_sentences(measure, values, places, pref_code)
    chosen, scope_name = _prefecture_frames(places, pref_code)
    return band_sentences(measure, band_table(values, places, chosen, measure["kind"]), scope_name)


def band_table(values: pd.DataFrame, places: pd.DataFrame, chosen: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``views.band_summary`` of the ``chosen`` municipalities, the bands in their order."""
    bands = places.dropna(subset=["pop_band"]).sort_values("pop_band_order")["pop_band"].drop_duplicates().tolist()
    return band_summary(values.merge(places[["code", "pop_band"]], on="code"), chosen["code"], kind, bands)


# ---------------------------------------------------------------- support and progress


def priority_commentary(
    con,
    pref_code: str | None = None,
    round_id: str | None = None,
    priority: pd.DataFrame | None = None,
    scope_name: str | None = None,
) -> list[str]:
    """高 / 中 counts among the assessed municipalities, the support item recommended most often and
    how many could not be assessed. ``priority`` may pass a ``support_priority`` result (the rows
    a page shows, then named by ``scope_name``)."""
    flt, default_name = _scope(con, pref_code)
    scope_name = scope_name or default_name
    priority = support_priority(con, flt, round_id) if priority is None else priority
    counts = priority["priority"].value_counts()
    by_survey = (
        priority["basis_label"] == SURVEY_LABEL
        if "basis_label" in priority
        else priority["priority"].isin(["高", "中", "低"])
    )
    official = priority["priority"].isin(["高", "中", "低"]) & ~by_survey
    assessed, judged = int(by_survey.sum()), int(official.sum())
    not_assessed = int(counts.get(NOT_ASSESSED, 0))
    sentences = []
    if assessed:
        high, middle = (int((priority.loc[by_survey, "priority"] == level).sum()) for level in ("高", "中"))
        sentences.append(
            f"{scope_name}でアセスメントに回答した{count_text(assessed)}のうち、支援優先度「高」は"
            f"{count_text(high)}（{share_text(100.0 * high / assessed)}）、「中」は{count_text(middle)}。"
        )
    if judged:
        high = int((priority.loc[official, "priority"] == "高").sum())
        whose = "回答のない" if assessed else f"{scope_name}の"
        sentences.append(
            f"{whose}{count_text(judged)}は公開データ（デジタル庁指標）で判定し、支援優先度「高」は"
            f"{count_text(high)}（{share_text(100.0 * high / judged)}）。"
        )
    if not assessed and not judged:
        sentences.append(
            f"{scope_name}の{count_text(len(priority))}はアセスメントの回答も公開データの値もないため、支援優先度を判定できない。"
        )
    items = support_counts(priority, pref_code).groupby(["item_id", "name"], sort=False)["municipalities"].sum()
    if len(items) and items.max() > 0:
        (_, name), n = items.idxmax(), int(items.max())
        sentences.append(f"推奨する支援（1団体最大3件）で最も多いのは「{name}」（{count_text(n)}）。")
    if not_assessed:
        sentences.append(f"値のない{count_text(not_assessed)}は「{NOT_ASSESSED}」として別に数えている。")
    return sentences


def progress_commentary(
    con, pref_code: str | None = None, base_round: str | None = None, eval_round: str | None = None
) -> list[str]:
    """Improved / stalled / regressed between two assessment rounds (overall score), the biggest
    improvement and regression. With fewer than two rounds, the same for the composite of the
    first and newest デジタル庁 snapshots; with neither, says so."""
    flt, scope_name = _scope(con, pref_code)
    if base_round is None or eval_round is None:
        default_base, default_eval = default_rounds(con)
        base_round, eval_round = base_round or default_base, eval_round or default_eval
    if base_round and eval_round:
        change = assessment_change(con, flt, base_round, eval_round)
        rows = change[change["level"] == "overall"]
        labels = round_labels(con)
        subject = f"アセスメント総合得点（{labels[base_round]}→{labels[eval_round]}）"
    else:
        dates = snapshot_dates(con)
        if len(dates) < 2:
            return ["比較できる調査回が2回分そろっていないため、変化はまだ示せない。"]
        change = composite_change(con, flt, dates[0], dates[-1])
        rows = change[change["pillar"] == COMPOSITE]
        subject = f"デジタル庁指標の総合得点（{snapshot_label(dates[0])}→{snapshot_label(dates[-1])}）"
    rows = rows.merge(select_municipalities(con, flt)[["code", "name"]], on="code", how="inner")
    return progress_sentences(rows, scope_name, subject)


def progress_sentences(rows: pd.DataFrame, scope_name: str, subject: str, unit: str | None = "点") -> list[str]:
    """``progress_commentary`` from the change rows a figure draws (code, name, change,
    trend_label: one per municipality of the selection, 比較不可 included); ``subject`` names the
    score and the two rounds by their labels; ``unit`` the change's unit (点, ポイント; None: the
    change is a step such as 未実施 → 実施, and the biggest movers are not named)."""
    counts = rows["trend_label"].value_counts()
    comparable = rows.dropna(subset=["change"])
    if comparable.empty:
        return [f"{scope_name}では{subject}を比べられる団体がない。"]
    improved = int(counts.get("改善", 0))
    sentences = [
        f"{scope_name}の{subject}は、比べられる{count_text(len(comparable))}のうち改善{count_text(improved)}"
        f"（{share_text(100.0 * improved / len(comparable))}）、停滞{count_text(counts.get('停滞', 0))}、"
        f"後退{count_text(counts.get('後退', 0))}。"
    ]
    ordered = comparable.sort_values(["change", "code"], ascending=[False, True])
    best, worst = ordered.iloc[0], ordered.iloc[-1]
    movers = []
    if unit and best["change"] > 0:
        movers.append(f"最も改善したのは{best['name']}（{best['change']:+.1f}{unit}）")
    if unit and worst["change"] < 0:
        movers.append(f"最も後退したのは{worst['name']}（{worst['change']:+.1f}{unit}）")
    if movers:
        sentences.append("、".join(movers) + "。")
    not_comparable = len(rows) - len(comparable)
    if not_comparable:
        sentences.append(f"どちらかの回のデータがない{count_text(not_comparable)}は「比較不可」。")
    return sentences[:3]


def stage_field_matrix(con, pref_code: str | None = None, round_id: str | None = None) -> tuple[pd.DataFrame, int]:
    """Median cell score (0–100) per stage (rows, labelled STEPn（名前）) × field of the selection's
    newest round (or ``round_id``), and how many municipalities it is over. Empty without rounds."""
    questionnaire = load_questionnaire()
    flt, _ = _scope(con, pref_code)
    scores = assessment_scores(con, flt, round_ids=[round_id] if round_id else None)
    if scores.empty:
        return pd.DataFrame(), 0
    if not round_id:
        scores = latest_rounds(scores, rounds(con)["round_id"].tolist())
    cells = scores[scores["level"] == "cell"]
    matrix = cells.pivot_table(index="stage", columns="field", values="score", aggfunc="median")
    matrix = matrix.reindex(index=sorted(questionnaire.stages), columns=list(questionnaire.fields))
    matrix.index = [questionnaire.stage_label(s) for s in matrix.index]
    matrix.index.name, matrix.columns.name = "段階", "分野"
    return matrix, int(cells["code"].nunique())


def stage_field_commentary(con, pref_code: str | None = None, round_id: str | None = None) -> list[str]:
    """The weakest and strongest stage × field cells (median score) and the weakest stage."""
    matrix, n = stage_field_matrix(con, pref_code, round_id)
    _, scope_name = _scope(con, pref_code)
    cells = matrix.stack().dropna() if not matrix.empty else pd.Series(dtype=float)
    if cells.empty:
        return [f"{scope_name}にはアセスメントの回答がないため、段階×分野の得点を示せない。"]
    low, high = cells.idxmin(), cells.idxmax()
    sentences = [
        f"{scope_name}の{count_text(n)}の中央値で、最も低いのは「{low[0]}×{low[1]}」（{cells[low]:.1f}点）、"
        f"最も高いのは「{high[0]}×{high[1]}」（{cells[high]:.1f}点）。",
    ]
    by_stage = matrix.mean(axis=1, skipna=True).dropna()
    if len(by_stage):
        sentences.append(f"段階別では{by_stage.idxmin()}が最も弱く、4分野の平均は{by_stage.min():.1f}点。")
    return sentences


# ---------------------------------------------------------------- one municipality


def municipality_commentary(con, code: str, round_id: str | None = None) -> list[str]:
    """One municipality: maturity and weakest stage of its newest round (or ``round_id``), its
    support priority, and the デジタル庁 indicator furthest below its population-band peers."""
    flt = Filter(codes=(code,))
    place = select_municipalities(con, flt)
    if place.empty:
        raise KeyError(f"団体コード「{code}」はデータベースにありません。")
    name = place["name"].iloc[0]
    sentences = []
    scores = assessment_scores(con, flt, round_ids=[round_id] if round_id else None)
    if len(scores):
        if not round_id:
            scores = latest_rounds(scores, rounds(con)["round_id"].tolist())
        level = maturity(scores).iloc[0]
        stages = scores[scores["level"] == "stage"].dropna(subset=["score"])
        sentence = f"{name}の成熟度は{level['maturity_label']}"
        if len(stages):
            weakest = stages.sort_values(["score", "stage"]).iloc[0]
            sentence += (
                f"で、最も弱い段階はSTEP{int(weakest['stage'])}（{weakest['stage_name']}、{weakest['score']:.1f}点）"
            )
        sentences.append(sentence + "。")
        priority = support_priority(
            con, Filter(pref_code=place["pref_code"].iloc[0], codes=tuple(place["code"])), round_id
        ).iloc[0]
        support = f"、推奨する支援は{priority['recommended']}" if priority["recommended"] else ""
        sentences.append(f"支援優先度は「{priority['priority']}」{support}。")
    else:
        sentences.append(f"{name}のアセスメントの回答はまだない。")
        priority = support_priority(
            con, Filter(pref_code=place["pref_code"].iloc[0], codes=tuple(place["code"])), round_id
        )
        if len(priority) and priority.iloc[0]["basis_label"]:
            support = f"、推奨する支援は{priority.iloc[0]['recommended']}" if priority.iloc[0]["recommended"] else ""
            sentences.append(
                f"支援優先度は「{priority.iloc[0]['priority']}」（{priority.iloc[0]['basis_label']}）{support}。"
            )
    table = gaps(con, flt)
    table = table[official_indicators(table["indicator_id"])]
    behind = table.dropna(subset=["gap_peer"])
    behind = behind[behind["gap_peer"] < 0]
    if len(behind):
        worst = behind.sort_values(["gap_peer", "indicator_id"]).iloc[0]
        sentences.append(f"同じ人口規模の団体と比べて最も差が大きいのは「{worst['title']}」（{_gap_text(worst)}）。")
    elif len(table.dropna(subset=["gap_peer"])):
        sentences.append("デジタル庁の指標はすべて同じ人口規模の団体の中央値以上。")
    return sentences


def _gap_text(row: pd.Series) -> str:
    if row["kind"] == "binary":
        return (
            f"{'実施' if row['value'] == 1 else '未実施'}、"
            f"同規模の中央値は{'実施' if row['peer_median'] >= 0.5 else '未実施'}"
        )
    return (
        f"{value_text(row['value'], row['kind'], row['unit'])}、"
        f"同規模の中央値{value_text(row['peer_median'], row['kind'], row['unit'])}"
    )


__all__ = [
    "band_sentences",
    "band_table",
    "basis_text",
    "count_text",
    "crosstab_commentary",
    "crosstab_sentences",
    "difference_text",
    "measure_commentary",
    "measure_inputs",
    "measure_sentences",
    "municipality_commentary",
    "municipality_ranking_sentences",
    "prefecture_ranking_sentences",
    "priority_commentary",
    "progress_commentary",
    "progress_sentences",
    "ranking_commentary",
    "ranking_sentences",
    "selection_sentences",
    "share_text",
    "stage_field_commentary",
    "stage_field_matrix",
    "value_text",
]
