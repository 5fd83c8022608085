"""A browser tab without the browser: the client side of Streamlit's protocol, for load tests.

A Streamlit page talks to its server over one websocket (``/_stcore/stream``): the tab sends a
``BackMsg`` asking for a script run (the URL's page and query string, the widgets' values) and
the server answers with ``ForwardMsg``s — the run starting (``new_session``), the page's elements
(``delta``), the navigation, the query string it wrote, and ``script_finished``. ``StreamlitTab``
sends the same messages a browser sends for a page opened by URL, a choice in a sidebar select
box and a click in the top navigation, and reads back what the browser would draw: which
elements came, whether one is an exception or an error message, the sidebar's text; each call
returns once the server's last run for the input has ended (the caller times it). The server cannot
tell it from a browser (same
messages, same session, every chart's payload sent); nothing is drawn, so many tabs cost the
client machine little.
"""

from __future__ import annotations

import asyncio
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

MAIN, SIDEBAR = 0, 1  # the first number of an element's delta path: the container it is drawn in
ERROR_ALERT = 1  # Alert.Format.ERROR: st.error
# what a browser fetches over HTTP before it opens the websocket
PAGE_REQUESTS = ("{path}", "_stcore/health", "_stcore/host-config")


class TabError(Exception):
    """The tab could not do what was asked: the connection was lost, the server took longer than
    the limit, or the widget to change is not on the page."""


@dataclass
class Run:
    """What the server sent for one input, up to the end of its last script run (a run that ends
    in ``st.rerun()`` is followed by another; the elements are those of the last one)."""

    script_runs: int = 0
    bytes_received: int = 0
    main_elements: int = 0
    main_text: list[str] = field(default_factory=list)  # headings, text, metrics, alerts, a menu's first option
    sidebar_text: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what a user would see as an error

    def start_script_run(self) -> None:
        self.script_runs += 1
        self.main_elements = 0
        self.main_text = []
        self.sidebar_text = []
        self.problems = []

    def sidebar_value(self, mark: str) -> str | None:
        """The text after ``mark`` in the first sidebar line holding it (「構築: 2026-12-03 07:24:58」)."""
        for text in self.sidebar_text:
            if mark in text:
                return text.split(mark, 1)[1].strip()
        return None


class StreamlitTab:
    """One browser tab on the app at ``base`` (``http://127.0.0.1:PORT``). Every method waits for
    the server's answer and returns its ``Run``; ``TabError`` when there was none."""

    def __init__(self, base: str, limit_seconds: float = 120.0):
        self.base = base.rstrip("/")
        self.limit_seconds = limit_seconds
        self.ws: ClientConnection | None = None
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path ("" for the default page) → page script hash
        self.query: dict[str, str] = {}
        self.widgets: dict[str, WidgetState] = {}  # the widget values this tab has set
        self.select_boxes: dict[str, object] = {}  # sidebar and main select boxes of the last run, by label
        # cookies the server set, sent back as a browser does (nginx's sticky route, deploy/README.md)
        self.cookies: dict[str, str] = {}

    async def open(self, path: str = "", query: dict[str, str] | None = None) -> Run:
        """Open ``/path?query`` as a new tab or a reload: the page's HTTP requests, a new websocket
        (a new server session), its first run."""
        await self.close()
        self.page_hash, self.widgets, self.query = "", {}, dict(query or {})
        try:
            await asyncio.wait_for(asyncio.to_thread(self._fetch_page, path), self.limit_seconds)
            self.ws = await connect(
                self.base.replace("http", "ws", 1) + "/_stcore/stream",
                subprotocols=["streamlit"],
                max_size=None,
                open_timeout=self.limit_seconds,
                ping_interval=None,
                additional_headers=self._cookie_header(),
            )  # a browser sends no websocket pings either
        except Exception as error:  # refused, timed out, or the handshake failed
            raise TabError(f"ページを開けませんでした: {type(error).__name__}: {error}") from error
        return await self._rerun(page_name=path)

    async def choose(self, label: str, option: str) -> Run:
        """Choose ``option`` (as shown) in the select box labelled ``label``, as a click in its list does."""
        box = self.select_boxes.get(label)
        if box is None:
            raise TabError(f"「{label}」の選択欄がページにありません")
        if option not in box.options:
            raise TabError(f"「{label}」に「{option}」という選択肢がありません")
        self.widgets[box.id] = WidgetState(id=box.id, string_value=option)
        if box.query_param_key:  # a widget bound to the URL: the browser writes its new value there
            self.query[box.query_param_key] = option
        return await self._rerun()

    async def navigate(self, path: str) -> Run:
        """Click the page ``path`` in the top navigation (same session, another page's script)."""
        if path not in self.pages:
            raise TabError(f"ナビゲーションに「/{path}」がありません")
        self.page_hash = self.pages[path]
        return await self._rerun()

    def selected(self, label: str) -> str | None:
        """The option the select box ``label`` shows after the last run: the value the tab holds for
        it (chosen here or set by the server), else its default."""
        box = self.select_boxes.get(label)
        if box is None:
            return None
        if box.id in self.widgets:
            return self.widgets[box.id].string_value
        return box.options[box.default] if box.HasField("default") and box.default < len(box.options) else None

    def current_page(self) -> str | None:
        """The url path of the page the last run drew."""
        return next((path for path, page_hash in self.pages.items() if page_hash == self.page_hash), None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())} if self.cookies else {}

    def _fetch_page(self, path: str) -> None:
        for request in PAGE_REQUESTS:
            url = f"{self.base}/{request.format(path=path)}"
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=self._cookie_header()), timeout=self.limit_seconds
            ) as answer:
                answer.read()
                for cookie in answer.headers.get_all("Set-Cookie") or []:
                    name, _, value = cookie.split(";", 1)[0].partition("=")
                    if value:
                        self.cookies[name.strip()] = value.strip()

    async def _rerun(self, page_name: str = "") -> Run:
        request = BackMsg()
        state = request.rerun_script
        state.query_string = urlencode(self.query)
        state.page_name = page_name
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(self.widgets.values())
        run = Run()
        try:
            await self.ws.send(request.SerializeToString())
            await asyncio.wait_for(self._receive(run), self.limit_seconds)
        except TimeoutError:
            raise TabError(
                f"{self.limit_seconds:.0f} 秒以内に実行が終わりませんでした"
                f"（実行 {run.script_runs} 回、受信 {run.bytes_received:,} バイト）"
            ) from None
        except Exception as error:  # websockets' ConnectionClosed and its kin
            raise TabError(f"接続が切れました: {type(error).__name__}: {error}") from error
        return run

    async def _receive(self, run: Run) -> None:
        while True:
            data = await self.ws.recv()
            run.bytes_received += len(data)
            message = ForwardMsg.FromString(data)
            kind = message.WhichOneof("type")
            if kind == "new_session":  # a script run starts
                run.start_script_run()
                self.select_boxes = {}
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                self._element(message.delta.new_element, message.metadata.delta_path[0], run)
            elif kind == "navigation":
                self.pages = {page.url_pathname: page.page_script_hash for page in message.navigation.app_pages}
                self.page_hash = message.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = dict(parse_qsl(message.page_info_changed.query_string, keep_blank_values=True))
            elif kind == "page_not_found":
                run.problems.append(f"ページが見つかりません: {message.page_not_found.page_name}")
            elif kind == "session_event" and message.session_event.HasField("script_compilation_exception"):
                error = message.session_event.script_compilation_exception
                run.problems.append(f"スクリプトの構文エラー: {error.type}: {error.message[:200]}")
            elif kind == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun() or a newer request: another run follows
                if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.problems.append("スクリプトを実行できませんでした（構文エラー）")
                return

    def _element(self, element, container: int, run: Run) -> None:
        kind = element.WhichOneof("type")
        if container == MAIN:
            run.main_elements += 1
            run.main_text.extend(_text(element, kind))
        if kind == "exception":
            run.problems.append(f"例外: {element.exception.type}: {element.exception.message[:200]}")
        elif kind == "alert" and element.alert.format == ERROR_ALERT:
            run.problems.append(f"エラー表示: {element.alert.body[:200]}")
        elif kind == "markdown" and container == SIDEBAR:
            run.sidebar_text.append(element.markdown.body)
        elif kind == "selectbox":
            box = element.selectbox
            self.select_boxes.setdefault(box.label, box)
            if box.set_value:  # the server overrides the value (from the URL, or an option gone): the tab takes it
                self.widgets[box.id] = WidgetState(id=box.id, string_value=box.raw_value)


def _text(element, kind: str) -> list[str]:
    """The text a user reads in ``element`` (a select box: the option its menu opens on)."""
    if kind in ("markdown", "heading", "alert"):
        return [getattr(element, kind).body]
    if kind == "metric":
        return [element.metric.label, element.metric.body]
    if kind == "selectbox" and element.selectbox.options:
        return [element.selectbox.options[0]]
    return []
