"""deploy/ (issue 18 step 3): the image runs the README's commands, compose.yaml describes N
read-only replicas, one writing administration replica and nginx, and the nginx config (rendered
from the one template the scale-out benchmark also uses) passes ``nginx -t`` with the sticky route,
the websocket upgrade and passive health checks. Docker itself is not run here."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from benchmarks.scaleout import nginx_binary
from deploy import healthcheck, nginx

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def readme_run_command() -> list[str]:
    """The README's first command, split at ``&&``: make a venv, activate it, install, run."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```bash\n(.+?)\n```", text, re.S).group(1).strip()
    return [step.strip() for step in first.split("&&")]


def dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def test_the_image_runs_the_readmes_commands():
    steps = readme_run_command()
    install, run = steps[-2], steps[-1]
    assert install == "pip install -r requirements.txt" and run == "streamlit run app.py"
    rows = dockerfile()
    assert any(word == "RUN" and rest == install for word, rest in rows), "the README's install step, unchanged"
    command = [rest for word, rest in rows if word == "CMD"]
    assert command and yaml.safe_load(command[-1]) == shlex.split(run), "the README's run step, unchanged"
    assert rows[0][0] == "FROM" and "slim" in rows[0][1]
    apt = " ".join(rest for word, rest in rows if word == "RUN" and "apt-get install" in rest)
    assert "chromium" in apt and "fonts-noto-cjk" in apt, "PNG and PPTX exports need them"
    users = [rest for word, rest in rows if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    health = next(rest for word, rest in rows if word == "HEALTHCHECK")
    assert "deploy.healthcheck" in health
    env = " ".join(rest for word, rest in rows if word == "ENV")
    assert "STREAMLIT_SERVER_PORT=8501" in env and "DX_DB=" in env and "STREAMLIT_SERVER_FILE_WATCHER_TYPE=none" in env


def test_the_readme_points_to_the_deployment():
    assert "deploy/README.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (DEPLOY / "README.md").is_file()


def test_compose_has_read_only_replicas_one_writing_admin_and_nginx():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"app", "admin", "nginx"}
    app, admin, proxy = services["app"], services["admin"], services["nginx"]
    assert str(app["deploy"]["replicas"]).startswith("${DX_REPLICAS")
    data_mounts = {name: [v for v in s["volumes"] if v.split(":")[0] == "dx-data"] for name, s in services.items()}
    assert data_mounts["app"] == ["dx-data:/srv/data:ro"], "every viewing replica reads the folder, read-only"
    assert data_mounts["admin"] == ["dx-data:/srv/data"], "only the administration replica writes it"
    assert data_mounts["nginx"] == []
    for service in (app, admin):
        assert service["environment"]["DX_DB"] == "/srv/data/dashboard.duckdb"
        assert "deploy.healthcheck" in service["healthcheck"]["test"]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert any(v.startswith("./nginx.conf:/etc/nginx/nginx.conf") for v in proxy["volumes"])
    assert all(port.startswith("127.0.0.1:") for port in admin["ports"]), "administration is not public"
    assert "ports" not in app and not any("secrets.toml" in v for v in app["volumes"]), "viewers: no admin login"


def test_the_committed_nginx_conf_is_the_rendered_template():
    assert (DEPLOY / "nginx.conf").read_text(encoding="utf-8") == nginx.compose_conf(), (
        "run: python -m deploy.nginx > deploy/nginx.conf"
    )


def test_the_nginx_config_routes_by_cookie_and_upgrades_the_websocket():
    text = nginx.render(["10.0.0.1:8501", "10.0.0.2:8501"])
    assert "hash $route consistent;" in text and not re.search(r"^\s*ip_hash", text, re.M)
    assert re.search(r'map \$cookie_dxroute \$route \{\s*""\s+\$request_id;\s*default \$cookie_dxroute;', text)
    assert "add_header Set-Cookie $route_cookie;" in text
    stream = text[text.index("location /_stcore/stream") :].split("}", 1)[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in stream and "Connection $connection_upgrade" in stream
    assert (
        re.search(r"proxy_read_timeout (\d+)s", stream)
        and int(re.search(r"proxy_read_timeout (\d+)s", stream)[1]) >= 3600
    )
    for server in ("10.0.0.1:8501", "10.0.0.2:8501"):
        assert f"server {server} max_fails=" in text and "fail_timeout=" in text
    assert "X-Forwarded-For" in text, "ui.auth must see the request as relayed, not from localhost"
    with pytest.raises(ValueError):
        nginx.render(["a:1"], nginx.Layout(listen="{{LISTEN}}"))


@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed")
def test_nginx_accepts_the_config(tmp_path):
    conf = nginx.write_private(tmp_path, 18080, ["127.0.0.1:18501", "127.0.0.1:18502"])
    checked = subprocess.run(
        [nginx_binary(), "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    # the container's layout too (only the upstream names differ: `app` resolves inside compose only)
    (tmp_path / "compose").mkdir()
    container = nginx.render(["127.0.0.1:8501"]).replace("/tmp/nginx.pid", str(tmp_path / "compose" / "nginx.pid"))
    (tmp_path / "compose" / "nginx.conf").write_text(container, encoding="utf-8")
    checked = subprocess.run(
        [nginx_binary(), "-t", "-c", str(tmp_path / "compose" / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_healthcheck_reports_the_database_state(tmp_path, monkeypatch, demo_db):
    monkeypatch.setattr(healthcheck, "streamlit_state", lambda url: None)
    missing = tmp_path / "dashboard.duckdb"
    monkeypatch.setenv("DX_DB", str(missing))
    assert healthcheck.main([]) == 0, "no database yet: the replica serves 「データを準備中です」"
    assert healthcheck.main(["--require-database"]) == 1
    missing.write_bytes(b"not a database")
    assert "unreadable" in healthcheck.database_state(missing)
    assert healthcheck.main(["--require-database"]) == 1
    missing.unlink()
    missing.write_bytes(demo_db.read_bytes())
    assert healthcheck.database_state(missing) is None and healthcheck.main(["--require-database"]) == 0
    with duckdb.connect(str(missing)) as con:  # as an earlier version of the app built it
        con.execute("DROP TABLE indicator_gaps")
    assert "以前の版" in healthcheck.database_state(missing) and healthcheck.main(["--require-database"]) == 1
    monkeypatch.setattr(healthcheck, "streamlit_state", lambda url: "streamlit: refused")
    assert healthcheck.main([]) == 1


def test_kubernetes_manifest_runs_the_same_image_with_cookie_affinity_and_a_read_only_volume():
    documents = {
        (doc["kind"], doc["metadata"]["name"]): doc
        for doc in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text(encoding="utf-8"))
    }
    viewers = documents[("Deployment", "dx-dashboard")]["spec"]["template"]["spec"]
    admin = documents[("Deployment", "dx-dashboard-admin")]["spec"]["template"]["spec"]
    (container,) = viewers["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/srv/data", "readOnly": True}]
    assert viewers["volumes"][0]["persistentVolumeClaim"]["readOnly"] is True
    assert not any(m.get("readOnly") for m in admin["containers"][0]["volumeMounts"] if m["name"] == "data")
    assert documents[("Deployment", "dx-dashboard-admin")]["spec"]["replicas"] == 1
    annotations = documents[("Ingress", "dx-dashboard")]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert container["image"] == admin["containers"][0]["image"], "one image for both"


def test_the_loaders_commands_write_the_database_the_app_reads(monkeypatch):
    """On the administration replica ``python -m loaders build`` without ``--db`` writes $DX_DB (the
    file every replica reads), not the repository's data folder the image's user cannot write."""
    from loaders.__main__ import parser
    from store.paths import DEFAULT_DB

    monkeypatch.setenv("DX_DB", "/srv/data/dashboard.duckdb")
    assert parser().parse_args(["build", "--source", "data/cache"]).db == "/srv/data/dashboard.duckdb"
    monkeypatch.delenv("DX_DB")
    assert parser().parse_args(["build", "--source", "data/cache"]).db == str(DEFAULT_DB)
