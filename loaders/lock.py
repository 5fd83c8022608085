"""One exclusive lock per database for everything that replaces it: ``loaders build``, ``rollback``,
``fetch`` and the データ管理 page.

The lock is ``.<database>.lock`` next to the target, held with ``fcntl.flock`` for as long as the
update runs and removed when it ends; its body (JSON) says who holds it: pid, host, start time,
user, action. The kernel drops a flock when its process dies, so the file a killed process leaves
behind never blocks: the next update locks it, finds the body of a holder that is gone, and takes
it over (the stale holder is kept in ``BuildLock.stale``). Without ``fcntl`` (Windows) the body's
pid decides: a live pid holds the lock. A second update while one runs stops at once
with 「別の更新が実行中です（開始時刻、担当者）」 and changes nothing.

Two sessions of the same server process conflict as two processes do: each acquisition opens the
file anew, and flock locks belong to the open file, not the process.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from loaders.errors import LoaderError

try:  # POSIX; the dashboard's servers are Linux
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, updates are not serialised
    fcntl = None


class BuildLockedError(LoaderError):
    """Another update of the same database is running; nothing was changed."""

    def __init__(self, holder: dict):
        self.holder = holder
        super().__init__(
            f"{describe_holder(holder)}終わってからもう一度実行してください。データベースは変更していません。"
        )


def describe_holder(holder: dict) -> str:
    """「別の更新（再構築）が実行中です（開始時刻 …、担当者 …）。」"""
    started = str(holder.get("started_at") or "不明").replace("T", " ")
    user = holder.get("user") or "不明"
    action = holder.get("action")
    what = f"（{action}）" if action else ""
    return f"別の更新{what}が実行中です（開始時刻 {started}、担当者 {user}）。"


def lock_path(target: str | Path) -> Path:
    target = Path(target)
    return target.with_name(f".{target.name}.lock")  # hidden, beside the .<name>.building-* files


def _pid_alive(pid: object) -> bool:
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_body(handle) -> dict:
    handle.seek(0)
    try:
        body = json.loads(handle.read() or "{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


@dataclass
class BuildLock:
    """``with BuildLock(target, user=..., action=...):`` — raises ``BuildLockedError`` at once when held."""

    target: Path
    user: str | None = None
    action: str | None = None
    stale: dict | None = field(default=None, init=False)  # body left by a holder whose process is gone
    _handle: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.target = Path(self.target)

    @property
    def path(self) -> Path:
        return lock_path(self.target)

    def acquire(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._open_locked()
        previous = _read_body(handle)
        if previous:
            if fcntl is None and _pid_alive(previous.get("pid")):
                handle.close()
                raise BuildLockedError(previous)
            # a body nobody holds: its update was killed before releasing. Cleared by taking it over.
            self.stale = previous
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started_at": datetime.now().isoformat(timespec="seconds"),
                    "user": self.user or _current_user(),
                    "action": self.action,
                },
                ensure_ascii=False,
            )
        )
        handle.flush()
        self._handle = handle
        return self

    def _open_locked(self):
        while True:
            # not truncated on open: the body belongs to whoever holds the lock
            handle = open(self.path, "a+", encoding="utf-8")
            if fcntl is None:
                return handle
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_body(handle)
                handle.close()
                raise BuildLockedError(holder) from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return handle
            handle.close()  # the holder released (and removed) the file meanwhile: lock the new one

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # removed while still locked: no one can take the old file
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(target: str | Path) -> dict | None:
    """Who holds the lock of ``target`` now (its body), or None when no update runs."""
    path = lock_path(target)
    if not path.exists() or fcntl is None:
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_body(handle)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None
