"""Render deploy/nginx.conf.template: the nginx in front of the replicas, for compose and for the
scale-out benchmark alike (one template, so what is measured is what is deployed).

    python -m deploy.nginx > deploy/nginx.conf      # compose: replicas reached as app:8501
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
COMPOSE_CONF = Path(__file__).with_name("nginx.conf")
MAX_FAILS, FAIL_TIMEOUT = 2, "10s"
PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")


@dataclass(frozen=True)
class Layout:
    """Where nginx listens and writes: the container's standard paths, or a temporary folder for a
    non-root nginx on this machine (``Layout.private``)."""

    listen: str = "8080"
    pid: str = "/tmp/nginx.pid"
    temp: str = "/tmp"
    error_log: str = "/dev/stderr"
    access_log: str = "/dev/stdout"
    mime_types: str = "/etc/nginx/mime.types"
    main: str = ""  # top-level directives before the rest (e.g. "daemon off;" when run by a test)

    @classmethod
    def private(cls, folder: Path, port: int) -> Layout:
        return cls(
            listen=f"127.0.0.1:{port}",
            pid=str(folder / "nginx.pid"),
            temp=str(folder / "temp"),
            error_log=str(folder / "error.log"),
            access_log=str(folder / "access.log"),
            main="daemon off;",
        )


def render(servers: list[str], layout: Layout = Layout()) -> str:
    """The nginx.conf for upstream ``servers`` ("host:port" each)."""
    lines = "\n".join(
        f"        server {server} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT};" for server in servers
    )
    values = {
        "MAIN": layout.main,
        "PID": layout.pid,
        "ERROR_LOG": layout.error_log,
        "ACCESS_LOG": layout.access_log,
        "MIME_TYPES": layout.mime_types,
        "TEMP": layout.temp,
        "SERVERS": lines,
        "LISTEN": layout.listen,
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    left = PLACEHOLDER.findall(text)
    if left:
        raise ValueError(f"placeholders of nginx.conf.template not filled: {left}")
    return text


def compose_conf() -> str:
    """For compose.yaml: the service name ``app`` resolves to every replica's address when nginx
    starts (one upstream server each); a change of N needs `docker compose restart nginx`."""
    return render(["app:8501"])


def write_private(folder: Path, port: int, servers: list[str]) -> Path:
    """A config for a non-root nginx whose pid, logs and temp files live in ``folder``."""
    (folder / "temp").mkdir(parents=True, exist_ok=True)
    # started by root (a CI container), nginx's workers drop to an unprivileged user: they must be
    # able to reach and write the temp folder
    folder.chmod(0o755)
    (folder / "temp").chmod(0o1777)
    path = folder / "nginx.conf"
    path.write_text(render(servers, Layout.private(folder, port)), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.nginx", description=__doc__.split("\n\n")[0])
    parser.add_argument("servers", nargs="*", default=["app:8501"], help="upstream host:port (default app:8501)")
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.servers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
