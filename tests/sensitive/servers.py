"""Local object-store servers for the tests, started on 127.0.0.1 by the tests themselves: moto's S3 server
(moto[server] from PyPI) and the gcp-storage-emulator GCS server; skipped cleanly only where the package is
not installed."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


@contextmanager
def serve(module: str, args: list[str], port: int) -> Iterator[str]:
    if importlib.util.find_spec(module.split(".")[0]) is None:
        pytest.skip(f"{module} is not installed")
    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def s3_server() -> Iterator[str]:
    port = free_port()
    with serve("moto.server", ["-H", "127.0.0.1", "-p", str(port)], port) as url:
        yield url


@contextmanager
def gcs_server() -> Iterator[str]:
    port = free_port()
    with serve(
        "gcp_storage_emulator", ["start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"], port
    ) as url:
        yield url
