"""The service follows the registry alias: swap without a failed request, refuse a
bundle that fails verification, and guard the reload endpoint with a token.

Every test uses a real SQLite MLflow registry in tmp_path holding small bundles.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlparse

import httpx
import mlflow
import prometheus_client
import pytest
from pydantic import ValidationError

from models import BUNDLE_DIGEST_TAG, ResponderModel, bundle_digest
from serving import ScoreRequest, ServingSettings
from tests.servers import Server, bentoml_serve
from tests.serving.conftest import (
    LOOPBACK_URL,
    TestClient,
    build_bundle,
    metric_value,
)

MODEL = "rediscover"
TOKEN = "reload-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Registry(NamedTuple):
    """A SQLite MLflow registry in a temporary folder."""

    uri: str
    client: mlflow.MlflowClient
    experiment_id: str

    def register(self, bundle: Path) -> str:
        """Log ``bundle`` to a new run and register it as the next version."""
        run = self.client.create_run(self.experiment_id)
        self.client.log_artifacts(run.info.run_id, str(bundle), artifact_path="bundle")
        self.client.set_terminated(run.info.run_id)
        if not self.client.search_registered_models(f"name = '{MODEL}'"):
            self.client.create_registered_model(MODEL)
        version = self.client.create_model_version(
            MODEL, source=f"{run.info.artifact_uri}/bundle", run_id=run.info.run_id,
            tags={BUNDLE_DIGEST_TAG: bundle_digest(bundle)},
        )  # fmt: skip
        return str(version.version)

    def register_without_digest(self, bundle: Path) -> str:
        """``bundle`` as the next version, without the digest tag (as versions
        registered before digests were recorded)."""
        version = self.register(bundle)
        self.client.delete_model_version_tag(MODEL, version, BUNDLE_DIGEST_TAG)
        return version

    def point_champion_at(self, version: str) -> None:
        """Move the ``champion`` alias."""
        self.client.set_registered_model_alias(MODEL, "champion", version)

    def stored_bundle(self, version: str) -> Path:
        """The folder that holds a version's artifacts in the artifact store."""
        source = urlparse(self.client.get_model_version(MODEL, version).source)
        assert source.scheme == "file", source
        return Path(unquote(source.path))


@pytest.fixture(scope="session")
def other_bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second bundle, trained on other seeded profiles."""
    return build_bundle(tmp_path_factory.mktemp("other") / "synthetic", seed=1)


@pytest.fixture
def registry(tmp_path: Path, bundle_path: Path, other_bundle_path: Path) -> Registry:
    """Versions 1 and 2 registered (two different bundles); champion -> 1."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    artifacts = (tmp_path / "artifacts").as_uri()
    experiment_id = client.create_experiment("rediscover", artifact_location=artifacts)
    store = Registry(uri, client, experiment_id)
    assert [store.register(bundle_path), store.register(other_bundle_path)] == [
        "1",
        "2",
    ]
    store.point_champion_at("1")
    return store


def _corrupt_one_booster(bundle: Path) -> None:
    booster = sorted((bundle / "boosters").iterdir())[0]
    data = bytearray(booster.read_bytes())
    data[len(data) // 2] ^= 0xFF
    booster.write_bytes(bytes(data))


def forge_knowledge(bundle: Path) -> None:
    """Edit knowledge.json and rewrite its SHA-256 in checksums.json to match: the
    edit the bundle's own checksums cannot see."""
    knowledge = json.loads((bundle / "knowledge.json").read_text())
    knowledge["sources"] = [*knowledge["sources"], "forged evidence"]
    (bundle / "knowledge.json").write_text(json.dumps(knowledge))
    checksums = json.loads((bundle / "checksums.json").read_text())
    forged = hashlib.sha256((bundle / "knowledge.json").read_bytes()).hexdigest()
    checksums["knowledge.json"] = forged
    (bundle / "checksums.json").write_text(json.dumps(checksums, indent=2))


@pytest.fixture
def corrupt_version(registry: Registry, bundle_path: Path) -> str:
    """Version 3: registered intact, then one booster byte changed in the store."""
    version = registry.register(bundle_path)
    _corrupt_one_booster(registry.stored_bundle(version))
    return version


def _service_env(registry: Registry, cache: Path, **extra: str) -> dict[str, str]:
    return {
        "MLFLOW_TRACKING_URI": registry.uri,
        "REDISCOVER_CACHE_DIR": str(cache),
        "REDISCOVER_RELOAD_INTERVAL": "0",
        "REDISCOVER_RELOAD_TOKEN": TOKEN,
        **extra,
    }


def _use_registry(
    monkeypatch: pytest.MonkeyPatch, registry: Registry, tmp_path: Path, **extra: str
) -> None:
    monkeypatch.delenv("REDISCOVER_BUNDLE", raising=False)
    for name, value in _service_env(registry, tmp_path / "cache", **extra).items():
        monkeypatch.setenv(name, value)


def _start(service_class: Any) -> Any:
    instance = service_class()
    assert instance.wait_until_ready(timeout=60)
    return instance


@pytest.fixture
def service(
    service_class: Any,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Any:
    """The service class, ready, serving the registry's champion (no periodic
    reload)."""
    _use_registry(monkeypatch, registry, tmp_path)
    return _start(service_class)


def _wait_for(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout} s"
        time.sleep(0.05)


# -- the class called directly ----------------------------------------------------


def test_moving_the_alias_then_reloading_swaps_the_version(
    service: Any,
    registry: Registry,
    braf_melanoma: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = service.model_info()
    assert (before.model_version, before.alias, before.last_reload_error) == (
        "1",
        "champion",
        None,
    )
    unchanged = service.reload_now()
    assert (unchanged.changed, unchanged.version, unchanged.error) == (False, "1", None)

    in_flight = service._require_model()  # what a request that started now holds
    registry.point_champion_at("2")
    with caplog.at_level(logging.INFO, logger="serving"):
        outcome = service.reload_now()
    assert (outcome.previous_version, outcome.version) == ("1", "2")
    assert outcome.changed and outcome.error is None
    assert 0 < outcome.seconds < 60
    assert "model version 1 -> 2 swapped in" in caplog.text
    after = service.model_info()
    assert after.model_version == "2"
    assert after.loaded_at > before.loaded_at
    assert after.data_hash != before.data_hash
    score = service.score(ScoreRequest(profile=braf_melanoma))
    assert score.model_version == "2"
    # The request that started before the swap still holds, and scores with, v1.
    assert in_flight.version == "1"
    assert in_flight.model.metadata.data_hash == before.data_hash


def test_the_periodic_check_follows_the_alias(
    service_class: Any,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use_registry(monkeypatch, registry, tmp_path, REDISCOVER_RELOAD_INTERVAL="0.2")
    service = _start(service_class)
    assert service.model_info().model_version == "1"
    registry.point_champion_at("2")
    _wait_for(
        lambda: service.model_info().model_version == "2",
        timeout=30,
        what="the watcher serving version 2",
    )
    service._stop_watching()


def test_a_dropped_service_stops_watching(
    service_class: Any,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use_registry(monkeypatch, registry, tmp_path, REDISCOVER_RELOAD_INTERVAL="0.05")
    before = set(threading.enumerate())
    service = _start(service_class)
    (watcher,) = {t for t in threading.enumerate() if "watcher" in t.name} - before
    assert watcher.is_alive()
    del service
    gc.collect()
    watcher.join(timeout=10)
    assert not watcher.is_alive()


def test_a_bundle_failing_verification_is_refused_and_not_retried_in_a_loop(
    corrupt_version: str,
    service: Any,
    registry: Registry,
    braf_melanoma: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusals = _reloads("refused")
    registry.point_champion_at(corrupt_version)
    with caplog.at_level(logging.ERROR, logger="serving"):
        refused = service.reload_now()
        # Two periodic checks after it: the same broken artifacts are not fetched
        # again until the alias moves (or someone asks explicitly).
        service._slot.reload_now(periodic=True)
        service._slot.reload_now(periodic=True)
    assert refused.error is not None and "SHA-256 mismatch" in refused.error
    assert (refused.changed, refused.version) == (False, "1")
    assert caplog.text.count("failed verification") == 1
    assert _reloads("refused") - refusals == 1  # on /metrics
    assert "still serving model version 1" in caplog.text
    error = service.model_info().last_reload_error
    assert error is not None
    assert (error.version, error.reason) == (corrupt_version, refused.error)
    assert service.score(ScoreRequest(profile=braf_melanoma)).model_version == "1"


@pytest.mark.parametrize("damage", ["forged knowledge", "flipped booster byte"])
def test_a_damaged_cache_entry_is_discarded_and_downloaded_again(
    damage: str,
    service_class: Any,
    registry: Registry,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _use_registry(monkeypatch, registry, tmp_path)
    first = _start(service_class)
    expected = first.score(ScoreRequest(profile=braf_melanoma))
    (cached,) = (tmp_path / "cache" / MODEL).iterdir()
    if damage == "forged knowledge":
        forge_knowledge(cached)
    else:
        _corrupt_one_booster(cached)
    with caplog.at_level(logging.WARNING, logger="models"):
        restarted = _start(service_class)  # a new worker finds the damaged copy
    assert "discarding it and downloading the version again" in caplog.text
    info = restarted.model_info()
    assert (info.model_version, info.last_reload_error) == ("1", None)
    stored = registry.stored_bundle("1")
    for name in ("checksums.json", "knowledge.json", "boosters/000.ubj"):
        assert (cached / name).read_bytes() == (stored / name).read_bytes(), name
    assert "forged evidence" not in restarted._require_model().model.knowledge.sources
    again = restarted.score(ScoreRequest(profile=braf_melanoma))
    assert again.results == expected.results


def test_a_version_without_a_recorded_digest_is_refused(
    service_class: Any,
    registry: Registry,
    bundle_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use_registry(monkeypatch, registry, tmp_path)
    service = _start(service_class)
    version = registry.register_without_digest(bundle_path)
    registry.point_champion_at(version)
    refused = service.reload_now()
    assert refused.error is not None and "records no bundle digest" in refused.error
    assert refused.version == "1"


def _reloads(outcome: str) -> float:
    """This process's count of reloads with ``outcome`` (the /metrics figure)."""
    count = prometheus_client.REGISTRY.get_sample_value(
        "rediscover_model_reloads_total", {"outcome": outcome}
    )
    return count or 0.0


def test_settings_refuse_a_short_token_without_echoing_it() -> None:
    environ = {"MLFLOW_TRACKING_URI": "sqlite:///m.db"}
    with pytest.raises(ValidationError, match="shorter than 16 characters") as error:
        ServingSettings.from_env(
            {**environ, "REDISCOVER_RELOAD_TOKEN": "hunter2hunter2"}
        )
    assert "hunter2" not in str(error.value)
    settings = ServingSettings.from_env({**environ, "REDISCOVER_RELOAD_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
    assert settings.reload_interval_s == 30


def _wait_until_served(client: TestClient) -> None:
    def ready() -> bool:
        return client.get("/readyz").status_code == 200

    _wait_for(ready, timeout=60, what="/readyz 200")


# -- the ASGI app -----------------------------------------------------------------


@pytest.fixture
def client(
    asgi_app: Any,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[TestClient]:
    _use_registry(monkeypatch, registry, tmp_path)
    with TestClient(
        asgi_app, raise_server_exceptions=False, base_url=LOOPBACK_URL
    ) as client:
        _wait_until_served(client)
        yield client


def test_http_refused_bundle_is_a_409_and_the_old_one_serves_on(
    client: TestClient,
    registry: Registry,
    corrupt_version: str,
    braf_melanoma: dict[str, Any],
) -> None:
    registry.point_champion_at(corrupt_version)
    refused = client.post("/admin/reload", headers=AUTH)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert (body["previous_version"], body["version"], body["changed"]) == (
        "1",
        "1",
        False,
    )
    assert "failed verification" in body["error"]
    assert client.get("/readyz").status_code == 200
    info = client.get("/model").json()
    assert info["model_version"] == "1"
    assert info["last_reload_error"]["version"] == corrupt_version
    assert (
        info["last_reload_error"]["at"].endswith("Z")
        or "+00:00" in (info["last_reload_error"]["at"])
    )
    scored = client.post("/score", json={"profile": braf_melanoma})
    assert (scored.status_code, scored.json()["model_version"]) == (200, "1")

    registry.point_champion_at("2")
    accepted = client.post("/admin/reload", headers=AUTH)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["version"] == "2" and accepted.json()["changed"]
    info = client.get("/model").json()
    assert (info["model_version"], info["last_reload_error"]) == ("2", None)


def test_http_a_bundle_edited_with_its_checksums_rewritten_is_refused(
    client: TestClient,
    registry: Registry,
    bundle_path: Path,
    braf_melanoma: dict[str, Any],
    tmp_path: Path,
) -> None:
    # The probe: knowledge.json edited in the store and its SHA-256
    # rewritten in checksums.json; the bundle's own checksums pass it.
    version = registry.register(bundle_path)
    stored = registry.stored_bundle(version)
    forge_knowledge(stored)
    assert "forged evidence" in ResponderModel.load(stored).knowledge.sources
    registry.point_champion_at(version)
    refused = client.post("/admin/reload", headers=AUTH)
    assert refused.status_code == 409, refused.text
    assert "differs from the one recorded at registration" in refused.json()["error"]
    info = client.get("/model").json()
    assert info["model_version"] == "1"
    reason = info["last_reload_error"]["reason"]
    assert reason == refused.json()["error"]
    # No local path reaches unauthenticated clients.
    assert "/" not in reason and tmp_path.name not in reason, reason
    scored = client.post("/score", json={"profile": braf_melanoma})
    assert (scored.status_code, scored.json()["model_version"]) == (200, "1")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token-at-all-0000"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
    ],
)
def test_http_reload_without_the_token_is_forbidden(
    client: TestClient, registry: Registry, headers: dict[str, str]
) -> None:
    registry.point_champion_at("2")
    response = client.post("/admin/reload", headers=headers)
    assert response.status_code == 403, response.text
    assert TOKEN not in response.text
    assert client.get("/model").json()["model_version"] == "1"


def test_http_reload_is_not_found_when_no_token_is_configured(
    asgi_app: Any,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use_registry(monkeypatch, registry, tmp_path)
    monkeypatch.delenv("REDISCOVER_RELOAD_TOKEN")
    with TestClient(
        asgi_app, raise_server_exceptions=False, base_url=LOOPBACK_URL
    ) as client:
        response = client.post("/admin/reload", headers=AUTH)
    assert response.status_code == 404, response.text
    assert "REDISCOVER_RELOAD_TOKEN" in response.json()["error"]


def test_http_reload_of_a_local_bundle_is_a_409(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDISCOVER_BUNDLE", str(bundle_path))
    monkeypatch.setenv("REDISCOVER_RELOAD_TOKEN", TOKEN)
    with TestClient(
        asgi_app, raise_server_exceptions=False, base_url=LOOPBACK_URL
    ) as client:
        _wait_until_served(client)
        response = client.post("/admin/reload", headers=AUTH)
        info = client.get("/model").json()
    assert response.status_code == 409, response.text
    assert "local bundle" in response.json()["error"]
    assert (info["model_version"], info["alias"]) == ("local", None)


# -- a real server ----------------------------------------------------------------


class _Traffic:
    """Send /score (and /readyz) requests back to back, recording every answer."""

    def __init__(self, url: str, profile: dict[str, Any]) -> None:
        self.url, self.profile = url, profile
        self.answers: list[tuple[int, str | None]] = []
        self.ready: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/score", json={"profile": self.profile})
                except httpx.HTTPError:
                    self.answers.append((0, None))
                    continue
                version = (
                    response.json().get("model_version")
                    if response.is_success
                    else None
                )
                self.answers.append((response.status_code, version))
                self.ready.append(client.get("/readyz").status_code)

    def versions(self) -> list[str | None]:
        return [version for _, version in self.answers]


@pytest.fixture
def served_registry(registry: Registry, tmp_path: Path) -> Iterator[Server]:
    """``bentoml serve`` following ``registry`` (checks every 0.5 s); url and log."""
    env = _service_env(registry, tmp_path / "cache", REDISCOVER_RELOAD_INTERVAL="0.5")
    with bentoml_serve(tmp_path, env) as server:
        yield server


@pytest.mark.slow
def test_served_alias_move_switches_without_a_failed_request(
    served_registry: Server,
    registry: Registry,
    braf_melanoma: dict[str, Any],
) -> None:
    url, log_path = served_registry
    traffic = _Traffic(url, braf_melanoma)
    traffic.thread.start()
    try:
        _wait_for(lambda: len(traffic.answers) >= 5, timeout=60, what="5 answers")
        moved = time.monotonic()
        registry.point_champion_at("2")
        _wait_for(
            lambda: "2" in traffic.versions(), timeout=60, what="version 2 served"
        )
        switch_s = time.monotonic() - moved
        served = len(traffic.answers)
        _wait_for(lambda: len(traffic.answers) >= served + 5, timeout=60, what="5 more")
    finally:
        traffic.stop.set()
        traffic.thread.join(timeout=60)
    statuses = {status for status, _ in traffic.answers}
    assert statuses == {200}, traffic.answers
    assert set(traffic.ready) == {200}
    versions = traffic.versions()
    switch = versions.index("2")
    assert versions[:switch] == ["1"] * switch and switch >= 5
    assert set(versions[switch:]) == {"2"}
    assert switch_s < 30
    assert "model version 1 -> 2 swapped in" in log_path.read_text()
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    assert metric_value(metrics, "rediscover_model_reloads_total", outcome="swapped")
    served = {v: metric_value(metrics, "rediscover_model_served", model_version=v)
              for v in ("1", "2")}  # fmt: skip
    assert served == {"1": 0, "2": 1}  # the one worker moved from 1 to 2
    # The endpoint answers on the real server too (POST through the mounted app).
    again = httpx.post(f"{url}/admin/reload", headers=AUTH, timeout=60)
    assert again.status_code == 200, again.text
    assert (again.json()["version"], again.json()["changed"]) == ("2", False)
