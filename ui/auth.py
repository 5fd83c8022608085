"""Administrator access for the state-changing actions of データ管理 (upload, fetch, rebuild, rollback).

Viewing is always open. A deployment names its administrators in ``.streamlit/secrets.toml``
(docs/ADMIN.md), in one or both ways:

- OIDC: an ``[auth]`` section (Streamlit's ``st.login``) and ``[dashboard] admin_emails = [...]``:
  a logged-in user whose e-mail is listed is an administrator;
- password: ``[dashboard] admin_password_hash = "pbkdf2_sha256$<iterations>$<salt>$<hash>"``, made
  with ``python -m ui.auth hash``.

With neither (local use, the demo) everyone may update the data and the page says so. An admin
setting that cannot be used (an unreadable secrets.toml, a malformed hash, e-mails without
``[auth]``) locks the actions rather than opening them. Failed password logins are throttled per
session (growing wait) and per process (a cap on failures per minute).
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

SECTION = "dashboard"
ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
MIN_ITERATIONS = 100_000
PASSWORD_IDENTITY = "admin (password)"
OPEN_IDENTITY = "web（管理者未設定）"
OPEN_NOTICE = "管理者が設定されていないため、誰でもデータを更新できます。"
# throttling of failed password logins
FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 300.0
PROCESS_FAILURES_PER_MINUTE = 20
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
        raise ValueError(f"admin_password_hash は「{ALGORITHM}$反復回数$ソルト$ハッシュ」の形にしてください"
                         "（python -m ui.auth hash で作れます）。")
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

class ProcessLimiter:
    """At most ``limit`` failed logins per ``window`` seconds across all sessions of the server, so
    opening new sessions does not escape the per-session wait."""

    def __init__(self, limit: int = PROCESS_FAILURES_PER_MINUTE, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def _drain(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - self.window:
            self._failures.popleft()

    def blocked_for(self) -> float:
        with self._lock:
            now = self.clock()
            self._drain(now)
            if len(self._failures) < self.limit:
                return 0.0
            return self._failures[0] + self.window - now

    def record_failure(self) -> None:
        with self._lock:
            now = self.clock()
            self._drain(now)
            self._failures.append(now)


PROCESS_LIMITER = ProcessLimiter()


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


def attempt_password(password: str, encoded: str, throttle: Throttle, limiter: ProcessLimiter = PROCESS_LIMITER) -> tuple[bool, str]:
    """Check a password under both throttles: (ok, Japanese message for the user)."""
    wait = max(throttle.wait_seconds(), limiter.blocked_for())
    if wait > 0:
        return False, f"ログインの失敗が続いたため、あと {wait:.0f} 秒はパスワードを受け付けません。"
    if verify_password(password, encoded):
        throttle.reset()
        return True, "管理者としてログインしました。"
    throttle.record_failure()
    limiter.record_failure()
    return False, f"パスワードが違います（失敗 {throttle.failures} 回。次の入力まで {throttle.wait_seconds():.0f} 秒お待ちください）。"


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
        problems.append("admin_emails がありますが [auth]（OIDC のログイン設定）がないため、メールアドレスでは確認できません。")
    if oidc and not emails:
        problems.append("[auth] がありますが [dashboard] admin_emails が空のため、ログインした人を管理者として認めません。")
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
            return Policy(problems=(".streamlit/secrets.toml を読み込めません（TOML の書式を確認してください）。",))
        return Policy()
    return policy_from_secrets(values)


# ---------------------------------------------------------------- the gate on データ管理

@dataclass(frozen=True)
class Access:
    allowed: bool  # may this session change the data?
    identity: str | None  # recorded as ingest_log.loaded_by


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
        st.warning(f"{OPEN_NOTICE}公開するときは管理者を設定してください（docs/ADMIN.md）。", icon=":material/lock_open:")
        return Access(True, OPEN_IDENTITY)
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
        st.caption("閲覧は誰でもできます。ファイルの取り込み・公式データの取得・データベースの再構築・以前の版への切り戻しは、"
                   "管理者だけが行えます。")
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
        st.warning(f"ログイン中のアカウント（{st.user.get('email') or 'メールアドレスなし'}）は管理者として登録されていません。")
        st.button("ログアウト", key="dm_admin_oidc_logout", on_click=st.logout)
    elif not is_authlib_installed():
        st.error("OIDC でのログインには Authlib が必要です（pip install \"streamlit[auth]\"）。")
    else:
        st.button("組織のアカウントでログイン", key="dm_admin_oidc_login", icon=":material/login:",
                  on_click=st.login, args=(policy.provider,) if policy.provider else ())


def _password_login(policy: Policy, state: MutableMapping) -> None:
    import streamlit as st

    with st.form("dm_admin_login", clear_on_submit=True, border=False):
        password = st.text_input("管理者パスワード", type="password", key="dm_admin_password")
        submitted = st.form_submit_button("パスワードでログイン", icon=":material/key:")
    if submitted:
        ok, message = attempt_password(password, policy.password_hash, _throttle(state))
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
