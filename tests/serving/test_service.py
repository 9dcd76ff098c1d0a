"""The service class called directly, and its ASGI app via starlette's TestClient."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from bentoml.exceptions import InternalServerError, ServiceUnavailable
from pydantic import ValidationError

from features import Profile
from models import ResponderModel
from serving import (
    ScoreBatchRequest,
    ScoreBatchResponse,
    ScoreRequest,
    ServingSettings,
)
from serving._settings import service_workers
from tests.serving.conftest import LOOPBACK_URL, TestClient, start_client, use_bundle


@pytest.fixture
def service(
    service_class: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    use_bundle(monkeypatch, bundle_path)
    instance = service_class()
    assert instance.wait_until_ready(timeout=60)
    return instance


@pytest.fixture
def tampered_client(
    asgi_app: Any, tampered_bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    yield from start_client(asgi_app, tampered_bundle_path, monkeypatch)


def _field_errors(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.text
    return {
        ".".join(str(part) for part in error["loc"]): error["type"]
        for error in response.json()["detail"]
    }


# -- settings ---------------------------------------------------------------------


def test_settings_default_to_the_champion_in_the_registry() -> None:
    settings = ServingSettings.from_env({"MLFLOW_TRACKING_URI": "sqlite:///m.db"})
    assert (settings.bundle, settings.model_name, settings.alias) == (
        None,
        "rediscover",
        "champion",
    )
    assert settings.cache_dir == Path(".cache/serving")


def test_one_worker_per_cpu_unless_told() -> None:
    assert service_workers({}) == len(os.sched_getaffinity(0))
    assert service_workers({"REDISCOVER_WORKERS": " 3 "}) == 3
    for bad in ("0", "-1", "two", "1.5", "65"):
        with pytest.raises(ValueError, match="REDISCOVER_WORKERS must be"):
            service_workers({"REDISCOVER_WORKERS": bad})


def test_settings_bound_what_a_worker_takes_on() -> None:
    source = {"REDISCOVER_BUNDLE": "b"}
    defaults = ServingSettings.from_env(source)
    assert (defaults.max_batches, defaults.max_requests) == (2, 64)
    assert defaults.startup_wait_s == 300
    given = ServingSettings.from_env(
        {**source, "REDISCOVER_MAX_BATCHES": "1", "REDISCOVER_MAX_REQUESTS": "8",
         "REDISCOVER_STARTUP_WAIT": "0"}
    )  # fmt: skip
    assert (given.max_batches, given.max_requests, given.startup_wait_s) == (1, 8, 0)
    for name in ("REDISCOVER_MAX_BATCHES", "REDISCOVER_MAX_REQUESTS"):
        with pytest.raises(ValidationError, match="max_"):
            ServingSettings.from_env({**source, name: "0"})


def test_settings_without_a_model_source_say_what_to_set() -> None:
    with pytest.raises(
        ValidationError, match=r"REDISCOVER_BUNDLE.*MLFLOW_TRACKING_URI"
    ):
        ServingSettings.from_env({"REDISCOVER_MODEL_ALIAS": "challenger"})


def test_service_without_a_model_source_refuses_to_start(
    service_class: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REDISCOVER_BUNDLE", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="MLFLOW_TRACKING_URI"):
        service_class()


# -- the class called directly ----------------------------------------------------


def test_braf_melanoma_ranks_dabrafenib_first(
    service: Any, braf_melanoma: dict[str, Any]
) -> None:
    response = service.score(ScoreRequest(profile=braf_melanoma, top_k=5))
    best = response.results[0]
    assert (best.drug, best.rank) == ("dabrafenib", 1)
    assert "mutation BRAF" in {f.feature for f in best.top_features}
    assert [r.rank for r in response.results] == [1, 2, 3]
    probabilities = [r.probability for r in response.results]
    assert probabilities == sorted(probabilities, reverse=True)
    assert response.model_version == "local"
    assert len(response.request_id) == 32
    # Rule-based evidence beside the model: BRAF V600E is dabrafenib's own marker,
    # and melanoma is its approved indication.
    match = best.matched_biomarker
    assert match is not None
    assert (match.matching_class, match.on_label) == (1, True)
    assert "BRAF V600E" in match.alteration
    assert best.served_by == "per-drug"


def test_top_k_limits_the_features_per_drug(
    service: Any, braf_melanoma: dict[str, Any]
) -> None:
    one = service.score(ScoreRequest(profile=braf_melanoma, top_k=1))
    none = service.score(ScoreRequest(profile=braf_melanoma, top_k=0))
    assert max(len(r.top_features) for r in one.results) == 1
    assert all(r.top_features == [] for r in none.results)


def test_explain_top_limits_which_drugs_get_features(
    service: Any, braf_melanoma: dict[str, Any]
) -> None:
    first = service.score(ScoreRequest(profile=braf_melanoma, explain_top=1))
    assert first.results[0].top_features
    assert all(r.top_features == [] for r in first.results[1:])
    with pytest.raises(ValidationError, match="explain_top"):
        ScoreRequest(profile=braf_melanoma, explain_top=-1)


def test_score_batch_ranks_each_profile(
    service: Any, braf_melanoma: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cml = {
        "tumour_type": "CML",
        "alterations": [{"kind": "fusion", "gene": "BCR", "partner_gene": "ABL1"}],
    }
    request = ScoreBatchRequest(profiles=[braf_melanoma, cml, braf_melanoma])
    # One profile per chunk: the answer is three chunks' JSON spliced together.
    monkeypatch.setattr("serving._batch.DRUG_SCORES_PER_CHUNK", 1)
    answer = anyio.run(service.score_batch, request)
    assert answer.media_type == "application/json"
    response = ScoreBatchResponse.model_validate_json(answer.body)
    assert [ranking[0].drug for ranking in response.results] == [
        "dabrafenib",
        "imatinib",
        "dabrafenib",
    ]
    one = service.score(ScoreRequest(profile=cml))
    assert response.results[1] == one.results
    assert (response.model_version, response.population) == ("local", "patient")


def test_log_line_has_request_id_but_no_profile_contents(
    service: Any, braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="serving"):
        response = service.score(ScoreRequest(profile=braf_melanoma))
    assert response.request_id in caplog.text
    assert "PATIENT-SECRET-42" not in caplog.text
    assert "V600E" not in caplog.text


def test_model_info_describes_the_bundle(service: Any) -> None:
    info = service.model_info()
    assert info.model_version == "local"
    assert info.data_source == "synthetic"
    assert set(info.drugs) == {"dabrafenib", "imatinib", "noise"}
    assert info.drugs["dabrafenib"].n_training_samples == 200


def test_tampered_bundle_is_never_served(
    service_class: Any,
    tampered_bundle_path: Path,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_bundle(monkeypatch, tampered_bundle_path)
    with caplog.at_level(logging.ERROR, logger="serving"):
        instance = service_class()
        assert not instance.wait_until_ready(timeout=60)
    assert "SHA-256 mismatch" in caplog.text
    with pytest.raises(ServiceUnavailable, match="SHA-256 mismatch"):
        instance.score(ScoreRequest(profile=braf_melanoma))


def test_registry_settings_reach_the_registry_loader(
    service_class: Any,
    bundle_path: Path,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_registry(**kwargs: Any) -> tuple[ResponderModel, str]:
        calls.append(kwargs)
        return ResponderModel.load(bundle_path), "7"

    monkeypatch.setattr("serving._source.load_registered_bundle", fake_registry)
    monkeypatch.delenv("REDISCOVER_BUNDLE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///unused.db")
    monkeypatch.setenv("REDISCOVER_MODEL_ALIAS", "challenger")
    monkeypatch.setenv("REDISCOVER_CACHE_DIR", str(tmp_path))
    instance = service_class()
    assert instance.wait_until_ready(timeout=60)
    assert calls == [
        {
            "tracking_uri": "sqlite:///unused.db",
            "model_name": "rediscover",
            "alias": "challenger",
            "cache_dir": tmp_path,
        }
    ]
    assert instance.score(ScoreRequest(profile=braf_melanoma)).model_version == "7"


def test_registry_failure_details_stay_in_the_log(
    service_class: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unreachable(**kwargs: Any) -> tuple[ResponderModel, str]:
        raise ConnectionError("cannot reach http://user:hunter2@mlflow:5000")

    monkeypatch.setattr("serving._source.load_registered_bundle", unreachable)
    monkeypatch.delenv("REDISCOVER_BUNDLE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:hunter2@mlflow:5000")
    with caplog.at_level(logging.ERROR, logger="serving"):
        instance = service_class()
        assert not instance.wait_until_ready(timeout=60)
    assert "ConnectionError" in caplog.text
    with pytest.raises(ServiceUnavailable, match="ConnectionError") as error:
        instance.model_info()
    assert "hunter2" not in str(error.value)


def test_scoring_failure_logs_the_request_id_but_not_the_message(
    service: Any,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(model: Any, profiles: list[Profile], **kwargs: Any) -> None:
        raise ValueError(f"cannot score {profiles[0].sample_id}")

    monkeypatch.setattr("serving.service.rank_drugs", broken)
    with (
        caplog.at_level(logging.ERROR, logger="serving"),
        pytest.raises(InternalServerError, match="request_id=") as error,
    ):
        service.score(ScoreRequest(profile=braf_melanoma))
    request_id = str(error.value).rsplit("=", 1)[1].rstrip(")")
    assert f"request_id={request_id} scoring failed with ValueError" in caplog.text
    assert "PATIENT-SECRET-42" not in caplog.text


# -- the ASGI app -----------------------------------------------------------------


def test_http_score_ranks_and_explains(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    assert client.get("/readyz").status_code == 200
    response = client.post("/score", json={"profile": braf_melanoma, "top_k": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "model_version",
        "request_id",
        "population",
        "endpoint",
        "results",
    }
    assert (body["population"], body["endpoint"]) == ("patient", "clinical_benefit")
    results = body["results"]
    assert results[0]["drug"] == "dabrafenib"
    assert results[0]["tumour_type_seen"] is True
    assert "mutation BRAF" in {f["feature"] for f in results[0]["top_features"]}
    assert set(results[0]["top_features"][0]) == {"feature", "value", "shap"}
    probabilities = [r["probability"] for r in results]
    assert probabilities == sorted(probabilities, reverse=True)


def test_http_score_carries_calibration_interval_set_and_domain(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    response = client.post("/score", json={"profile": braf_melanoma})
    assert response.status_code == 200, response.text
    for result in response.json()["results"]:
        low, high = result["interval"]
        assert 0 <= low <= high <= 1
        assert result["prediction_set"] in ([0], [1], [0, 1])
        assert result["coverage"] == pytest.approx(0.9)
        assert (result["in_domain"], result["reason"]) == (True, None)
        assert 0 <= result["raw_probability"] <= 1
    best = response.json()["results"][0]
    assert best["drug"] == "dabrafenib"
    assert 1 in best["prediction_set"]
    assert best["interval"][1] > 0.5


def test_http_unknown_kind_names_the_field_without_echoing_it(
    client: TestClient, braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    braf_melanoma["alterations"][0]["kind"] = "banana"
    response = client.post("/score", json={"profile": braf_melanoma})
    assert _field_errors(response) == {"profile.alterations.0.kind": "literal_error"}
    assert "banana" not in response.text
    assert "PATIENT-SECRET-42" not in response.text
    # One line names the field; the value stays out.
    assert "profile.alterations.0.kind" in caplog.text
    assert "banana" not in caplog.text
    assert "PATIENT-SECRET-42" not in caplog.text


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"colour": "blue"}, "profile.colour", "extra_forbidden"),
        ({"tmb_mut_per_mb": "lots"}, "profile.tmb_mut_per_mb", "float_type"),
        ({"alterations": [{"kind": "mutation", "gene": ""}]}, "gene", "too_short"),
        ({"tumour_type": None}, "profile.tumour_type", "string_type"),
    ],
)
def test_http_malformed_profile_is_a_400_naming_the_field(
    client: TestClient,
    braf_melanoma: dict[str, Any],
    change: dict[str, Any],
    field: str,
    error: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = client.post("/score", json={"profile": {**braf_melanoma, **change}})
    errors = _field_errors(response)
    assert any(name.endswith(field) and error in e for name, e in errors.items())
    for value in ("lots", "blue", "PATIENT-SECRET-42"):
        assert value not in response.text
        assert value not in caplog.text


def test_http_request_envelope_is_validated(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    too_many = client.post("/score", json={"profile": braf_melanoma, "top_k": 51})
    assert _field_errors(too_many) == {"top_k": "less_than_equal"}
    unknown = client.post("/score", json={"profile": braf_melanoma, "explain": True})
    assert _field_errors(unknown) == {"explain": "extra_forbidden"}
    not_json = client.post(
        "/score", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400


def test_http_empty_alterations_and_unseen_tumour_type_still_score(
    client: TestClient,
) -> None:
    bare = client.post("/score", json={"profile": {"tumour_type": "melanoma"}})
    assert bare.status_code == 200, bare.text
    assert len(bare.json()["results"]) == 3
    unseen = client.post(
        "/score",
        json={"profile": {"tumour_type": "glioma", "alterations": []}},
    )
    assert unseen.status_code == 200, unseen.text
    assert {r["tumour_type_seen"] for r in unseen.json()["results"]} == {False}
    assert {r["in_domain"] for r in unseen.json()["results"]} == {False}
    assert all("'glioma'" in r["reason"] for r in unseen.json()["results"])
    strange = {
        "tumour_type": "melanoma",
        "alterations": [{"kind": "mutation", "gene": f"NOVEL{i}"} for i in range(8)],
    }
    flagged = client.post("/score", json={"profile": strange})
    assert flagged.status_code == 200, flagged.text
    assert all("unseen in training" in r["reason"] for r in flagged.json()["results"])


def test_http_score_batch_returns_one_ranking_per_profile(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    profiles = [braf_melanoma, {"tumour_type": "breast"}]
    response = client.post("/score_batch", json={"profiles": profiles, "top_k": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["results"]) == 2
    assert all(len(ranking) == 3 for ranking in body["results"])
    assert body["results"][0][0]["drug"] == "dabrafenib"
    empty = client.post("/score_batch", json={"profiles": []})
    assert _field_errors(empty) == {"profiles": "too_short"}


def test_http_probes_and_model_info(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    response = client.get("/model")
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["model_version"] == "local"
    assert info["data_source"] == "synthetic"
    assert info["drugs"]["imatinib"]["cv"]["auroc"] == pytest.approx(0.9)
    assert info["drugs"]["imatinib"]["n_training_samples"] == 200


def test_http_answers_503_while_the_bundle_loads(
    asgi_app: Any,
    bundle_path: Path,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from serving._source import load_bundle

    release = threading.Event()

    def slow_load(settings: ServingSettings) -> Any:
        release.wait(timeout=60)
        return load_bundle(settings)

    use_bundle(monkeypatch, bundle_path)
    monkeypatch.setattr("serving.service.load_bundle", slow_load)
    # Accept requests at once instead of waiting for the bundle at start-up.
    monkeypatch.setenv("REDISCOVER_STARTUP_WAIT", "0")
    with TestClient(
        asgi_app, raise_server_exceptions=False, base_url=LOOPBACK_URL
    ) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        score = client.post("/score", json={"profile": braf_melanoma})
        assert (score.status_code, score.headers["retry-after"]) == (503, "5")
        assert "GET /model says why" in score.json()["error"]
        assert score.json()["request_id"] == score.headers["x-request-id"]
        loading = client.get("/model")
        assert loading.status_code == 503
        assert loading.json()["error"] == "model bundle is still loading"
        assert loading.json()["request_id"] == loading.headers["x-request-id"]
        release.set()
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.post("/score", json={"profile": braf_melanoma}).status_code == 200


def test_http_a_starting_worker_serves_once_its_bundle_is_loaded(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.service import load_bundle

    def slow_load(settings: ServingSettings) -> Any:
        time.sleep(1.0)
        return load_bundle(settings)

    use_bundle(monkeypatch, bundle_path)
    monkeypatch.setattr("serving.service.load_bundle", slow_load)
    started = time.monotonic()
    with TestClient(asgi_app, raise_server_exceptions=False) as client:
        # Start-up (the lifespan) returned only after the load: the first
        # request already finds the bundle in service.
        assert time.monotonic() - started >= 1.0
        assert client.get("/readyz").status_code == 200


def test_http_tampered_bundle_is_unready_and_refuses_to_score(
    tampered_client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    assert tampered_client.get("/healthz").status_code == 200
    assert tampered_client.get("/readyz").status_code == 503
    score = tampered_client.post("/score", json={"profile": braf_melanoma})
    assert score.status_code == 503
    model = tampered_client.get("/model")
    assert model.status_code == 503
    assert "SHA-256 mismatch" in model.json()["error"]
