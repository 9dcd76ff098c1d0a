"""One real ``bentoml serve`` process, talked to over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from features import Profile
from models import ResponderModel, rank_drugs
from tests.servers import Server, bentoml_serve
from tests.serving.conftest import metric_value


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


@pytest.mark.slow
def test_served_boundary_refuses_oversized_and_non_json_bodies(server: Server) -> None:
    big = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    too_large = httpx.post(
        f"{server.url}/score",
        content=big,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert too_large.status_code == 413
    assert too_large.json()["request_id"] == too_large.headers["x-request-id"]
    for content_type in ("text/plain", "multipart/form-data"):
        response = httpx.post(
            f"{server.url}/score",
            content=b'{"profile": {"tumour_type": "melanoma"}}',
            headers={"content-type": content_type},
            timeout=30,
        )
        assert response.status_code == 415
        assert "request_id" in response.json()
    infinite = httpx.post(
        f"{server.url}/score",
        json={"profile": {"tumour_type": "ovarian", "hrd_score": 1e39}},
        timeout=30,
    )
    assert infinite.status_code == 400
    assert infinite.json()["detail"][0]["loc"] == ["profile", "hrd_score"]


@pytest.mark.slow
def test_served_logs_hold_no_submitted_text(server: Server) -> None:
    canary = "qzwcanary"
    profile = {
        "sample_id": f"{canary}-s",
        "tumour_type": f"{canary} type",
        "alterations": [{"kind": "mutation", "gene": f"{canary}G"}],
    }
    requests = [
        ("/score", {"profile": {**profile, f"{canary}_key": 1}}),
        ("/score", {"profile": {**profile, "tmb_mut_per_mb": canary}}),
        ("/explain", {"profile": profile, "drug": f"{canary}-drug"}),
        ("/score", {"profile": profile}),
    ]
    ids = [httpx.get(f"{server.url}/{canary}", timeout=30).headers["x-request-id"]]
    for route, body in requests:
        response = httpx.post(f"{server.url}{route}", json=body, timeout=30)
        assert response.status_code in (200, 400, 404), response.text
        ids.append(response.headers["x-request-id"])
    log = _read_log_when_it_has(server.log_path, ids[-1])
    for request_id in ids[:-1]:
        log = _read_log_when_it_has(server.log_path, request_id)
    assert canary not in log.lower()
    assert "Traceback" not in log


@pytest.mark.slow
def test_served_report_is_a_page_naming_the_top_drug(
    server: Server, braf_melanoma: dict[str, Any]
) -> None:
    response = httpx.post(
        f"{server.url}/report", json={"profile": braf_melanoma}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    first = response.text.index("<td class='drug'>")
    assert response.text[first:].startswith("<td class='drug'>dabrafenib</td>")
    log = _read_log_when_it_has(server.log_path, response.headers["x-request-id"])
    assert "reported top=15" in log
    assert "PATIENT-SECRET-42" not in log and "V600E" not in log


@pytest.mark.slow
def test_served_front_page_is_ours(server: Server) -> None:
    page = httpx.get(f"{server.url}/", timeout=10)
    assert page.status_code == 200
    assert "googletagmanager" not in page.text.lower()
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.slow
def test_served_metrics_move_with_requests(
    server: Server, bundle_path: Path, braf_melanoma: dict[str, Any]
) -> None:
    unseen = {"tumour_type": "mesothelioma"}  # no drug's training data has it
    before = httpx.get(f"{server.url}/metrics", timeout=10).text
    for _ in range(3):
        score = httpx.post(f"{server.url}/score", json={"profile": braf_melanoma})
        assert score.status_code == 200
    batch = {"profiles": [braf_melanoma, unseen]}
    assert httpx.post(f"{server.url}/score_batch", json=batch).status_code == 200
    assert httpx.get(f"{server.url}/qzwcanary-path").status_code == 404
    after = httpx.get(f"{server.url}/metrics", timeout=10).text

    def moved(sample: str, **labels: str) -> float:
        return metric_value(after, sample, **labels) - metric_value(
            before, sample, **labels
        )

    ok = {"method": "POST", "status": "200"}
    assert moved("rediscover_requests_total", route="/score", **ok) == 3
    assert moved("rediscover_requests_total", route="/score_batch", **ok) == 1
    assert moved("rediscover_request_duration_seconds_count", route="/score") == 3
    assert moved("rediscover_request_duration_seconds_sum", route="/score") > 0
    other = {"route": "other", "method": "GET", "status": "404"}
    assert moved("rediscover_requests_total", **other) == 1
    # The scores returned, counted by in_domain exactly as the bundle flags them.
    model = ResponderModel.load(bundle_path)
    profiles = [Profile.model_validate(p) for p in [braf_melanoma] * 4 + [unseen]]
    flags = [s.in_domain for scores in rank_drugs(model, profiles) for s in scores]
    assert flags.count(False) >= 3  # the unseen tumour type, at least
    assert moved("rediscover_scored_results_total", in_domain="false") == (
        flags.count(False)
    )
    assert moved("rediscover_scored_results_total", in_domain="true") == (
        flags.count(True)
    )
    assert metric_value(after, "rediscover_model_served", model_version="local") == 1
    ours = [line for line in after.splitlines() if line.startswith("rediscover_")]
    assert ours and not any("qzwcanary" in line for line in ours)
