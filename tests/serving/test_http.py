"""One real ``bentoml serve`` process, talked to over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import Server, bentoml_serve


def _read_log_when_it_has(log_path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while text not in (log := log_path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{log}"
        time.sleep(0.1)
    return log


@pytest.fixture(scope="module")
def server(
    bundle_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A ready ``bentoml serve serving.service:Rediscover`` and its output file."""
    workdir = tmp_path_factory.mktemp("bentoml")
    with bentoml_serve(workdir, {"REDISCOVER_BUNDLE": str(bundle_path)}) as server:
        yield server


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
