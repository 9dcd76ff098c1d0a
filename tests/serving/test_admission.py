"""Batches beside single profiles: no head-of-line blocking, fast 503s when full,
cancellation of a batch nobody waits for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from features import Profile
from serving._admission import Admission, Limits
from serving._batch import rank_in_chunks
from tests.serving.conftest import TestClient, start_client


@pytest.fixture
def held_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every /score_batch chunk waits until the event is set (at most 30 s)."""
    from serving import service

    release = threading.Event()
    rank = service._rank_profiles

    def held(loaded: Any, profiles: Sequence[Profile], request: Any) -> Any:
        if isinstance(request, service.ScoreBatchRequest):
            release.wait(timeout=30)
        return rank(loaded, profiles, request)

    monkeypatch.setattr(service, "_rank_profiles", held)
    yield release
    release.set()


@pytest.fixture
def one_batch_client(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("REDISCOVER_MAX_BATCHES", "1")
    yield from start_client(asgi_app, bundle_path, monkeypatch)


def test_score_answers_while_a_batch_runs_and_a_second_batch_gets_a_fast_503(
    one_batch_client: TestClient,
    held_batches: threading.Event,
    braf_melanoma: dict[str, Any],
) -> None:
    client = one_batch_client
    batch = {"profiles": [braf_melanoma] * 3}
    answers: list[Any] = []
    running = threading.Thread(
        target=lambda: answers.append(client.post("/score_batch", json=batch))
    )
    running.start()
    time.sleep(0.5)  # the batch is admitted and waits in its first chunk
    started = time.perf_counter()
    score = client.post("/score", json={"profile": braf_melanoma})
    assert score.status_code == 200, score.text
    busy = client.post("/score_batch", json=batch)
    assert time.perf_counter() - started < 5  # neither waited for the batch
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert "busy" in busy.json()["error"]
    assert busy.json()["request_id"] == busy.headers["x-request-id"]
    assert not answers  # the first batch is still held
    held_batches.set()
    running.join(timeout=30)
    assert answers[0].status_code == 200, answers[0].text
    assert len(answers[0].json()["results"]) == 3
    # The lane is free again.
    assert client.post("/score_batch", json=batch).status_code == 200


def test_a_cancelled_batch_starts_no_further_chunk() -> None:
    profiles = [Profile(tumour_type="melanoma")] * 10
    chunks: list[int] = []

    def slow_chunk(part: Sequence[Profile]) -> list[bytes]:
        chunks.append(len(part))
        time.sleep(0.3)
        return [b"[]"] * len(part)

    async def cancelled_after_one_chunk() -> None:
        limiter = anyio.CapacityLimiter(1)
        with anyio.move_on_after(0.1):
            await rank_in_chunks(slow_chunk, profiles, chunk=2, limiter=limiter)
        await anyio.sleep(0.7)  # time for two more chunks, had it gone on

    anyio.run(cancelled_after_one_chunk)
    assert chunks == [2]


def test_a_batch_whose_client_leaves_is_cancelled() -> None:
    finished = []
    sent: list[dict[str, Any]] = []

    async def batch_api(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["body"] == b"{}"
        await anyio.sleep(5)  # stands for chunks in the batch thread
        finished.append(True)

    async def receive_then_leave() -> dict[str, Any]:
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"{}", "more_body": False}
        await anyio.sleep(0.2)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    received: list[bool] = []
    admission = Admission(
        batch_api,
        batch_routes=["/score_batch"],
        request_routes=[],
        limits=lambda: Limits(batches=1, requests=1),
    )
    scope = {"type": "http", "method": "POST", "path": "/score_batch"}
    started = time.perf_counter()
    anyio.run(admission, scope, receive_then_leave, send)
    assert time.perf_counter() - started < 2
    assert finished == [] and sent == []
    assert admission.in_flight == {"batch": 0, "request": 0}
