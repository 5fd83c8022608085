"""Links carry codes: the URL parameters that name a municipality or a prefecture hold its code
(``?ka_code=281000``, ``?cmp=282014&cmp=281000``, ``?pref=28``), not the label shown in the menu, so
a link survives a renamed label and reads the same to every tool. Older links that carried labels
or names (``?ka_code=神戸市（兵庫県）　こうべし　281000``, ``?pref=兵庫県``) still open the same view:
``seed`` resolves them to codes. These widgets are not bound to the URL by Streamlit (a bound
widget writes its label); ``seed`` before the widget and ``keep`` after it do the binding."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st

Resolver = Callable[[str], "str | None"]


def seed(key: str, resolve: Resolver) -> None:
    """Before the widget keyed ``key`` is drawn: its value from the URL (a code, or an old link's
    label or name resolved to one) when the session has none yet; unknown values are ignored."""
    if _kept(key) or key not in st.query_params:
        return
    value = resolve(st.query_params[key])
    if value is not None:
        st.session_state[key] = value


def seed_many(key: str, resolve: Resolver) -> None:
    """``seed`` for a multiselect: every value of the (repeated) parameter, in order, once each."""
    if _kept(key) or key not in st.query_params:
        return
    values = [resolve(raw) for raw in st.query_params.get_all(key)]
    st.session_state[key] = list(dict.fromkeys(value for value in values if value is not None))


def _kept(key: str) -> bool:
    """Whether the session holds a value for ``key``; set again, so that it survives another widget
    taking the key (the meeting's prefecture menu → the sidebar's) instead of falling to that one's default."""
    if key not in st.session_state:
        return False
    st.session_state[key] = st.session_state[key]
    return True


def keep(key: str, value: str | None, default: str | None = None) -> None:
    """After the widget: its value (a code) in the URL, or no parameter for the default."""
    if value is None or value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def keep_many(key: str, values: Iterable[str]) -> None:
    values = list(values)
    if not values:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get_all(key) != values:
        st.query_params[key] = values
