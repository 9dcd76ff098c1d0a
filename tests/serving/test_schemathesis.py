"""Schemathesis against a real ``bentoml serve``: every route of ``/docs.json``.

Every schemathesis check runs: no 5xx, every status, media type, header and body
as the document says, schema-valid requests accepted and invalid ones refused,
undeclared methods answered 405, and the bearer token not ignored. The run is
bounded: ``SCHEMATHESIS_EXAMPLES`` test cases per operation and phase (default 10)
and ``SCHEMATHESIS_MAX_TIME`` seconds (default 45). CI draws the same cases every
run (a fixed seed), a developer's runs new ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import Server, bentoml_serve

pytestmark = pytest.mark.slow

TOKEN = "schemathesis-token-0123456789"
EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "10")
MAX_TIME = os.environ.get("SCHEMATHESIS_MAX_TIME", "45")
SCORING_ROUTES = ("/score", "/score_batch", "/explain", "/report")


@pytest.fixture(scope="module")
def server(
    bundle_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {"REDISCOVER_BUNDLE": str(bundle_path), "REDISCOVER_API_TOKEN": TOKEN}
    workdir = tmp_path_factory.mktemp("schemathesis")
    # Every address: with a token, the service may listen beyond loopback.
    with bentoml_serve(workdir, env, host="0.0.0.0") as server:
        yield server


def _schemathesis(server: Server, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/docs.json"),
        *("--checks", "all", "--max-examples", EXAMPLES, "--max-time", MAX_TIME),
        *("--workers", "1", "--generation-database", "none", "--no-color"),
        *("--header", f"Authorization: Bearer {TOKEN}"),
        *("--report", "har", "--report-har-path", str(workdir / "requests.har")),
    ]
    if os.environ.get("CI"):
        command += ["--seed", "20261207"]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=300, check=False
    )


def test_every_answer_matches_the_published_schema(
    server: Server, tmp_path: Path
) -> None:
    done = _schemathesis(server, tmp_path)
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    entries = json.loads((tmp_path / "requests.har").read_text())["log"]["entries"]
    answers = Counter(
        (entry["request"]["url"].removeprefix(server.url), entry["response"]["status"])
        for entry in entries
    )
    by_status = Counter(status for _, status in answers.elements())
    print(f"schemathesis: {len(entries)} requests, {sorted(by_status.items())}")
    assert not [status for status in by_status if status >= 500]
    for route in SCORING_ROUTES:
        # Valid requests scored, invalid ones refused, a missing token refused.
        assert {200, 400, 401} <= {s for (path, s) in answers if path == route}, route
    assert ("/model", 401) in answers


@pytest.mark.parametrize("route", ["/score", "/model"])
def test_the_real_server_wants_the_token_and_leaves_the_probes_open(
    server: Server, route: str, braf_melanoma: dict[str, Any]
) -> None:
    def call(headers: dict[str, str]) -> httpx.Response:
        if route == "/model":
            return httpx.get(f"{server.url}{route}", headers=headers, timeout=30)
        body = {"profile": braf_melanoma}
        return httpx.post(
            f"{server.url}{route}", json=body, headers=headers, timeout=30
        )

    refused = call({})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert call({"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for probe in ("/healthz", "/livez", "/readyz"):
        assert httpx.get(f"{server.url}{probe}", timeout=30).status_code == 200
