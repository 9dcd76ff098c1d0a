"""Real ``bentoml serve`` processes for tests, on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from benchmarks._processes import free_port, serve_command, spawned

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


@contextmanager
def bentoml_serve(
    workdir: Path,
    env: Mapping[str, str],
    *,
    target: str = "serving.service:Rediscover",
    cwd: Path = REPO_ROOT,
    host: str = "127.0.0.1",
) -> Iterator[Server]:
    """``bentoml serve TARGET`` (the service, or a Bento's tag) with ``env``, from
    ``cwd``, until ready.

    It listens on ``host`` (``0.0.0.0``: every address); the URL is loopback's.
    Output goes to ``workdir/server.log``; the process group is stopped on exit.
    """
    environment = {k: v for k, v in os.environ.items() if k not in _MODEL_SOURCE}
    environment |= {
        "REDISCOVER_WORKERS": "1",  # one bundle in service: reloads are exact
        **env,
        "BENTOML_HOME": str(workdir / "bentoml"),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    port = free_port()
    log_path = workdir / "server.log"
    command = serve_command(target, port, host=host)
    with spawned(command, env=environment, cwd=cwd, log_path=log_path) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, f"{url}/readyz", log_path)
        yield Server(url, log_path)


def wait_until_ready(
    process: subprocess.Popen[bytes],
    probe: str,
    log_path: Path,
    *,
    what: str = "bentoml serve",
) -> None:
    """Return once ``probe`` (a URL) answers 200; fail with the server's log when
    the process exits first or the start-up timeout passes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(probe, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(
        f"{what} not ready after {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()}"
    )
