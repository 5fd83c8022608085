"""Administrator access for the state-changing actions of データ管理 (upload, fetch, rebuild, rollback).

Viewing is always open. A deployment names its administrators in ``.streamlit/secrets.toml``
(docs/ADMIN.md), in one or both ways:

- OIDC: an ``[auth]`` section (Streamlit's ``st.login``) and ``[dashboard] admin_emails = [...]``:
  a logged-in user whose e-mail is listed is an administrator;
- password: ``[dashboard] admin_password_hash = "pbkdf2_sha256$<iterations>$<salt>$<hash>"``, made
  with ``python -m ui.auth hash``.

With neither, administration is closed by default: only a browser on the server's own machine
(a request from a loopback address, addressed to localhost, not relayed by a proxy — the
single-user ``streamlit run app.py``) may update the data; anyone else is told how to configure an
administrator (docs/ADMIN.md). An admin setting that cannot be used (an unreadable secrets.toml, a
malformed hash, e-mails without ``[auth]``) locks the actions rather than opening them. Failed
password logins are throttled per session (growing wait) and per client address (a cap on failures
per minute), so viewers elsewhere cannot lock the administrator out.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SECTION = "dashboard"
ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
MIN_ITERATIONS = 100_000
PASSWORD_IDENTITY = "admin (password)"
OPEN_IDENTITY = "web（管理者未設定）"
OPEN_NOTICE = "管理者が設定されていないため、このコンピューター上のブラウザからはデータを更新できます。"
CLOSED_NOTICE = (
    "管理者が設定されていないため、データの更新（ファイルの取り込み・公式データの取得・再構築・切り戻し）は"
    "サーバーと同じコンピューター上のブラウザ（localhost）からだけ行えます。"
)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
# set by reverse proxies: a request that carries one came through a proxy, whatever its peer address
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-Ip", "Forwarded", "X-Forwarded-Host")
# throttling of failed password logins
FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 300.0
ADDRESS_FAILURES_PER_MINUTE = 10
MAX_TRACKED_ADDRESSES = 10_000
_IDENTITY_KEY = "_dm_admin_identity"
_THROTTLE_KEY = "_dm_admin_throttle"


# ---------------------------------------------------------------- password hashes


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`` for secrets.toml."""
    if not password:
        raise ValueError("パスワードが空です。")
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), iterations)
    return f"{ALGORITHM}${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def parse_hash(encoded: str) -> tuple[int, str, bytes]:
    """(iterations, salt, digest) of a stored hash; ValueError (Japanese) when it is malformed."""
    parts = str(encoded).strip().split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise ValueError(
            f"admin_password_hash は「{ALGORITHM}$反復回数$ソルト$ハッシュ」の形にしてください"
            "（python -m ui.auth hash で作れます）。"
        )
    try:
        iterations = int(parts[1])
        digest = base64.b64decode(parts[3], validate=True)
        parts[2].encode("ascii")
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("admin_password_hash の反復回数・ソルト・ハッシュを読み取れません。") from exc
    if iterations < MIN_ITERATIONS or len(digest) != 32 or not parts[2]:
        raise ValueError(f"admin_password_hash が弱すぎるか壊れています（反復回数は {MIN_ITERATIONS:,} 以上）。")
    return iterations, parts[2], digest


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time compare); False for a malformed hash."""
    try:
        iterations, salt, expected = parse_hash(encoded)
    except ValueError:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", str(password).encode("utf-8"), salt.encode("ascii"), iterations)
    return hmac.compare_digest(actual, expected)


# ---------------------------------------------------------------- throttling


class AddressLimiter:
    """At most ``limit`` failed logins per ``window`` seconds from one client address, across all its
    sessions (opening new sessions does not escape the per-session wait). Other addresses — the
    administrator's — are not affected."""

    def __init__(
        self,
        limit: int = ADDRESS_FAILURES_PER_MINUTE,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_TRACKED_ADDRESSES,
    ):
        self.limit, self.window, self.clock, self.max_addresses = limit, window, clock, max_addresses
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _drain(self, address: str, now: float) -> deque[float]:
        failures = self._failures.get(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(address, None)
        return failures

    def blocked_for(self, address: str) -> float:
        with self._lock:
            now = self.clock()
            failures = self._drain(address, now)
            if len(failures) < self.limit:
                return 0.0
            return failures[-self.limit] + self.window - now

    def record_failure(self, address: str) -> None:
        with self._lock:
            now = self.clock()
            failures = self._drain(address, now)
            if address not in self._failures and len(self._failures) >= self.max_addresses:
                self._failures.pop(next(iter(self._failures)))  # bounded memory: forget the oldest address
            failures.append(now)
            self._failures[address] = failures


ADDRESS_LIMITER = AddressLimiter()


@dataclass
class Throttle:
    """Failed logins of one session: after the n-th failure the next attempt waits 2^(n-1) s (≤ 5 min)."""

    failures: int = 0
    locked_until: float = 0.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def wait_seconds(self) -> float:
        return max(0.0, self.locked_until - self.clock())

    def record_failure(self) -> None:
        self.failures += 1
        self.locked_until = self.clock() + min(FIRST_WAIT_SECONDS * 2 ** (self.failures - 1), MAX_WAIT_SECONDS)

    def reset(self) -> None:
        self.failures, self.locked_until = 0, 0.0


def attempt_password(
    password: str, encoded: str, throttle: Throttle, limiter: AddressLimiter | None = None, address: str = "localhost"
) -> tuple[bool, str]:
    """Check a password under both throttles (this session's, this client address's): (ok, Japanese
    message for the user)."""
    limiter = limiter if limiter is not None else ADDRESS_LIMITER
    wait = max(throttle.wait_seconds(), limiter.blocked_for(address))
    if wait > 0:
        return False, f"ログインの失敗が続いたため、あと {wait:.0f} 秒はパスワードを受け付けません。"
    if verify_password(password, encoded):
        throttle.reset()
        return True, "管理者としてログインしました。"
    throttle.record_failure()
    limiter.record_failure(address)
    return (
        False,
        f"パスワードが違います（失敗 {throttle.failures} 回。次の入力まで {throttle.wait_seconds():.0f} "
        "秒お待ちください）。",
    )


# ---------------------------------------------------------------- policy from secrets.toml


@dataclass(frozen=True)
class Policy:
    """What secrets.toml configures. ``configured`` → admin actions need an administrator."""

    password_hash: str | None = None
    admin_emails: tuple[str, ...] = ()
    oidc: bool = False  # an [auth] section for st.login
    provider: str | None = None  # a named [auth.<provider>], or None for the unnamed one
    problems: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.password_hash or self.admin_emails or self.oidc or self.problems)

    @property
    def password_ready(self) -> bool:
        if not self.password_hash:
            return False
        try:
            parse_hash(self.password_hash)
        except ValueError:
            return False
        return True

    @property
    def oidc_ready(self) -> bool:
        return self.oidc and bool(self.admin_emails)


def policy_from_secrets(values: Mapping) -> Policy:
    section = values.get(SECTION) or {}
    problems = []
    password_hash = section.get("admin_password_hash") or None
    if password_hash is not None:
        try:
            parse_hash(password_hash)
        except ValueError as exc:
            problems.append(str(exc))
    emails = section.get("admin_emails") or ()
    if isinstance(emails, str):
        emails = (emails,)
    emails = tuple(sorted({str(e).strip().lower() for e in emails if str(e).strip()}))
    oidc = bool(values.get("auth"))
    if emails and not oidc:
        problems.append(
            "admin_emails がありますが [auth]（OIDC のログイン設定）がないため、メールアドレスでは確認できません。"
        )
    if oidc and not emails:
        problems.append(
            "[auth] がありますが [dashboard] admin_emails が空のため、ログインした人を管理者として認めません。"
        )
    provider = section.get("auth_provider") or None
    return Policy(password_hash, emails, oidc, str(provider) if provider else None, tuple(problems))


def _secrets_files_exist() -> bool:
    from streamlit import config

    return any(Path(p).exists() for p in config.get_option("secrets.files") or [])


def current_policy() -> Policy:
    """The policy of this deployment; an unreadable secrets.toml locks the admin actions."""
    import streamlit as st
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        values = st.secrets.to_dict()
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        if _secrets_files_exist():
            return Policy(
                problems=("管理者の設定ファイル（secrets.toml）を読み込めません（TOML の書式を確認してください）。",)
            )
        return Policy()
    return policy_from_secrets(values)


# ---------------------------------------------------------------- where a request comes from


def _host_of(value: str) -> str:
    value = value.strip().lower()
    if "://" in value:
        value = urlsplit(value).netloc
    if value.startswith("["):  # [::1]:8501
        return value[: value.find("]") + 1]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_local_request(ip_address: str | None, headers: Mapping[str, str]) -> bool:
    """True for a browser on the server's own machine talking to it directly: Streamlit reports no
    address for a loopback peer (``st.context.ip_address`` is None), the Host (and Origin, which
    browsers send on the websocket) name localhost, and no proxy header is present."""
    if ip_address is not None and ip_address not in LOOPBACK_HOSTS:
        return False
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(name.lower() in lowered for name in FORWARDING_HEADERS):
        return False
    for name in ("host", "origin"):
        if name in lowered and _host_of(lowered[name]) not in LOOPBACK_HOSTS:
            return False
    return True


def client_address(ip_address: str | None, headers: Mapping[str, str]) -> str:
    """The address failed logins are counted under. Behind a reverse proxy on the same machine the
    peer is loopback; the client is then the last X-Forwarded-For entry (the one the proxy added)."""
    if ip_address is None:
        forwarded = {str(k).lower(): str(v) for k, v in headers.items()}.get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip()
        return last or "localhost"
    return ip_address


def _request() -> tuple[str | None, dict[str, str]]:
    import streamlit as st

    try:
        ip_address, headers = st.context.ip_address, dict(st.context.headers)
    except Exception:  # noqa: BLE001 - no client context (bare mode): treat as local
        return None, {}
    # AppTest runs without a client: Streamlit's stand-in runtime answers with a mock, not an address
    return (ip_address if isinstance(ip_address, str) else None), headers


# ---------------------------------------------------------------- the gate on データ管理


@dataclass(frozen=True)
class Access:
    allowed: bool  # may this session change the data?
    identity: str | None  # recorded as ingest_log.loaded_by
    can_log_in: bool = True  # False when no administrator is configured (closed by default)


def oidc_identity(user: Mapping, policy: Policy) -> str | None:
    """The e-mail of a logged-in, listed (and not explicitly unverified) OIDC user."""
    if not policy.oidc_ready or user.get("is_logged_in") is not True:
        return None
    email = str(user.get("email") or "").strip().lower()
    if not email or user.get("email_verified") is False:
        return None
    return email if email in policy.admin_emails else None


def _throttle(state: MutableMapping) -> Throttle:
    if _THROTTLE_KEY not in state:
        state[_THROTTLE_KEY] = Throttle()
    return state[_THROTTLE_KEY]


def admin_gate() -> Access:
    """Draw the administrator box at the top of データ管理 and say whether this session may change data."""
    import streamlit as st

    policy = current_policy()
    if not policy.configured:
        if is_local_request(*_request()):
            st.warning(
                f"{OPEN_NOTICE}公開するときは管理者を設定してください（docs/ADMIN.md）。", icon=":material/lock_open:"
            )
            return Access(True, OPEN_IDENTITY)
        st.info(
            f"{CLOSED_NOTICE}ほかのコンピューターから更新するには、サーバーの管理者が設定ファイル（secrets.toml）に"
            "管理者（組織のアカウントのメールアドレス、またはパスワードのハッシュ）を設定してください"
            "（手順は docs/ADMIN.md）。閲覧はこのままできます。",
            icon=":material/lock:",
        )
        return Access(False, None, can_log_in=False)
    state = st.session_state
    identity = oidc_identity(st.user, policy) or (state.get(_IDENTITY_KEY) if policy.password_ready else None)
    with st.container(border=True, key="dm_admin_box"):
        if identity:
            cols = st.columns([5, 1])
            cols[0].markdown(f":material/admin_panel_settings: 管理者としてログインしています: **{identity}**")
            if cols[1].button("ログアウト", key="dm_admin_logout"):
                state.pop(_IDENTITY_KEY, None)
                if st.user.get("is_logged_in"):
                    st.logout()
                st.rerun()
            return Access(True, identity)
        st.markdown("**管理者ログイン**")
        st.caption(
            "閲覧は誰でもできます。ファイルの取り込み・公式データの取得・データベースの再構築・以前の版への切り戻しは、"
            "管理者だけが行えます。"
        )
        for problem in policy.problems:
            st.error(f"管理者の設定に問題があります: {problem}")
        if policy.oidc_ready:
            _oidc_login(policy)
        if policy.password_ready:
            _password_login(policy, state)
    return Access(False, None)


def _oidc_login(policy: Policy) -> None:
    import streamlit as st
    from streamlit.auth_util import is_authlib_installed

    if st.user.get("is_logged_in"):
        st.warning(
            f"ログイン中のアカウント（{st.user.get('email') or 'メールアドレスなし'}）"
            "は管理者として登録されていません。"
        )
        st.button("ログアウト", key="dm_admin_oidc_logout", on_click=st.logout)
    elif not is_authlib_installed():
        st.error(
            "組織のアカウントでのログインに必要な部品がサーバーに入っていません。"
            "サーバーの管理者に連絡してください（手順は docs/ADMIN.md）。"
        )
    else:
        st.button(
            "組織のアカウントでログイン",
            key="dm_admin_oidc_login",
            icon=":material/login:",
            on_click=st.login,
            args=(policy.provider,) if policy.provider else (),
        )


def _password_login(policy: Policy, state: MutableMapping) -> None:
    import streamlit as st

    with st.form("dm_admin_login", clear_on_submit=True, border=False):
        password = st.text_input("管理者パスワード", type="password", key="dm_admin_password")
        submitted = st.form_submit_button("パスワードでログイン", icon=":material/key:")
    if submitted:
        ok, message = attempt_password(
            password, policy.password_hash, _throttle(state), address=client_address(*_request())
        )
        if ok:
            state[_IDENTITY_KEY] = PASSWORD_IDENTITY
            st.rerun()
        st.error(message)


# ---------------------------------------------------------------- CLI: python -m ui.auth hash


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.auth", description="データ管理の管理者パスワード")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("hash", help="パスワードを入力し、secrets.toml に貼るハッシュを表示する")
    p.add_argument("--iterations", type=int, default=ITERATIONS)
    args = parser.parse_args(argv)
    password = getpass.getpass("管理者パスワード: ")
    if len(password) < 12:
        print("12文字以上にしてください。", file=sys.stderr)
        return 1
    if getpass.getpass("もう一度: ") != password:
        print("2回の入力が一致しません。", file=sys.stderr)
        return 1
    if args.iterations < MIN_ITERATIONS:
        print(f"反復回数は {MIN_ITERATIONS:,} 以上にしてください。", file=sys.stderr)
        return 1
    print("# .streamlit/secrets.toml に貼ってください")
    print(f"[{SECTION}]")
    print(f'admin_password_hash = "{hash_password(password, iterations=args.iterations)}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
