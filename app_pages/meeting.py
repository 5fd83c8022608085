"""会議モード: the slides of a deck of saved views for one prefecture, one chart per screen in the
projector theme, with the prefecture, as-of date, source and 2–3 generated sentences on each slide.
前へ/次へ (or ←/→, Space, PageUp/PageDown from a presenter clicker) step through the deck; the URL keeps the
slide, prefecture and deck. The settings (prefecture, deck) and the exit sit at the bottom."""

import streamlit as st

from metrics import views
from ui import chrome, data, links, meeting
from ui.filters import ALL, NATIONAL, prefecture_code
from views import charts
from views.render import ExportError

prefectures = data.cached(views.prefectures)()
pref_names = dict(zip(prefectures["pref_code"], prefectures["name"]))
decks = meeting.deck_files()
slide = st.container(key="mt_slide")
# the controls sit below the slide but decide it, so they are drawn first (into their places)
controls = st.container(key="mt_controls", horizontal=True, vertical_alignment="center")
previous_slot, next_slot = controls.empty(), controls.empty()
with controls.popover("都道府県・資料", icon=":material/tune:"):
    links.seed(meeting.PREF_KEY, prefecture_code)  # the prefecture's code, or its name in older links
    pref_code = st.selectbox(
        "都道府県",
        [ALL, *pref_names],
        format_func=lambda c: NATIONAL if c == ALL else pref_names[c],
        key=meeting.PREF_KEY,
        on_change=meeting.go_to,
        args=(1,),
    )
    links.keep(meeting.PREF_KEY, pref_code, ALL)
    deck_name = st.selectbox(
        "資料（ビューの組み合わせ）",
        list(decks),
        format_func=lambda d: meeting.deck_title(decks[d]),
        key=meeting.DECK_KEY,
        bind="query-params",
        on_change=meeting.go_to,
        args=(1,),
    )
controls.button("会議モードを終了", icon=":material/close:", key="mt_exit", type="tertiary", on_click=meeting.leave)
try:
    deck = meeting.load_deck(decks[deck_name])
except ExportError as error:  # a saved-views file with a mistake: say which, keep the settings usable
    slide.error(str(error))
    st.stop()
count = len(deck.views)
number = meeting.slide_number(count)
meeting.go_to(number)
prefecture = pref_names.get(pref_code)
previous_slot.button(
    "前へ",
    icon=":material/arrow_back:",
    key="mt_previous",
    disabled=number <= 1,
    shortcut=meeting.PREVIOUS_KEYS[0],
    on_click=meeting.go_to,
    args=(number - 1,),
)
next_slot.button(
    "次へ",
    icon=":material/arrow_forward:",
    key="mt_next",
    disabled=number >= count,
    type="primary",
    shortcut=meeting.NEXT_KEYS[0],
    on_click=meeting.go_to,
    args=(number + 1,),
)
with st.container(key="mt_clicker", horizontal=True):
    # a button takes one shortcut: hidden twins carry the other keys (a clicker's PageDown/PageUp, Space)
    for key, shortcut in (("mt_next_clicker", meeting.NEXT_KEYS[1]), ("mt_next_space", meeting.NEXT_KEYS[2])):
        st.button(
            "次へ", key=key, shortcut=shortcut, disabled=number >= count, on_click=meeting.go_to, args=(number + 1,)
        )
    st.button(
        "前へ",
        key="mt_previous_clicker",
        shortcut=meeting.PREVIOUS_KEYS[1],
        disabled=number <= 1,
        on_click=meeting.go_to,
        args=(number - 1,),
    )

with slide:
    try:
        result = meeting.render(deck.views[number - 1], prefecture)
    except ExportError as error:  # e.g. a measure of the deck that this database does not hold
        st.title(f"{number} / {count}", anchor=False)
        st.error(str(error))
        st.stop()
    top = st.container(key="mt_top", horizontal=True, vertical_alignment="center")
    with top.container(key="mt_header", width="content"):
        st.markdown(chrome.plain(result.prefecture or prefecture or NATIONAL))
    if chrome.is_demo():
        with top.container(key="mt_demo", width="content"):
            st.markdown(chrome.DEMO_LABEL)
    with top.container(key="mt_counter"):
        st.markdown(f"{number} / {count}")
    st.title(chrome.plain(result.title), anchor=False)
    if result.subtitle:
        with st.container(key="mt_subtitle"):
            st.markdown(chrome.plain(result.subtitle))
    if result.figure is not None:
        # the chart takes the height the screen leaves after the text and the controls (CSS of
        # ui.meeting), so the whole slide fits a 1366×768 projector as well as 1920×1080
        with st.container(key="mt_chart"):
            st.plotly_chart(
                meeting.fitted(result.figure),
                height="stretch",
                config={"displayModeBar": False, "responsive": True},
                key=f"mt_chart_{number}",
                alt=f"{result.title}のグラフ。同じ値の表は下の「{chrome.TABLE_LABEL}」にあります。",
            )
        # the text alternative, beside the slide's controls so that the slide still fits the screen
        with controls.popover(chrome.TABLE_LABEL, icon=":material/table:"):
            st.dataframe(charts.figure_table(result.figure), hide_index=True, key=f"mt_table_{number}")
    elif result.table is not None:
        with st.container(key="mt_chart"):
            st.dataframe(result.table, hide_index=True, height="stretch")
    with st.container(key="mt_commentary"):
        for sentence in result.commentary[: meeting.MAX_SENTENCES]:
            st.markdown(chrome.plain(sentence))
    with st.container(key="mt_footer"):
        st.markdown(chrome.plain(meeting.source_line(result)))
