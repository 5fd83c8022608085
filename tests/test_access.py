"""Administrator access (issue #8 part 5): viewing is open; upload, fetch, rebuild and rollback on
データ管理 need an administrator when secrets.toml names one (hashed password or OIDC e-mails);
failed logins are throttled; no secret is rendered or committed; the ingest log records who loaded
which file; .streamlit/config.toml keeps XSRF protection and the upload cap."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
from conftest import himeji_square_geojson
from streamlit.testing.v1 import AppTest

from ui import auth

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
# the minimum accepted cost keeps each AppTest login fast; deployments use ITERATIONS (python -m ui.auth hash)
HASH = auth.hash_password(PASSWORD, iterations=auth.MIN_ITERATIONS)
ADMIN_KEYS = ("dm_rebuild", "dm_fetch", "dm_rollback")
OIDC_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not-a-real-cookie-secret",
        "client_id": "dashboard",
        "client_secret": "not-a-real-client-secret",
        "server_metadata_url": "https://login.example.jp/.well-known/openid-configuration",
    },
    "dashboard": {"admin_emails": ["DX-Office@pref.example.jp"]},
}


@pytest.fixture(autouse=True)
def fresh_address_limiter(monkeypatch):
    """Each test starts with no failed logins counted for any client address."""
    monkeypatch.setattr(auth, "ADDRESS_LIMITER", auth.AddressLimiter())


@pytest.fixture()
def page_db(demo_db, tmp_path, monkeypatch):
    """A private copy of the demo DB with staging/uploads folders in tmp_path and no public folders."""
    db = tmp_path / "dashboard.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setattr("ui.uploads.STAGING_DIR", tmp_path / "staging")
    monkeypatch.setattr("ui.uploads.UPLOAD_DIR", tmp_path / "uploads")
    monkeypatch.setenv("DX_SOURCE", str(tmp_path / "no-such-folder"))
    monkeypatch.setenv("DX_DB", str(db))
    return db


def data_page(secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    at.switch_page("app_pages/data.py")
    return at.run()


def keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button} | {u.key for u in at.get("file_uploader")}


def rendered(at: AppTest) -> str:
    """Every element the run sent, as text (protobuf dumps), to look for leaked secrets."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return "\n".join(out)


def log_in(at: AppTest, password: str) -> AppTest:
    at.text_input(key="dm_admin_password").input(password)
    return next(b for b in at.button if b.key.startswith("FormSubmitter:dm_admin_login")).click().run()


# ---------------------------------------------------------------- hashes, throttling, policy


def test_password_hash_round_trip():
    assert auth.verify_password(PASSWORD, HASH)
    assert not auth.verify_password(PASSWORD + " ", HASH)
    assert not auth.verify_password("", HASH)
    again = auth.hash_password(PASSWORD, iterations=auth.MIN_ITERATIONS)
    assert again != HASH and auth.verify_password(PASSWORD, again), "a fresh salt every time"
    assert PASSWORD not in HASH
    algorithm, iterations, salt, digest = HASH.split("$")
    assert (algorithm, int(iterations)) == ("pbkdf2_sha256", auth.MIN_ITERATIONS) and len(salt) == 32


@pytest.mark.parametrize(
    "broken",
    [
        "",
        "plain-text-password",
        "pbkdf2_sha256$1000$salt$" + HASH.split("$")[3],
        "md5$600000$salt$abc",
        HASH.rsplit("$", 1)[0] + "$not base64!",
    ],
)
def test_a_malformed_hash_matches_nothing_and_locks_the_actions(broken):
    assert not auth.verify_password(PASSWORD, broken)
    policy = auth.policy_from_secrets({"dashboard": {"admin_password_hash": broken}})
    if broken:
        assert policy.configured and not policy.password_ready and policy.problems


def test_cli_prints_a_hash_that_verifies(monkeypatch, capsys):
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt="": PASSWORD)
    assert auth.main(["hash", "--iterations", str(auth.MIN_ITERATIONS)]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith("admin_password_hash"))
    encoded = tomllib.loads("[dashboard]\n" + line)["dashboard"]["admin_password_hash"]
    assert auth.verify_password(PASSWORD, encoded)
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt="": "short")
    assert auth.main(["hash"]) == 1


def test_failed_logins_wait_longer_each_time():
    now = [1000.0]
    throttle = auth.Throttle(clock=lambda: now[0])
    limiter = auth.AddressLimiter(clock=lambda: now[0])
    waits = []
    for _ in range(5):
        ok, message = auth.attempt_password("wrong", HASH, throttle, limiter)
        assert not ok and "パスワードが違います" in message
        waits.append(throttle.wait_seconds())
        ok, message = auth.attempt_password(PASSWORD, HASH, throttle, limiter)
        assert not ok and "秒はパスワードを受け付けません" in message, "even the right password waits its turn"
        now[0] += waits[-1]
    assert waits == [1, 2, 4, 8, 16]
    assert auth.attempt_password(PASSWORD, HASH, throttle, limiter)[0]
    assert throttle.failures == 0
    throttle.failures = 30
    throttle.record_failure()
    assert throttle.wait_seconds() == auth.MAX_WAIT_SECONDS


def test_new_sessions_do_not_escape_the_address_limit_and_other_addresses_are_not_locked_out():
    now = [0.0]
    limiter = auth.AddressLimiter(limit=5, window=60, clock=lambda: now[0])
    for _ in range(5):
        assert not auth.attempt_password("wrong", HASH, auth.Throttle(clock=lambda: now[0]), limiter, "198.51.100.7")[0]
    ok, message = auth.attempt_password(PASSWORD, HASH, auth.Throttle(clock=lambda: now[0]), limiter, "198.51.100.7")
    assert not ok and "受け付けません" in message
    # the administrator, elsewhere, is not locked out by a viewer's failures
    assert auth.attempt_password(PASSWORD, HASH, auth.Throttle(clock=lambda: now[0]), limiter, "203.0.113.20")[0]
    now[0] += 61
    assert auth.attempt_password(PASSWORD, HASH, auth.Throttle(clock=lambda: now[0]), limiter, "198.51.100.7")[0]


def test_the_address_limiter_keeps_bounded_memory():
    limiter = auth.AddressLimiter(limit=1, max_addresses=100)
    for i in range(1000):
        limiter.record_failure(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._failures) == 100
    assert limiter.blocked_for("10.0.3.231") > 0 and limiter.blocked_for("10.0.0.0") == 0


@pytest.mark.parametrize(
    "ip, headers, local",
    [
        (None, {}, True),  # AppTest, bare mode
        (None, {"Host": "localhost:8501", "Origin": "http://localhost:8501"}, True),
        (None, {"Host": "127.0.0.1:8501"}, True),
        (None, {"Host": "[::1]:8501", "Origin": "http://[::1]:8501"}, True),
        ("203.0.113.5", {"Host": "dx.pref.example.jp"}, False),  # another machine
        ("192.168.1.20", {"Host": "localhost:8501"}, False),  # a LAN peer naming localhost
        (None, {"Host": "dx.pref.example.jp"}, False),  # a local reverse proxy passing the public Host
        (None, {"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.5"}, False),  # a proxy keeping Host
        (None, {"Host": "127.0.0.1:8501", "Origin": "https://dx.pref.example.jp"}, False),  # a browser elsewhere
    ],
)
def test_only_a_browser_on_the_server_itself_is_local(ip, headers, local):
    assert auth.is_local_request(ip, headers) is local


def test_failed_logins_are_counted_per_client_address():
    assert auth.client_address("203.0.113.5", {"X-Forwarded-For": "1.2.3.4"}) == "203.0.113.5", (
        "a remote peer's header is ignored"
    )
    assert auth.client_address(None, {"X-Forwarded-For": "9.9.9.9, 198.51.100.7"}) == "198.51.100.7", (
        "what the local proxy saw"
    )
    assert auth.client_address(None, {}) == "localhost"


def test_policy_from_secrets():
    assert not auth.policy_from_secrets({}).configured
    assert not auth.policy_from_secrets({"dashboard": {}}).configured
    password = auth.policy_from_secrets({"dashboard": {"admin_password_hash": HASH}})
    assert password.configured and password.password_ready and not password.oidc_ready and not password.problems
    oidc = auth.policy_from_secrets(OIDC_SECRETS)
    assert oidc.oidc_ready and oidc.admin_emails == ("dx-office@pref.example.jp",) and not oidc.problems
    # half a setup locks rather than opens
    assert auth.policy_from_secrets({"dashboard": {"admin_emails": ["a@example.jp"]}}).problems
    assert auth.policy_from_secrets({"auth": OIDC_SECRETS["auth"]}).problems


def test_oidc_identity_needs_a_logged_in_listed_verified_user():
    policy = auth.policy_from_secrets(OIDC_SECRETS)
    listed = "dx-office@pref.example.jp"
    assert auth.oidc_identity({"is_logged_in": True, "email": "DX-Office@Pref.Example.JP"}, policy) == listed
    assert auth.oidc_identity({"is_logged_in": True, "email": listed, "email_verified": True}, policy) == listed
    assert auth.oidc_identity({"is_logged_in": True, "email": listed, "email_verified": False}, policy) is None
    assert auth.oidc_identity({"is_logged_in": True, "email": "someone@pref.example.jp"}, policy) is None
    assert auth.oidc_identity({"is_logged_in": False, "email": listed}, policy) is None
    assert auth.oidc_identity({"email": listed}, policy) is None, "an e-mail without a login is not an identity"
    assert auth.oidc_identity({"is_logged_in": True, "email": listed}, auth.Policy()) is None


# ---------------------------------------------------------------- the データ管理 page


def test_without_administrators_only_the_local_browser_may_update(page_db):
    at = data_page()
    assert not at.exception
    assert any(auth.OPEN_NOTICE in w.value for w in at.warning) and not at.error
    assert {"dm_upload", "dm_rebuild", "dm_fetch"} <= keys(at)
    assert any("200 MB まで" in c.value for c in at.caption), "the page states the upload cap"


def test_without_administrators_a_remote_browser_gets_no_admin_action_and_is_told_how(page_db, monkeypatch):
    monkeypatch.setattr(auth, "_request", lambda: ("203.0.113.5", {"Host": "dx.pref.example.jp"}))
    at = data_page()
    assert not at.exception
    assert not keys(at) & {"dm_upload", *ADMIN_KEYS}
    assert not any(k.startswith(("dm_remove_", "dm_accept_")) for k in keys(at))
    closed = [i.value for i in at.info if auth.CLOSED_NOTICE in i.value]
    assert closed and "docs/ADMIN.md" in closed[0] and "secrets.toml" in closed[0]
    assert not any("ログインしてください" in i.value for i in at.info), "there is no login to point to"
    assert not any(auth.OPEN_NOTICE in w.value for w in at.warning)
    assert {"dm_template", "dm_workbook"} <= keys(at), "viewing and downloads stay open"


def test_a_viewer_elsewhere_cannot_lock_the_administrator_out(page_db, monkeypatch):
    monkeypatch.setattr(auth, "ADDRESS_LIMITER", auth.AddressLimiter(limit=1))
    secrets = {"dashboard": {"admin_password_hash": HASH}}
    monkeypatch.setattr(auth, "_request", lambda: ("198.51.100.7", {"Host": "dx.pref.example.jp"}))
    viewer = log_in(data_page(secrets), "guess")
    assert any("パスワードが違います" in e.value for e in viewer.error)
    another_session = log_in(data_page(secrets), PASSWORD)  # same address, new session: still blocked
    assert any("受け付けません" in e.value for e in another_session.error)
    assert not keys(another_session) & {"dm_upload", *ADMIN_KEYS}
    monkeypatch.setattr(auth, "_request", lambda: ("203.0.113.20", {"Host": "dx.pref.example.jp"}))
    admin = log_in(data_page(secrets), PASSWORD)
    assert not admin.exception and {"dm_upload", "dm_rebuild", "dm_fetch"} <= keys(admin)


def test_a_viewer_gets_no_admin_action(page_db):
    at = data_page({"dashboard": {"admin_password_hash": HASH}})
    assert not at.exception
    assert not keys(at) & {"dm_upload", *ADMIN_KEYS}
    assert not any(k.startswith(("dm_remove_", "dm_accept_")) for k in keys(at))
    assert any("管理者だけが行えます" in i.value for i in at.info)
    assert not any(auth.OPEN_NOTICE in w.value for w in at.warning)
    # viewing stays open: the read-only parts are all there
    assert {"表示中のデータベース", "出典・ライセンス・調査時点", "取込ログ", "調査票（Excel）"} <= {
        s.value for s in at.header
    }
    assert {"dm_template", "dm_workbook"} <= keys(at)


def test_a_wrong_password_is_refused_and_throttled(page_db):
    at = log_in(data_page({"dashboard": {"admin_password_hash": HASH}}), "not the password")
    assert not at.exception
    assert any("パスワードが違います" in e.value for e in at.error)
    assert not keys(at) & {"dm_upload", *ADMIN_KEYS}
    at = log_in(at, PASSWORD)  # within the wait: refused without being checked
    assert any("秒はパスワードを受け付けません" in e.value for e in at.error)
    assert not keys(at) & {"dm_upload", *ADMIN_KEYS}


def test_the_right_password_opens_the_actions_and_no_secret_is_rendered(page_db):
    at = log_in(data_page({"dashboard": {"admin_password_hash": HASH}}), PASSWORD)
    assert not at.exception
    assert {"dm_upload", "dm_rebuild", "dm_fetch"} <= keys(at)
    assert any(auth.PASSWORD_IDENTITY in m.value for m in at.markdown)
    text = rendered(at)
    assert auth.PASSWORD_IDENTITY in text and "取込ログ" in text, "the dump holds what the page shows"
    for secret in (PASSWORD, HASH, HASH.split("$")[2], HASH.split("$")[3]):
        assert secret not in text
    assert PASSWORD not in repr(dict(at.session_state.items())), "the password field is cleared after the login"
    at = at.button(key="dm_admin_logout").click().run()
    assert not keys(at) & {"dm_upload", *ADMIN_KEYS}


def test_oidc_admin_by_listed_e_mail(page_db):
    viewer = data_page(OIDC_SECRETS, {"is_logged_in": True, "email": "someone@pref.example.jp"})
    assert not viewer.exception
    assert not keys(viewer) & {"dm_upload", *ADMIN_KEYS}
    assert any("管理者として登録されていません" in w.value for w in viewer.warning)
    admin = data_page(OIDC_SECRETS, {"is_logged_in": True, "email": "dx-office@pref.example.jp"})
    assert not admin.exception
    assert {"dm_upload", "dm_rebuild", "dm_fetch"} <= keys(admin)
    text = rendered(admin)
    assert "dx-office@pref.example.jp" in text
    assert "not-a-real-client-secret" not in text and "not-a-real-cookie-secret" not in text


def test_rebuild_and_rollback_record_the_administrator(page_db, tmp_path, monkeypatch):
    monkeypatch.setattr("loaders.demo.real_data_folders", lambda: [])  # only the upload: a quick build
    geojson = himeji_square_geojson()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "himeji.geojson").write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
    at = data_page(OIDC_SECRETS, {"is_logged_in": True, "email": "dx-office@pref.example.jp"})
    at = at.button(key="dm_rebuild").click().run()
    at = at.button(key="dm_rebuild_force").click().run()  # one boundary file replaces the demo: confirmed
    assert not at.exception, [e.message for e in at.exception]
    with duckdb.connect(str(page_db), read_only=True) as con:
        logged = con.execute("SELECT file, sha256, loaded_by, loaded_at FROM ingest_log").fetchall()
    assert [(f, by) for f, _, by, _ in logged] == [("himeji.geojson", "dx-office@pref.example.jp")]
    assert logged[0][1] == hashlib.sha256((uploads / "himeji.geojson").read_bytes()).hexdigest()
    # the page shows who loaded which file
    log = next(d.value for d in at.dataframe if "担当" in d.value.columns)
    assert {"日時", "ファイル", "担当", "SHA-256"} <= set(log.columns) and "dx-office@pref.example.jp" in set(
        log["担当"]
    )
    # the replaced demo DB was kept as a version, offered by when it was shown and what it held (not by
    # its file name): roll back to it
    offered = at.selectbox(key="dm_version").options
    assert len(offered) == 1 and re.fullmatch(
        r"\d{4}年\d+月\d+日 [\d:]+ まで表示していた版（構築 .+、デモ用の架空データを含む）", offered[0]
    ), offered
    at = at.button(key="dm_rollback").click().run()
    assert not at.exception
    assert any(m.value == f"{offered[0]}に戻しました。" for m in at.success), [m.value for m in at.success]
    with duckdb.connect(str(page_db), read_only=True) as con:
        assert con.execute("SELECT value FROM build_info WHERE key = 'demo'").fetchone()[0] == "true"


def test_cli_build_records_the_os_user(tmp_path):
    import getpass

    from loaders.__main__ import main

    source = tmp_path / "src"
    source.mkdir()
    (source / "area.csv").write_text("not a recognised file\n", encoding="utf-8")
    target = tmp_path / "cli.duckdb"
    # an unrecognised file stops a build unless forced (tests/test_build_safety.py); forced, it is logged
    assert main(["build", "--source", str(source), "--db", str(target), "--force"]) == 0
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT DISTINCT loaded_by FROM ingest_log").fetchall() == [(getpass.getuser(),)]


# ---------------------------------------------------------------- deployment settings


def test_config_keeps_xsrf_and_caps_uploads():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"].get("enableCORS", True) is True, "CORS protection stays on (XSRF needs it)"
    # the official N03 Shapefile zips are ~60 MB; the cap stays well below Streamlit's 1 GB maximum
    assert 60 <= config["server"]["maxUploadSize"] <= 200


def test_config_skips_the_full_collection_after_each_run():
    # a gc.collect() after every script run cost ~17 % of the server's CPU with 20 sessions (docs/ADMIN.md)
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False


def test_no_secret_is_tracked_and_the_example_is_inert():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert not [f for f in tracked if f.endswith("secrets.toml")]
    ignored = subprocess.run(
        ["git", "check-ignore", ".streamlit/secrets.toml"], cwd=ROOT, capture_output=True, text=True
    )
    assert ignored.returncode == 0, ".streamlit/secrets.toml must be git-ignored"
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.example.toml").read_text(encoding="utf-8"))
    policy = auth.policy_from_secrets(example)
    assert policy.configured and not policy.password_ready, "an example copied unchanged locks, never opens"


def test_streamlit_has_the_published_advisories_fixed():
    major, minor = (int(part) for part in version("streamlit").split(".")[:2])
    assert (major, minor) >= (1, 54)
