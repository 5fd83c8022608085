"""Unexpected errors as a Japanese message instead of Streamlit's English error box.

``friendly_errors(what)`` wraps a page (app.py runs every page inside it): an exception that is not
Streamlit's own control flow (rerun, stop — those derive from BaseException and pass through) is
written with its traceback to the server log, and the page shows what failed and what to do. With
``DX_STRICT_ERRORS=1`` (the test suite sets it) the exception is raised again after the message, so
tests that look for exceptions keep seeing them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

LOG = logging.getLogger("dx_dashboard")
STRICT_ENV = "DX_STRICT_ERRORS"
HEADLINE = "表示中にエラーが起きました"


def message(what: str, stamp: str) -> str:
    return (
        f"{HEADLINE}（{what}）。ページを再読み込みするか、絞り込みを変えてもう一度お試しください。"
        f"繰り返し起きるときは、管理者に日時「{stamp}」をお伝えください（詳細はサーバーのログにあります）。"
    )


@contextmanager
def friendly_errors(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        import streamlit as st

        stamp = datetime.now().isoformat(timespec="seconds")
        LOG.exception("unexpected error while drawing %s (shown to the user at %s)", what, stamp)
        st.error(message(what, stamp), icon=":material/error:")
        if os.environ.get(STRICT_ENV) == "1":
            raise
