"""One real ``bentoml serve`` process, talked to over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(
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


def _read_log_when_it_has(log_path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while text not in (log := log_path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{log}"
        time.sleep(0.1)
    return log


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The server runs in its own session; signal that group, workers included.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Server(NamedTuple):
    url: str
    log_path: Path


@pytest.fixture(scope="module")
def server(
    bundle_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A ready ``bentoml serve serving.service:Rediscover`` and its output file."""
    workdir = tmp_path_factory.mktemp("bentoml")
    port = _free_port()
    env = {
        **os.environ,
        "REDISCOVER_BUNDLE": str(bundle_path),
        "BENTOML_HOME": str(workdir / "home"),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [
        *(sys.executable, "-m", "bentoml", "serve", "serving.service:Rediscover"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_ready(process, base_url, log_path)
        yield Server(base_url, log_path)
    finally:
        _stop(process)


@pytest.mark.slow
def test_served_score_ranks_dabrafenib_first_for_braf_melanoma(
    server: Server, braf_melanoma: dict[str, Any]
) -> None:
    response = httpx.post(
        f"{server.url}/score", json={"profile": braf_melanoma}, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"][0]["drug"] == "dabrafenib"
    assert "mutation BRAF" in {f["feature"] for f in body["results"][0]["top_features"]}
    log = _read_log_when_it_has(server.log_path, body["request_id"])
    assert "PATIENT-SECRET-42" not in log


@pytest.mark.slow
def test_served_score_rejects_an_unknown_kind_naming_the_field(
    server: Server, braf_melanoma: dict[str, Any]
) -> None:
    braf_melanoma["alterations"][0]["kind"] = "banana"
    response = httpx.post(
        f"{server.url}/score", json={"profile": braf_melanoma}, timeout=30
    )
    assert response.status_code == 400
    locations = [error["loc"] for error in response.json()["detail"]]
    assert locations == [["profile", "alterations", 0, "kind"]]
    assert "banana" not in response.text
    log = _read_log_when_it_has(server.log_path, "profile.alterations.0.kind")
    assert "banana" not in log


@pytest.mark.slow
def test_served_model_info_and_probes(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    info = httpx.get(f"{server.url}/model", timeout=10)
    assert info.status_code == 200, info.text
    assert info.json()["model_version"] == "local"
