"""The shared sidebar: which municipalities (prefecture, region, population band, 団体区分), which
measure, round and snapshot, and the hand-picked comparison set.

Every widget is bound to the URL (``bind="query-params"``; the key is the query parameter), so a
copied link opens the same view. The values in the URL are the labels shown (``?ind=CIOの任命``), except
for municipalities and prefectures, which the URL names by code (``?pref=28&cmp=282014``; ui.links),
old links with their names still opening the same view.
``render`` draws the sidebar once per run (app.py) and keeps the ``Selection``; pages read it with
``current``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from metrics import views
from metrics.assessment import rounds
from metrics.catalog import region_sets
from metrics.crosstab import pop_band_order
from metrics.filters import Filter, select_municipalities
from ui import data, links
from views import style

TYPES = ("政令市", "中核市", "一般市", "特別区", "町", "村")
MAX_COMPARE = 10
NATIONAL = "全国"
ALL = "*"
CHOOSE = "選んでください"  # the menus' placeholder (Streamlit's own is English)
_STATE_KEY = "_dx_selection"


@dataclass(frozen=True)
class Selection:
    """The sidebar's choice. ``flt`` selects municipalities for the metrics; the rest names the
    measure (``measure_id`` of metrics.views), the assessment round, the デジタル庁 snapshot and
    the comparison set (6-digit codes, at most 10)."""

    flt: Filter
    pref_name: str | None
    measure_id: str | None
    round_id: str | None
    round_label: str | None
    as_of: str | None
    compare: tuple[str, ...] = ()

    @property
    def area(self) -> str:
        """The prefecture chosen, or 「全国」: what a view and its downloads are named after."""
        return self.pref_name or NATIONAL

    @property
    def scope(self) -> str:
        """「全国」「兵庫県」「兵庫県 県民局・センター：但馬」 plus band and type filters."""
        parts = [self.area]
        if self.flt.region_set:
            parts.append(f"{self.flt.region_set}：{self.flt.region}" if self.flt.region else self.flt.region_set)
        if self.flt.pop_bands:
            parts.append("人口 " + "・".join(self.flt.pop_bands))
        if self.flt.types:
            parts.append("・".join(self.flt.types))
        return "／".join(parts)


def municipality_label(frame: pd.DataFrame) -> dict[str, str]:
    """code → 「姫路市（兵庫県）」, the label used in menus and in the URL."""
    return dict(zip(frame["code"], frame["name"] + "（" + frame["pref_name"] + "）"))


def _directory_labels(con) -> dict[str, str]:
    return municipality_label(select_municipalities(con))


def directory_labels() -> dict[str, str]:
    """``municipality_label`` of every municipality, made once per database version (read-only):
    the sidebar's menus need it on every rerun."""
    return data.shared(_directory_labels)()


def prefecture_code(text: str) -> str | None:
    """The prefecture a link names, by code (``28``), group code (``280003``) or name (``兵庫県``,
    as older links carried it); 「全国」 is no restriction (``ALL``); None for anything else."""
    text = text.strip()
    if text in (ALL, NATIONAL):
        return ALL
    prefectures = data.cached(views.prefectures)()
    known = {
        **dict(zip(prefectures["name"], prefectures["pref_code"])),
        **dict(zip(prefectures["code"], prefectures["pref_code"])),
        **dict(zip(prefectures["pref_code"], prefectures["pref_code"])),
    }
    return known.get(text)


def municipality_code(text: str) -> str | None:
    """The municipality a link names: its code (``281000``, or the 5 digits without the check
    digit), or a label older links carried (「神戸市（兵庫県）」, or the カルテ menu's
    「神戸市（兵庫県）　こうべし　281000」); None for anything else."""
    frame = directory()
    codes = set(frame["code"])
    words = text.split()  # the カルテ label's parts are separated by full-width spaces
    if not words:
        return None
    for candidate in (words[-1], text.strip()):
        if candidate in codes:
            return candidate
        if len(candidate) == 5 and candidate.isdigit():
            found = [code for code in codes if code.startswith(candidate)]
            if len(found) == 1:
                return found[0]
    by_label = {label: code for code, label in directory_labels().items()}
    return by_label.get(words[0]) or by_label.get(text.strip())


def directory() -> pd.DataFrame:
    """All municipalities (shared, read-only): code, pref_code, pref_name, name, kana, type, …"""
    return data.shared(select_municipalities)()


def measures() -> pd.DataFrame:
    return data.shared(views.measure_options)()


def render() -> Selection:
    prefectures = data.cached(views.prefectures)()
    pref_names = dict(zip(prefectures["pref_code"], prefectures["name"]))
    sets = data.cached(region_sets)()
    bands = data.cached(pop_band_order)()
    known_rounds = data.cached(rounds)()
    snapshot_frame = data.cached(views.snapshots)()
    snapshot_labels = dict(zip(snapshot_frame["key"], snapshot_frame["label"]))
    options = measures()
    labels = directory_labels()

    with st.sidebar:
        st.markdown("**表示する団体**")
        # "*" stands for "no restriction": a None option would be shown as an empty menu after a rerun
        links.seed("pref", prefecture_code)
        pref_code = st.selectbox(
            "都道府県",
            [ALL, *pref_names],
            format_func=lambda c: NATIONAL if c == ALL else pref_names[c],
            key="pref",
            placeholder=CHOOSE,
        )
        links.keep("pref", pref_code, ALL)
        pref_code = None if pref_code == ALL else pref_code
        set_names = _region_sets_for(sets, data.cached(views.region_set_prefectures)(), pref_code)
        region_set = st.selectbox(
            "地域区分（振興局・圏域）",
            [ALL, *set_names],
            format_func=lambda s: "指定しない" if s == ALL else s,
            key="rset",
            bind="query-params",
            placeholder=CHOOSE,
            disabled=not set_names,
            help="地域区分の定義ファイルに登録した地域のまとまり（県民局、振興局、支援チームの担当など）で絞り込みます。",
        )
        region_set = None if region_set == ALL else region_set
        regions = sets[sets["region_set"] == region_set]["region"].tolist() if region_set else []
        region = st.selectbox(
            "地域",
            [ALL, *regions],
            format_func=lambda r: "すべての地域" if r == ALL else r,
            key="region",
            bind="query-params",
            placeholder=CHOOSE,
            disabled=not regions,
        )
        region = None if region == ALL else region
        pop_bands = st.multiselect("人口規模", bands, key="band", bind="query-params", placeholder="すべての人口規模")
        types = st.multiselect("団体区分", list(TYPES), key="type", bind="query-params", placeholder="すべての団体区分")

        st.markdown("**指標と時点**")
        measure_ids = options["measure_id"].tolist()
        titles = dict(zip(options["measure_id"], options["title"]))
        measure_id = (
            st.selectbox(
                "指標",
                measure_ids,
                index=measure_ids.index("composite") if "composite" in measure_ids else 0,
                format_func=titles.get,
                key="ind",
                bind="query-params",
                placeholder=CHOOSE,
                help="地図・分布・順位に使う指標です。名前の一部を入力すると絞り込めます。",
            )
            if measure_ids
            else None
        )
        round_id = round_label = None
        if len(known_rounds):
            round_labels = dict(zip(known_rounds["round_id"], known_rounds["label"].map(style.short_round_label)))
            ids = known_rounds["round_id"].tolist()
            round_id = st.selectbox(
                "アセスメントの回",
                ids,
                index=len(ids) - 1,
                format_func=round_labels.get,
                key="round",
                bind="query-params",
                placeholder=CHOOSE,
            )
            round_label = round_labels[round_id]
        as_of = None
        if len(snapshot_labels) > 1:
            # the newest dated snapshot by default (a release of unknown 調査時点 is listed last)
            keys = list(snapshot_labels)
            dated = [key for key in keys if key != views.UNKNOWN_SNAPSHOT]
            as_of = st.selectbox(
                "デジタル庁データの調査時点",
                keys,
                index=keys.index(dated[-1] if dated else keys[-1]),
                format_func=snapshot_labels.get,
                key="snap",
                bind="query-params",
                placeholder=CHOOSE,
            )
        links.seed_many("cmp", municipality_code)
        if len(st.session_state.get("cmp", ())) > MAX_COMPARE:
            st.session_state["cmp"] = st.session_state["cmp"][:MAX_COMPARE]
        compare = st.multiselect(
            f"比較セット（最大{MAX_COMPARE}団体）",
            list(labels),
            format_func=labels.get,
            key="cmp",
            max_selections=MAX_COMPARE,
            placeholder="団体名を入力して追加",
            help="カルテ・比較・進捗の各ページで並べて表示します。URLに保存されます。",
        )
        links.keep_many("cmp", compare)

    selection = Selection(
        flt=Filter(
            pref_code=pref_code, region_set=region_set, region=region, pop_bands=tuple(pop_bands), types=tuple(types)
        ),
        pref_name=pref_names.get(pref_code),
        measure_id=measure_id,
        round_id=round_id,
        round_label=round_label,
        as_of=as_of,
        compare=tuple(compare),
    )
    st.session_state[_STATE_KEY] = selection
    return selection


def _region_sets_for(sets: pd.DataFrame, coverage: pd.DataFrame, pref_code: str | None) -> list[str]:
    """Region sets with at least one member in the chosen prefecture (all sets nationwide)."""
    names = list(dict.fromkeys(sets["region_set"]))
    if pref_code is None:
        return names
    covering = set(coverage.loc[coverage["pref_code"] == pref_code, "region_set"])
    return [name for name in names if name in covering]


def current() -> Selection:
    """The selection the sidebar made in this run."""
    return st.session_state[_STATE_KEY]


def measure(measure_id: str | None = None) -> pd.Series | None:
    """One row of ``metrics.views.measure_options`` (default: the sidebar's measure)."""
    options = measures()
    measure_id = measure_id or current().measure_id
    row = options[options["measure_id"] == measure_id]
    return row.iloc[0] if len(row) else None


def measure_arguments(measure: pd.Series) -> tuple[str | None, str | None]:
    """(round_id, as_of) that matter for a measure: the round for assessment measures, the
    デジタル庁 snapshot for the composite and デジタル庁 indicators (others ignore both, which keeps
    their cache entries shared)."""
    selection = current()
    group = measure["group"]
    round_id = selection.round_id if group == views.GROUP_ASSESSMENT and measure["measure_id"] != "change" else None
    as_of = selection.as_of if group in (views.GROUP_COMPOSITE, views.GROUP_DA, views.GROUP_PROCEDURES) else None
    return round_id, as_of


def measure_values(measure: pd.Series) -> pd.DataFrame:
    """The measure for all municipalities (shared, read-only): code, value, label."""
    measure_id = measure["measure_id"]
    round_id, as_of = measure_arguments(measure)
    # the composite and its pillars, and the assessment measures of a round, are computed together:
    # switching the map between them reuses one computation
    bundle = views.measure_bundle(measure_id)
    if bundle == "composite":
        return data.shared(views.composite_measures)(as_of)[measure_id]
    if bundle == "assessment":
        return data.shared(views.assessment_measures)(round_id)[measure_id]
    return data.shared(views.measure_frame)(measure_id, round_id, as_of)


def measure_ranking(measure: pd.Series, flt: Filter | None = None) -> pd.DataFrame:
    """``metrics.views.selection_ranking`` of the measure, from the values the page already has."""
    return views.selection_ranking(measure_values(measure), directory(), measure, flt)


def summary() -> pd.DataFrame:
    """``metrics.views.national_summary`` for the sidebar's round and snapshot (shared, read-only)."""
    selection = current()
    return data.shared(views.national_summary)(selection.round_id, selection.as_of)
