"""Real ``bentoml serve`` processes for tests, on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 120
# The model source and the API token come from the caller's env only, never from
# the developer's.
_MODEL_SOURCE = (
    "REDISCOVER_BUNDLE", "MLFLOW_TRACKING_URI",
    "REDISCOVER_API_TOKEN", "REDISCOVER_API_TOKEN_FILE",
)  # fmt: skip


class Server(NamedTuple):
    url: str
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bentoml_serve(
    workdir: Path, env: Mapping[str, str], *, host: str = "127.0.0.1"
) -> Iterator[Server]:
    """``bentoml serve serving.service:Rediscover`` with ``env``, until ready.

    It listens on ``host`` (``0.0.0.0``: every address); the URL is loopback's.
    Output goes to ``workdir/server.log``; the process group is stopped on exit.
    """
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in _MODEL_SOURCE}
    environment |= {
        "REDISCOVER_WORKERS": "1",  # one bundle in service: reloads are exact
        **env,
        "BENTOML_HOME": str(workdir / "bentoml"),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    command = [
        *(sys.executable, "-m", "bentoml", "serve", "serving.service:Rediscover"),
        *("--host", host, "--port", str(port)),
    ]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, url, log_path)
        yield Server(url, log_path)
    finally:
        stop(process)


def wait_until_ready(
    process: subprocess.Popen[bytes], base_url: str, log_path: Path
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bentoml serve exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(
        f"bentoml serve not ready after {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    # The server runs in its own session; signal that group, workers included.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
