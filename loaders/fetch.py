"""Download the official files listed in data/sources.yaml into the git-ignored cache.

Each file is streamed to a ``.part`` file and renamed when complete, with timeouts and retries;
the sha256 of every file goes into ``manifest.json`` beside it. ``base_url`` replaces each
official URL's scheme and host with a mirror (tests use a loopback server) while keeping the
file's relative path, so the same list serves both.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from loaders.catalog import load_sources
from loaders.errors import LoaderError
from store.paths import DATA_DIR

CACHE_DIR = DATA_DIR / "cache"
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
TIMEOUT = (10, 60)  # connect, read seconds


@dataclass
class Download:
    source_id: str
    relative_path: str
    url: str


def planned_downloads(sources: dict[str, dict] | None = None, base_url: str | None = None) -> list[Download]:
    plan = []
    for source_id, entry in (sources or load_sources()).items():
        for relative_path, url in (entry.get("fetch") or {}).items():
            if base_url:
                url = base_url.rstrip("/") + "/" + quote(relative_path)
            plan.append(Download(source_id, relative_path, url))
    return plan


def safe_destination(dest: Path, relative_path: str) -> Path:
    """The file's path under ``dest``; refuses absolute paths and ``..`` escapes."""
    target = (dest / relative_path).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise LoaderError("保存先がデータフォルダの外を指しています。", file=relative_path)
    return target


def _session(retries: int) -> requests.Session:
    session = requests.Session()
    retry = Retry(
        total=retries, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",)
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def _progress(name: str, done: int, total: int | None) -> None:
    if total:
        print(f"\r  {name}: {done * 100 // total:3d}% ({done // 1024} KB)", end="", file=sys.stderr, flush=True)
    else:
        print(f"\r  {name}: {done // 1024} KB", end="", file=sys.stderr, flush=True)


def fetch(
    dest: Path = CACHE_DIR,
    base_url: str | None = None,
    retries: int = 3,
    progress: Callable[[str, int, int | None], None] | None = _progress,
) -> list[dict]:
    """Download every listed file; returns manifest rows (path, url, sha256, bytes, fetched_at)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    session = _session(retries)
    manifest = []
    for item in planned_downloads(base_url=base_url):
        target = safe_destination(dest, item.relative_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with session.get(item.url, stream=True, timeout=TIMEOUT) as response:
                response.raise_for_status()
                total = int(response.headers.get("Content-Length") or 0) or None
                with open(partial, "wb") as handle:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        size += len(chunk)
                        if size > MAX_DOWNLOAD_BYTES:
                            raise LoaderError("ダウンロードが上限サイズを超えました。", file=item.relative_path)
                        digest.update(chunk)
                        handle.write(chunk)
                        if progress:
                            progress(Path(item.relative_path).name, size, total)
            if progress:
                print(file=sys.stderr)
        except requests.RequestException as exc:
            partial.unlink(missing_ok=True)
            raise LoaderError(
                f"ダウンロードに失敗しました（{item.url}: {exc.__class__.__name__}）。", file=item.relative_path
            ) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        manifest.append(
            {
                "source": item.source_id,
                "path": item.relative_path,
                "url": item.url,
                "sha256": digest.hexdigest(),
                "bytes": size,
                "fetched_at": datetime.now().isoformat(timespec="seconds"),
            }
        )
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest
