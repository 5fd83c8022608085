"""Saved views: the unit of 会議モード, PNG export and the PowerPoint deck.

A view is a small dict (as in a saved-views file, data/decks/*.yaml)::

    {view: <type of VIEW_TYPES>, measure: <measure id of metrics.views.measure_options, optional>,
     title: <optional override>, code: <municipality code, karte only>, table: <true: an editable
     table slide follows in the deck>}

``render_view(con, view, prefecture, theme=…)`` turns it into a ``ViewResult`` for one prefecture
(or the nation): a plotly figure built by the same builders the pages use (views/charts.py,
views/maps.py), the table the page would show (Japanese headers, for export), two or three
sentences of commentary (metrics/commentary.py), and the source and as-of lines. A view whose
data is not in the store (e.g. no assessment round yet) comes back with ``figure=None`` and a
sentence saying what is missing, so a deck keeps its shape when data arrives later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import plotly.graph_objects as go
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from metrics import commentary, views
from metrics.assessment import assessment_scores, round_labels, rounds, score_matrix
from metrics.catalog import indicator_catalog, official_indicators
from metrics.change import TRENDS, assessment_change, composite_change, default_rounds
from metrics.crosstab import bin_values, cross_table, pop_band_order
from metrics.dates import measure_dates
from metrics.definitions import COMPOSITE
from metrics.filters import Filter, select_municipalities
from metrics.gaps import gaps
from metrics.priority import NOT_ASSESSED, SURVEY_LABEL
from metrics.tables import current_priority, stored_assessment
from store.dates import japanese_date
from store.paths import DATA_DIR
from views import charts, maps, style

DEFAULT_DECK = DATA_DIR / "decks" / "committee.yaml"
VIEW_TYPES: dict[str, str] = {
    "overview_map": "地図",
    "ranking": "順位",
    "distribution": "分布",
    "crosstab": "人口規模別のクロス集計",
    "priority": "支援優先度と推奨する支援",
    "progress": "当初→評価の変化",
    "change": "前回の調査時点からの変化（デジタル庁指標）",
    "stage_field": "段階×分野の得点",
    "karte": "市町村カルテ",
}
THEMES = tuple(charts.THEMES)
DEFAULT_MEASURE = "composite"
ASSESSMENT_CREDIT = "都道府県のアセスメント調査（4段階×4分野）"
DEMO_NOTE = "デモ用の架空データ"
# top and bottom rows of a long ranking on a projector or a slide: 16–17 rows keep 18 px labels on 1366×768
PROJECTOR_RANKING_ROWS = 8
SCORE_EDGES = (0, 20, 40, 60, 80)
SCORE_LABELS = ("0〜20", "20〜40", "40〜60", "60〜80", "80〜100")


class ExportError(Exception):
    """A user error in an export request (unknown prefecture, measure or code, bad views file);
    the message is Japanese and names what was wrong."""


class ViewSpec(BaseModel):
    """One entry of a saved-views file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    view: Literal[
        "overview_map", "ranking", "distribution", "crosstab", "priority", "progress", "change", "stage_field", "karte"
    ]
    measure: str | None = None
    title: str | None = None
    code: str | None = None
    table: bool = False

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value):
        # YAML reads 282014 as an int and drops a leading zero of 012025: keep it a 6-digit text
        return None if value is None else str(value).strip().zfill(6)


class Deck(BaseModel):
    """A saved-views file: the deck's title and its views in order."""

    model_config = ConfigDict(extra="forbid")
    title: str
    views: list[ViewSpec]

    @field_validator("views")
    @classmethod
    def _not_empty(cls, value):
        if not value:
            raise ValueError("views が空です")
        return value


@dataclass
class ViewResult:
    id: str
    title: str
    subtitle: str
    figure: go.Figure | None
    table: pd.DataFrame | None
    commentary: list[str]
    source: str
    as_of: str
    prefecture: str | None
    caption: str = ""  # how to read the figure (under it on a page)
    frame: pd.DataFrame | None = None  # the map's municipalities with their values and tooltip texts


def load_deck(path: str | Path = DEFAULT_DECK) -> Deck:
    """Read and validate a saved-views file (YAML or JSON); ``ExportError`` in Japanese naming the
    file and the entry on any problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"ビューの定義ファイル「{path}」が見つかりません。") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ExportError(f"ビューの定義ファイル「{path.name}」を読めません（YAML/JSONとして不正）: {error}") from None
    if not isinstance(data, dict):
        raise ExportError(
            f"ビューの定義ファイル「{path.name}」は title と views を持つ表（マッピング）にしてください。"
        )
    try:
        return Deck.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = _location(item["loc"])
            problems.append(f"{where}: {_message(item)}")
        raise ExportError(f"ビューの定義ファイル「{path.name}」に誤りがあります。" + "／".join(problems)) from None


def _location(loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "views" and isinstance(loc[1], int):
        rest = "・".join(str(p) for p in loc[2:])
        return f"{loc[1] + 1}番目のビュー" + (f"の「{rest}」" if rest else "")
    return "「" + "・".join(str(p) for p in loc) + "」"


def _message(item: dict) -> str:
    kind = item["type"]
    if kind == "literal_error":
        return f"ビューの種類は {', '.join(VIEW_TYPES)} のいずれかです（指定: {item.get('input')!r}）"
    if kind == "missing":
        return "必須の項目がありません"
    if kind == "extra_forbidden":
        return "知らない項目です（使える項目: view, measure, title, code, table）"
    return item["msg"]


# ---------------------------------------------------------------- scope and measures


@dataclass(frozen=True)
class Scope:
    """Whom a view is about: a prefecture or the nation (a deck, 会議モード), or a page's whole
    selection (``selection``: the sidebar's filter; ``basis``: its population bands and 団体区分 in
    words, ``metrics.commentary.basis_text``)."""

    pref_code: str | None
    name: str  # 兵庫県 or 全国 (or the page's description of its selection)
    selection: Filter | None = None
    basis: str = ""

    @property
    def flt(self) -> Filter | None:
        if self.selection is not None:
            return self.selection
        return Filter(pref_code=self.pref_code) if self.pref_code else None

    @property
    def whole_prefecture(self) -> bool:
        """One prefecture's municipalities (of some bands or types): its bar of the ranking is the selection."""
        flt = self.flt
        return bool(self.pref_code) and not (flt.region_set or flt.codes)


def resolve_prefecture(con, prefecture: str | None) -> Scope:
    """「兵庫県」, 「兵庫」, '28' or '280003' → Scope; None or 「全国」 → the nation."""
    if prefecture in (None, "", commentary.NATIONAL):
        return Scope(None, commentary.NATIONAL)
    table = views.prefectures(con)
    text = str(prefecture).strip()
    if text.isdigit():
        hit = table[table["pref_code"] == text.zfill(2)[:2]]
    else:
        hit = table[table["name"].isin([text, f"{text}都", f"{text}府", f"{text}県"])]
    if hit.empty:
        raise ExportError(f"都道府県「{text}」が見つかりません。「兵庫県」のように都道府県名で指定してください。")
    return Scope(hit["pref_code"].iloc[0], hit["name"].iloc[0])


class MeasureNotLoaded(Exception):
    """A known measure (catalog indicator, assessment or composite) with no data in this store."""

    def __init__(self, title: str):
        super().__init__(title)
        self.title = title


ASSESSMENT_MEASURES = {
    "assessment": "アセスメント総合得点",
    "maturity": "成熟度レベル（0〜4）",
    "priority": "支援優先度（高・中・低）",
    "change": "アセスメント総合得点の変化",
}


def measure_row(con, measure_id: str) -> pd.Series:
    """The measure's row of ``metrics.views.measure_options``. A typo is an ``ExportError``; a
    measure the store simply has no data for yet is ``MeasureNotLoaded`` (a view then says so)."""
    options = views.measure_options(con)
    row = options[options["measure_id"] == measure_id]
    if len(row):
        return row.iloc[0]
    catalog = indicator_catalog(con).set_index("indicator_id")["title"]
    if measure_id in catalog.index:
        raise MeasureNotLoaded(catalog[measure_id])
    if measure_id in ASSESSMENT_MEASURES:
        raise MeasureNotLoaded(ASSESSMENT_MEASURES[measure_id])
    kind, _, key = measure_id.partition(":")
    family = {
        "stage": f"アセスメント STEP{key}",
        "field": f"アセスメント 分野「{key}」",
        "pillar": f"総合得点の柱「{key}」",
    }
    if measure_id == "composite":
        raise MeasureNotLoaded("デジタル庁指標 総合得点")
    if key and kind in family:
        raise MeasureNotLoaded(family[kind])
    raise ExportError(
        f"指標「{measure_id}」はこのデータベースにありません（使える指標は metrics.views.measure_options を参照）。"
    )


def _loaded_measure(con, measure_id: str) -> pd.Series | None:
    """The measure's row of ``metrics.views.measure_options``, or None when the store has no data for
    it (``measure_row`` says why in an error instead)."""
    options = views.measure_options(con)
    row = options[options["measure_id"] == measure_id]
    return row.iloc[0] if len(row) else None


def source_line(measure: pd.Series) -> str:
    """「出典：…」 of a measure, demo values marked."""
    credit = str(measure["credit"] or "")
    return (credit if credit.startswith("出典") else f"出典：{credit}") + (
        f"（{DEMO_NOTE}を含む）" if measure["synthetic"] else ""
    )


def as_of_line(con, measure: pd.Series) -> str:
    """The 調査時点／取得日 line of a measure (metrics/dates.py), or the assessment round."""
    if str(measure["group"]).startswith("アセスメント"):
        return f"調査回 {measure['as_of'] or '—'}"
    return measure_dates(con, measure).text()


def _assessment_lines(con) -> tuple[str, str]:
    known = rounds(con)
    synthetic = bool(known["synthetic"].any()) if len(known) else False
    source = f"出典：{ASSESSMENT_CREDIT}" + (f"（{DEMO_NOTE}を含む）" if synthetic else "")
    return source, (f"調査回 {round_labels(con)[known['round_id'].iloc[-1]]}" if len(known) else "調査回 なし")


def selection_lines(
    measure: pd.Series, values: pd.DataFrame, chosen: pd.DataFrame, scope: Scope, ranking: pd.DataFrame
) -> list[str]:
    """The sentences under a view of the scope's municipalities (``chosen``), from the values drawn;
    a whole prefecture's rank is read from ``ranking`` (the ranking view's bars)."""
    return commentary.selection_sentences(
        measure,
        values,
        chosen,
        scope.name,
        ranking=ranking if scope.whole_prefecture else None,
        pref_code=scope.pref_code,
        basis=scope.basis,
    )


def _missing(
    title: str, message: str, scope: Scope, source: str = "", as_of: str = "", view_id: str = ""
) -> ViewResult:
    return ViewResult(
        view_id,
        title,
        scope.name,
        None,
        None,
        [message],
        source,
        as_of,
        None if scope.pref_code is None else scope.name,
    )


# ---------------------------------------------------------------- the views


def render_view(con, view: dict | ViewSpec, prefecture: str | None, *, theme: str = "screen") -> ViewResult:
    """One saved view for a prefecture (name or code; None = the nation). ``theme``: screen,
    projector (large fonts and markers for a meeting room) or print."""
    spec = view if isinstance(view, ViewSpec) else _spec(view)
    if theme not in charts.THEMES:
        raise ExportError(f"表示テーマは {', '.join(charts.THEMES)} のいずれかです（指定: {theme}）。")
    scope = resolve_prefecture(con, prefecture)
    try:
        result = _BUILDERS[spec.view](con, spec, scope, theme)
    except MeasureNotLoaded as missing:
        result = _missing(
            f"{VIEW_TYPES[spec.view]}：{missing.title}",
            f"「{missing.title}」のデータはまだ取り込まれていません。",
            scope,
            view_id=spec.view,
        )
    if spec.title:
        result.title = spec.title
    if result.figure is not None:
        charts.themed(result.figure, theme)
    return result


def _spec(view: dict) -> ViewSpec:
    try:
        return ViewSpec.model_validate(view)
    except ValidationError as error:
        raise ExportError(
            "ビューの指定に誤りがあります。"
            + "／".join(
                f"{_location(('views', 0, *e['loc']))}: {_message(e)}".replace("1番目のビュー", "ビュー")
                for e in error.errors()
            )
        ) from None


def _map_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    measure = measure_row(con, spec.measure or DEFAULT_MEASURE)
    values = views.measure_frame(con, measure["measure_id"])
    chosen = select_municipalities(con, scope.flt)
    ranking = views.selection_ranking(values, select_municipalities(con), measure, scope.flt)
    result = map_view(measure, values, chosen, scope, ranking, source_line(measure), as_of_line(con, measure))
    result.figure = map_figure(result, measure, maps.load_geometry(con), values)
    return result


def map_view(
    measure: pd.Series,
    values: pd.DataFrame,
    chosen: pd.DataFrame,
    scope: Scope,
    ranking: pd.DataFrame,
    source: str,
    as_of: str,
) -> ViewResult:
    """The map of a measure over the scope's municipalities (``chosen``): its frame (drawn by the page's
    interactive map, or by ``map_figure`` for a slide or PNG), its table and sentences."""
    frame = maps.map_frame(values, chosen, measure)
    table = frame[["code", "pref_name", "name", "value", "label"]].rename(
        columns={
            "code": "団体コード",
            "pref_name": "都道府県",
            "name": "市区町村",
            "value": measure["short_title"],
            "label": "区分",
        }
    )
    return ViewResult(
        "overview_map",
        f"地図：{measure['title']}",
        f"{scope.name}・{len(chosen):,}団体",
        None,
        table,
        selection_lines(measure, values, chosen, scope, ranking),
        source,
        as_of,
        _pref(scope),
        caption="境界のない島しょ部の団体は点で示しています。",
        frame=frame,
    )


def map_figure(result: ViewResult, measure: pd.Series, geometry: maps.Geometry, values: pd.DataFrame) -> go.Figure:
    """The still map of a ``map_view`` (PNG, slide, the page's map for export)."""
    order = views.measure_category_order(values, measure)
    figure = maps.export_figure(result.frame, measure, geometry, "", order)
    return figure.update_layout(title=None, margin={"l": 0, "r": 0, "t": 10, "b": 0})


def _ranking_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    measure = measure_row(con, spec.measure or DEFAULT_MEASURE)
    title = f"順位：{measure['title']}"
    kind = measure["kind"]
    if kind == "category":
        return _missing(
            title,
            f"「{measure['title']}」は区分の指標のため、順位はありません。",
            scope,
            source_line(measure),
            as_of_line(con, measure),
            "ranking",
        )
    values = views.measure_frame(con, measure["measure_id"])
    if scope.pref_code and kind != "binary":
        chosen = select_municipalities(con, scope.flt)[["code", "name"]]
        frame = chosen.merge(values, on="code", how="left")
        higher_first = measure["polarity"] != "lower_is_better"
        ranked = frame.dropna(subset=["value"]).sort_values(["value", "code"], ascending=[not higher_first, True])
        ranked = ranked.reset_index(drop=True)
        ranked.insert(0, "rank", ranked["value"].rank(ascending=not higher_first, method="min").astype(int))
        shown, subtitle = ranked, f"{scope.name}の{len(ranked):,}団体"
        if theme != "screen" and len(ranked) > 2 * PROJECTOR_RANKING_ROWS:
            shown = pd.concat([ranked.head(PROJECTOR_RANKING_ROWS), ranked.tail(PROJECTOR_RANKING_ROWS)])
            subtitle = f"{scope.name}の上位・下位 各{PROJECTOR_RANKING_ROWS}団体（全{len(ranked):,}団体）"
        national, statistic = views.summary_statistic(values["value"], kind)
        figure = charts.municipality_ranking(
            shown.assign(name=shown["rank"].astype(str) + ". " + shown["name"]), measure, national, f"全国の{statistic}"
        )
        lines = commentary.municipality_ranking_sentences(measure, frame, scope.name)
        missing = int(frame["value"].isna().sum())
        if missing:
            subtitle += f"（{style.MISSING_LABEL} {missing:,}団体は含まない）"
        table = pd.DataFrame(
            {
                "順位": ranked["rank"],
                "団体コード": ranked["code"],
                "市区町村": ranked["name"],
                measure["short_title"]: ranked["value"],
            }
        )
        return ViewResult(
            "ranking",
            title,
            subtitle,
            figure,
            table,
            lines,
            source_line(measure),
            as_of_line(con, measure),
            _pref(scope),
        )
    ranking = views.selection_ranking(values, select_municipalities(con), measure, scope.flt)
    return prefecture_ranking_view(
        measure, values, ranking, scope, theme, source_line(measure), as_of_line(con, measure)
    )


def prefecture_ranking_view(
    measure: pd.Series,
    values: pd.DataFrame,
    ranking: pd.DataFrame,
    scope: Scope,
    theme: str,
    source: str,
    as_of: str,
) -> ViewResult:
    """The prefectures ranked by their municipalities' statistic (``ranking``:
    ``metrics.views.selection_ranking``), the scope's prefecture highlighted, the nation's value as a
    line; on a projector or slide the top and bottom ten (and the scope's prefecture)."""
    kind = measure["kind"]
    lines = commentary.prefecture_ranking_sentences(measure, ranking, scope.pref_code, scope.basis)
    national, statistic = views.summary_statistic(values["value"], kind)
    shown, subtitle = ranking, f"{scope.basis + 'の団体でみた' if scope.basis else ''}都道府県別の{statistic}"
    if theme != "screen" and len(ranking) > 2 * PROJECTOR_RANKING_ROWS:
        # 47 bars at room-sized fonts do not fit one slide: the top and bottom ten and the prefecture
        keep = ranking.index.isin(
            list(range(PROJECTOR_RANKING_ROWS)) + list(range(len(ranking) - PROJECTOR_RANKING_ROWS, len(ranking)))
        )
        shown = ranking[keep | (ranking["pref_code"] == scope.pref_code)]
        subtitle += f"（上位・下位 各{PROJECTOR_RANKING_ROWS}" + (f"と{scope.name}" if scope.pref_code else "") + "）"
    figure = charts.prefecture_ranking(shown, measure, scope.pref_code, national)
    table = ranking.rename(
        columns={
            "rank": "順位",
            "pref_code": "都道府県コード",
            "pref_name": "都道府県",
            "value": statistic,
            "municipalities": "団体数",
            "with_data": "データあり",
        }
    ).drop(columns="statistic")
    caption = (
        f"都道府県内の{scope.basis + 'の' if scope.basis else ''}市区町村の{statistic}（データのある団体のみ）。"
        + ("" if measure["polarity"] != "lower_is_better" else "値が小さいほど上位です。")
    )
    return ViewResult(
        "ranking",
        f"順位：{measure['title']}",
        subtitle,
        figure,
        table,
        lines,
        source,
        as_of,
        _pref(scope),
        caption=caption,
    )


def _distribution_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    measure = measure_row(con, spec.measure or DEFAULT_MEASURE)
    values = views.measure_frame(con, measure["measure_id"])
    chosen = select_municipalities(con, scope.flt)
    places = select_municipalities(con)
    ranking = views.selection_ranking(values, places, measure, scope.flt)
    return distribution_view(
        measure,
        values,
        chosen,
        places,
        pop_band_order(con),
        scope,
        selection_lines(measure, values, chosen, scope, ranking),
        source_line(measure),
        as_of_line(con, measure),
    )


def distribution_view(
    measure: pd.Series,
    values: pd.DataFrame,
    chosen: pd.DataFrame,
    places: pd.DataFrame,
    bands: list[str],
    scope: Scope,
    lines: list[str],
    source: str,
    as_of: str,
) -> ViewResult:
    """How the scope's municipalities spread: a histogram against the nation's median (numbers), or
    one bar per answer (binary, category); its table is the answers' shares, or the statistic per
    population band beside the nation's (``places``: every municipality's pop_band), which is also
    its ``frame`` for every measure but a category."""
    chosen_values = values[values["code"].isin(chosen["code"])]
    by_band = None
    if measure["kind"] != "category":
        by_band = views.band_summary(
            values.merge(places[["code", "pop_band"]], on="code"), chosen["code"], measure["kind"], bands
        )
    if measure["kind"] in ("binary", "category"):
        shares = views.category_shares(chosen_values, views.measure_category_order(values, measure))
        figure = charts.distribution(chosen_values, measure, category_shares=shares)
        table = shares.rename(columns={"label": "区分", "municipalities": "団体数", "share": "割合（%）"})
    else:
        reference, _ = views.summary_statistic(values["value"], "number")
        figure = charts.distribution(chosen_values, measure, reference)
        statistic = by_band["statistic"].iloc[0]
        table = by_band.drop(columns="statistic").rename(
            columns={
                "pop_band": "人口規模",
                "municipalities": "団体数",
                "with_data": "データあり",
                "value": f"{statistic}（{scope.name}）",
                "national": f"{statistic}（全国）",
            }
        )
    return ViewResult(
        "distribution",
        f"分布：{measure['title']}",
        f"{scope.name}・{len(chosen):,}団体",
        figure,
        table,
        lines,
        source,
        as_of,
        _pref(scope),
        frame=by_band,
    )


def _crosstab_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    measure_id = spec.measure or ("maturity" if _loaded_measure(con, "maturity") is not None else DEFAULT_MEASURE)
    measure = measure_row(con, measure_id)
    values = views.measure_frame(con, measure_id)
    chosen = select_municipalities(con, scope.flt)[["code", "pop_band"]]
    places = select_municipalities(con)
    ranking = views.selection_ranking(values, places, measure, scope.flt)
    source, as_of = source_line(measure), as_of_line(con, measure)
    return crosstab_view(measure, values, chosen, places, pop_band_order(con), scope, ranking, source, as_of)


def crosstab_view(
    measure: pd.Series,
    values: pd.DataFrame,
    chosen: pd.DataFrame,
    places: pd.DataFrame,
    bands: list[str],
    scope: Scope,
    ranking: pd.DataFrame,
    source: str,
    as_of: str,
) -> ViewResult:
    """The 兵庫-style table of population bands × answers (levels, or score classes of 20 points) for
    the scope's municipalities (``chosen``: code, pop_band), as stacked bars; ``frame`` is the table
    with its totals (計) and 「不明」 for municipalities without a value."""
    title = f"人口規模 × {measure['short_title']}"
    kind = measure["kind"]
    frame = chosen[["code", "pop_band"]].merge(values, on="code", how="left")
    if kind in ("binary", "category"):
        labels, order = frame["label"], views.measure_category_order(values, measure)
    elif kind == "level":
        labels, order = views.level_labels(frame["value"]), views.measure_category_order(values, measure)
    elif kind in ("score", "percent"):
        labels, order = bin_values(frame["value"], SCORE_EDGES, SCORE_LABELS).astype("object"), list(SCORE_LABELS)
    else:
        message = f"「{measure['title']}」は区分や得点でないため、クロス集計にしません。"
        return _missing(title, message, scope, source, as_of, "crosstab")
    if frame["value"].isna().all() and (kind != "category" or frame["label"].isna().all()):
        message = f"{scope.name}には「{measure['title']}」のデータがありません。"
        return _missing(title, message, scope, source, as_of, "crosstab")
    table = cross_table(frame.assign(区分=labels), "pop_band", "区分", bands, order)
    figure = charts.cross_table_bars(table)
    exported = table.rename_axis(index="人口規模", columns=None).reset_index()
    if kind == "category":
        lines = selection_lines(measure, values, chosen, scope, ranking)
    else:
        lines = commentary.band_sentences(measure, commentary.band_table(values, places, chosen, kind), scope.name)
    return ViewResult(
        "crosstab",
        title,
        f"{scope.name}・{len(chosen):,}団体（団体数）",
        figure,
        exported,
        lines,
        source,
        as_of,
        _pref(scope),
        frame=table,
    )


def _priority_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    # national menu + the scope's prefecture's own: for a prefecture what the build stored (metrics.tables)
    priority = current_priority(con, scope.flt)
    composite = _loaded_measure(con, "composite")
    assessment = views.national_summary(con).set_index("code")["assessment"]
    return priority_view(con, priority, scope, None, assessment, composite)


def priority_view(
    con,
    priority: pd.DataFrame,
    scope: Scope,
    round_id: str | None,
    assessment: pd.Series,
    composite: pd.Series | None,
) -> ViewResult:
    """The support priority of the scope's municipalities (``priority``: ``support_priority`` of the
    national menu and the scope's prefecture's own) and how many each menu item is recommended to;
    ``assessment``: the assessment score by code, for the table; ``composite``: the composite's
    row of ``measure_options`` (None without デジタル庁 data), whose source and date the view
    carries when no municipality has a survey sheet (the caller has it: the menu of measures is
    built once, not again for each selection)."""
    counts = views.support_counts(priority, scope.pref_code)
    figure = charts.support_items(counts[counts.groupby("item_id")["municipalities"].transform("sum") > 0])
    summary = assessment
    order = priority  # support_priority's order: 高 first, then weak stages / official points
    table = pd.DataFrame(
        {
            "支援優先度": order["priority"],
            "判定の根拠": order["basis_label"],
            "団体コード": order["code"],
            "市区町村": order["name"],
            "調査の回答": order["response"],
            "弱い段階": order["weak_stages"],
            "支援内容": order["support"],
            "推奨する支援（最大3件）": order["recommended"],
            "主な理由": order["recommended_reasons"].str.split("｜").str[0],
            "アセスメント得点": order["code"].map(summary),
        }
    ).reset_index(drop=True)
    if not (table["調査の回答"] != "対象外").any():
        table = table.drop(columns=["調査の回答"])
    # columns of the survey judgement stay out when no municipality has a sheet (official data alone)
    surveyed = (priority["basis_label"] == SURVEY_LABEL).any()
    if not surveyed:
        table = table.drop(columns=["弱い段階", "支援内容", "アセスメント得点"])
    table.attrs["slide_keep"] = [
        "推奨する支援（最大3件）",
        "主な理由",
    ]  # what the committee decides on: on the slide too
    level_counts = priority["priority"].value_counts()
    subtitle = f"{scope.name}・" + "、".join(
        f"{level} {int(level_counts.get(level, 0)):,}団体"
        for level in ("高", "中", "低", NOT_ASSESSED)
        if level_counts.get(level, 0)
    )
    unanswered = int((priority["response"] == "未回答").sum())
    if unanswered:
        subtitle += f"（うち調査に未回答 {unanswered:,}団体）"
    labels = [label for label in priority["basis_label"].unique() if label]
    if labels:
        subtitle += "・" + "／".join(labels)
    source, as_of = _assessment_lines(con)
    if not surveyed and composite is not None:  # judged from the デジタル庁 indicators alone
        source, as_of = source_line(composite), as_of_line(con, composite)
    return ViewResult(
        "priority",
        "支援優先度と推奨する支援",
        subtitle,
        figure,
        table,
        commentary.priority_commentary(con, scope.pref_code, round_id, priority=priority, scope_name=scope.name),
        source,
        as_of,
        _pref(scope),
    )


def _progress_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    base, evaluation = default_rounds(con)
    names = select_municipalities(con, scope.flt)[["code", "name"]]
    if base and evaluation:
        change = assessment_change(con, scope.flt, base, evaluation)
        rows = change[change["level"] == "overall"]
        labels = round_labels(con)
        base_label, eval_label = labels[base], labels[evaluation]
        source, _ = _assessment_lines(con)
        as_of = f"調査回 {base_label}→{eval_label}"
        subject = "アセスメント総合得点"
    else:
        dates = views.snapshot_dates(con)
        if len(dates) < 2:
            source, as_of = _assessment_lines(con)
            return _missing(
                "当初→評価の変化",
                commentary.progress_commentary(con, scope.pref_code)[0],
                scope,
                source,
                as_of,
                "progress",
            )
        change = composite_change(con, scope.flt, dates[0], dates[-1])
        rows = change[change["pillar"] == COMPOSITE]
        base_label, eval_label = views.snapshot_label(dates[0]), views.snapshot_label(dates[-1])
        composite = measure_row(con, "composite")
        source, as_of = source_line(composite), f"調査時点 {japanese_date(dates[0])}→{japanese_date(dates[-1])}"
        subject = "デジタル庁指標の総合得点"
    rows = rows.merge(names, on="code", how="inner")
    return progress_view(rows, scope, subject, base_label, eval_label, source, as_of)


def progress_view(
    rows: pd.DataFrame,
    scope: Scope,
    subject: str,
    base_label: str,
    eval_label: str,
    source: str,
    as_of: str,
    *,
    unit: str | None = "点",
    compare: tuple[str, ...] = (),
) -> ViewResult:
    """Baseline → evaluation of a score for the scope's municipalities (``rows``: code, name,
    base_score, eval_score, change, trend, trend_label; one per municipality): the slope of the six
    largest and six smallest changes (or of the comparison set ``compare``), the counts per trend and
    every municipality in the table. ``unit``: of the change (点, ポイント; None for a step such as
    未実施 → 実施)."""
    lines = commentary.progress_sentences(rows, scope.name, f"{subject}（{base_label}→{eval_label}）", unit)
    comparable = rows.dropna(subset=["change"]).sort_values(["change", "code"])
    if compare:
        shown, caption = comparable[comparable["code"].isin(compare)], "比較セットの団体"
    else:
        shown = pd.concat([comparable.tail(6), comparable.head(6)]).drop_duplicates("code")
        caption = "改善の大きい6団体と、後退（または改善の小さい）6団体"
    shown = shown.sort_values("eval_score", ascending=False)
    figure = charts.slope(shown, base_label, eval_label)
    counts = rows["trend_label"].value_counts()
    subtitle = (
        f"{scope.name}・{subject}："
        + "、".join(f"{label} {int(counts.get(label, 0)):,}団体" for label in TRENDS.values() if counts.get(label, 0))
        + ("（図は比較セットの団体）" if compare else "（図は変化の大きい団体と小さい団体 各6）")
    )
    table = rows.sort_values(["change", "code"], ascending=[False, True], na_position="last")
    table = pd.DataFrame(
        {
            "団体コード": table["code"],
            "市区町村": table["name"],
            base_label: table["base_score"],
            eval_label: table["eval_score"],
            "変化": table["change"],
            "判定": table["trend_label"],
        }
    )
    return ViewResult(
        "progress",
        f"当初→評価の変化：{subject}",
        subtitle,
        figure,
        table.reset_index(drop=True),
        lines,
        source,
        as_of,
        _pref(scope),
        caption=caption,
        frame=shown,
    )


def change_applies(measure: pd.Series) -> bool:
    """A change between two releases of the デジタル庁 data is shown for its measures with a direction."""
    official = measure["group"] in (views.GROUP_COMPOSITE, views.GROUP_DA, views.GROUP_PROCEDURES)
    return official and measure["kind"] != "category" and measure["polarity"] != "neutral"


def _change_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    """The 変化 slide: a デジタル庁 measure (default the composite) between the previous and the newest
    snapshot, for the prefecture's municipalities (or the nation)."""
    measure = measure_row(con, spec.measure or DEFAULT_MEASURE)
    title = f"前回の調査時点からの変化：{measure['title']}"
    base_as_of, eval_as_of = views.official_pair(con)
    if not change_applies(measure):
        return _missing(
            title,
            f"「{measure['title']}」はデジタル庁の向きのある指標でないため、公表データの変化を示せません。",
            scope,
            source_line(measure),
            as_of_line(con, measure),
            "change",
        )
    if base_as_of is None:
        return _missing(
            title,
            "デジタル庁データの調査時点が1つだけのため、前回からの変化はまだありません。"
            "次の公表データを取り込むと、このスライドに変化を示します。",
            scope,
            source_line(measure),
            as_of_line(con, measure),
            "change",
        )
    chosen = select_municipalities(con, scope.flt)
    rows = views.official_change(con, measure["measure_id"], base_as_of, eval_as_of)
    return change_view(measure, rows, chosen, scope, base_as_of, eval_as_of, source_line(measure))


def change_view(
    measure: pd.Series,
    change: pd.DataFrame,
    chosen: pd.DataFrame,
    scope: Scope,
    base_as_of: str,
    eval_as_of: str,
    source: str,
) -> ViewResult:
    """A デジタル庁 measure between two snapshots for the scope's municipalities (``change``:
    ``metrics.views.official_change``): the slope of the largest moves, the counts per trend, every
    municipality's two values in the table."""
    base_label, eval_label = views.snapshot_label(base_as_of), views.snapshot_label(eval_as_of)
    rows = change.merge(chosen[["code", "pref_name", "name"]], on="code", how="inner")
    rows = rows.rename(columns={"base_value": "base_score", "eval_value": "eval_score"})
    comparable = rows.dropna(subset=["change"]).sort_values(["change", "code"])
    moved = comparable[comparable["trend"] != "stalled"]
    shown = pd.concat([moved.tail(6), moved.head(6)]).drop_duplicates("code") if len(moved) else comparable.tail(6)
    figure = charts.slope(shown.sort_values("eval_score", ascending=False), base_label, eval_label)
    counts = rows["trend_label"].value_counts()
    subtitle = f"{scope.name}・{base_label} → {eval_label}：" + "、".join(
        f"{label} {int(counts.get(label, 0)):,}団体" for label in TRENDS.values() if counts.get(label, 0)
    )
    kind, unit = measure["kind"], measure["unit"]
    table = rows.sort_values(["change", "code"], ascending=[False, True], na_position="last")
    places = {"都道府県": table["pref_name"]} if not scope.pref_code else {}
    table = pd.DataFrame(
        {
            "団体コード": table["code"],
            **places,
            "市区町村": table["name"],
            base_label: [style.format_value(v, kind, unit) for v in table["base_score"]],
            eval_label: [style.format_value(v, kind, unit) for v in table["eval_score"]],
            "変化": table["change"],
            "判定": table["trend_label"],
        }
    ).reset_index(drop=True)
    return ViewResult(
        "change",
        f"前回の調査時点からの変化：{measure['title']}",
        subtitle,
        figure,
        table,
        _change_sentences(rows, scope, measure, base_label, eval_label),
        source,
        f"調査時点 {base_label} → {eval_label}",
        _pref(scope),
        caption=f"デジタル庁データの{base_label}と{eval_label}の比較（{scope.name}）。"
        "変化は良い方向を正とします。どちらかの時点に値がなければ「比較不可」。",
        frame=rows,
    )


def _change_sentences(
    rows: pd.DataFrame, scope: Scope, measure: pd.Series, base_label: str, eval_label: str
) -> list[str]:
    """Sentences about the 変化 slide, from the same rows as its table."""
    counts = rows["trend_label"].value_counts()
    improved, regressed = int(counts.get("改善", 0)), int(counts.get("後退", 0))
    comparable = int(rows["change"].notna().sum())
    lines = [
        f"{scope.name}の{len(rows):,}団体のうち、{base_label}と{eval_label}の両方に値があるのは{comparable:,}団体。"
        f"「{measure['short_title']}」が改善したのは{improved:,}団体、後退したのは{regressed:,}団体。"
    ]
    best = rows.dropna(subset=["change"]).sort_values(["change", "code"], ascending=[False, True])
    best = best[best["trend"] == "improved"]
    if len(best):
        lines.append("改善の大きい団体：" + "、".join(best["name"].head(3)) + "。")
    return lines


def _stage_field_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    matrix, n = commentary.stage_field_matrix(con, scope.pref_code)
    lines = commentary.stage_field_commentary(con, scope.pref_code)
    source, as_of = _assessment_lines(con)
    if matrix.empty:
        return _missing("段階×分野の得点", lines[0], scope, source, as_of, "stage_field")
    figure = charts.heat_table(matrix, value_name="中央値")
    table = matrix.reset_index()
    return ViewResult(
        "stage_field",
        "段階×分野の得点（中央値）",
        f"{scope.name}・{n:,}団体の中央値（0〜100点）",
        figure,
        table,
        lines,
        source,
        as_of,
        _pref(scope),
    )


def _karte_view(con, spec: ViewSpec, scope: Scope, theme: str) -> ViewResult:
    if not spec.code:
        raise ExportError("カルテのビューには団体コード（code）が必要です。")
    place = select_municipalities(con, Filter(codes=(spec.code,)))
    if place.empty:
        raise ExportError(f"団体コード「{spec.code}」の市区町村が見つかりません。")
    row = place.iloc[0]
    own = Scope(row["pref_code"], row["pref_name"])
    lines = commentary.municipality_commentary(con, spec.code)
    matrix = _own_matrix(con, spec.code)
    composite = _loaded_measure(con, "composite")
    if matrix is not None:
        figure = charts.heat_table(matrix)
        source, as_of = _assessment_lines(con)
    else:
        shares = views.peer_shares(con, spec.code)
        binary = shares[(shares["kind"] == "binary") & official_indicators(shares["indicator_id"])]
        figure = charts.peer_comparison(binary, row["name"], "同じ人口規模") if len(binary) else None
        source = source_line(composite) if composite is not None else ""
        as_of = as_of_line(con, composite) if composite is not None else ""
    table = karte_gap_table(con, spec.code)
    return ViewResult(
        "karte",
        f"市町村カルテ：{row['name']}（{row['pref_name']}）",
        f"{row['type']}・人口規模 {row['pop_band'] or '不明'}",
        figure,
        table,
        lines,
        source,
        as_of,
        own.name,
    )


def _own_matrix(con, code: str) -> pd.DataFrame | None:

    scores = assessment_scores(con, Filter(codes=(code,)))
    if scores.empty:
        return None
    newest = [r for r in rounds(con)["round_id"] if r in set(scores["round_id"])][-1]
    return score_matrix(scores, code, newest, value="score")


def karte_gap_table(con, code: str) -> pd.DataFrame:
    """The デジタル庁 indicators of one municipality against its population-band peers and the nation."""
    table = gaps(con, Filter(codes=(code,)))
    table = table[official_indicators(table["indicator_id"])]

    def formatted(column: str) -> list[str]:
        return [style.format_value(v, k, u) for v, k, u in zip(table[column], table["kind"], table["unit"])]

    return pd.DataFrame(
        {
            "指標": table["short_title"].fillna(table["title"]),
            "値": formatted("value"),
            "同規模の中央値": formatted("peer_median"),
            "差（同規模）": table["gap_peer"],
            "全国の中央値": formatted("national_median"),
            "差（全国）": table["gap_national"],
        }
    ).reset_index(drop=True)


def _pref(scope: Scope) -> str | None:
    return scope.name if scope.pref_code else None


_BUILDERS = {
    "overview_map": _map_view,
    "ranking": _ranking_view,
    "distribution": _distribution_view,
    "crosstab": _crosstab_view,
    "priority": _priority_view,
    "progress": _progress_view,
    "change": _change_view,
    "stage_field": _stage_field_view,
    "karte": _karte_view,
}


# ---- the カルテ's histories (app_pages/karte.py)


def official_history_view(con, code: str):
    """The デジタル庁 history as this section draws it: (trend chart, the values it draws, the table of
    every snapshot), or None with a single snapshot. The カルテ keeps it once per municipality and
    database version (``data.shared``): with hundreds of snapshots, building it on every rerun took most
    of the rerun (issue 18, 16× data)."""
    composite_history, indicator_history = views.official_history(con, code)
    history_rows, snapshot_labels = views.history_table(indicator_history)
    if len(snapshot_labels) < 2:
        return None
    series = composite_history.rename(columns={"label": "round_id", "value": "score"})
    trend = charts.history(series.dropna(subset=["score"]), {})
    kinds, units = history_rows["kind"].tolist(), history_rows["unit"].tolist()
    values = pd.DataFrame(  # all columns at once: one at a time fragments a frame of hundreds of columns
        {
            "指標": history_rows["short_title"],
            **{
                label: [style.format_value(v, k, u) for v, k, u in zip(history_rows[label], kinds, units)]
                for label in snapshot_labels
            },
            "前回からの変化": history_rows["change"],
            "判定": history_rows["trend_label"],
        }
    )
    return trend, charts.figure_table(trend), values


def assessment_history_view(con, code: str):
    """The カルテ's (chart, the values it draws) of a municipality's scores in every round, or None without a
    sheet. Kept like ``official_history_view``: with hundreds of rounds, a large part of every rerun."""
    known = rounds(con)
    history = views.score_history(stored_assessment(con, Filter(codes=(code,))), code, known["round_id"].tolist())
    if history["round_id"].nunique() < 1:
        return None
    chart = charts.history(history, dict(zip(known["round_id"], known["label"])))
    return chart, charts.figure_table(chart)
