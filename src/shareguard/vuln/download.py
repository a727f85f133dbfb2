"""Download an OSV `all.zip` (streamed to a temporary file beside the database, size-capped)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shareguard.core.errors import BudgetExceeded, DatabaseError
from shareguard.core.masking import mask_url

OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("PyPI", "npm", "Debian", "Ubuntu", "Alpine")
"""What `shareguard db update` fetches without `--from` (conda is matched through PyPI)."""
MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024


def default_urls() -> list[str]:
    return [f"{OSV_BUCKET}/{eco}/all.zip" for eco in DEFAULT_ECOSYSTEMS]


def download(url: str, directory: Path, *, timeout: float = 60.0) -> Path:
    """Fetch `url` into a temporary file in `directory`; the caller deletes it."""
    import httpx  # here: ~60 ms of start-up that only `db update` needs

    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".osv-", suffix=".zip", dir=directory)
    path = Path(tmp)
    shown = mask_url(url)
    try:
        with os.fdopen(fd, "wb") as fh, httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code != 200:
                raise DatabaseError(f"download failed: HTTP {resp.status_code}", path=shown)
            total = 0
            for chunk in resp.iter_bytes(1024 * 1024):
                total += len(chunk)
                if total > MAX_DOWNLOAD_BYTES:
                    raise BudgetExceeded(f"download larger than {MAX_DOWNLOAD_BYTES} bytes", path=shown)
                fh.write(chunk)
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise DatabaseError(f"download failed: {type(exc).__name__}: {exc}", path=shown) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
