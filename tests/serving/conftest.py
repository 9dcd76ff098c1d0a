"""A tiny real model bundle with planted signal, and the service class under test."""

from __future__ import annotations

import hashlib
import shutil
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from features import (
    Alteration,
    Profile,
    ProfileVectorizer,
    canonical_tumour_type,
    load_drug_knowledge,
)
from models import BundleMetadata, CvMetrics, DrugInfo, ResponderModel
from tests.conftest import (
    braf_melanoma_request,
    fit_drug_boosters,
    in_sample_uncertainty,
)

with warnings.catch_warnings():
    # starlette >= 1.0 wants the httpx2 package for its TestClient and warns once,
    # at import, when it falls back to httpx (which is what this project installs).
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient`",
        category=UserWarning,
    )
    from starlette.testclient import TestClient

# The address a TestClient's requests arrive on: loopback, where the patient-data
# routes answer without an API token (TestClient's default host, "testserver", is
# no address, so the service would refuse them; see serving._auth).
LOOPBACK_URL = "http://127.0.0.1"
TUMOUR_TYPES = ("melanoma", "colorectal", "lung adenocarcinoma", "breast", "cml")
OTHER_GENES = ("TP53", "KRAS", "PIK3CA", "APC", "PTEN")
BRAF_CHANGES = ("V600E", "V600E", "V600K", "G469A", "K601E")


def _synthetic_profile(rng: np.random.Generator, index: int) -> Profile:
    tumour_type = str(rng.choice(TUMOUR_TYPES))
    events = [
        Alteration(kind="mutation", gene=str(gene))
        for gene in rng.choice(OTHER_GENES, size=rng.integers(0, 3), replace=False)
    ]
    if rng.random() < (0.6 if tumour_type == "melanoma" else 0.15):
        change = str(rng.choice(BRAF_CHANGES))
        events.append(Alteration(kind="mutation", gene="BRAF", protein_change=change))
    if rng.random() < (0.8 if tumour_type == "cml" else 0.05):
        events.append(Alteration(kind="fusion", gene="BCR", partner_gene="ABL1"))
    return Profile(
        sample_id=f"S{index:03d}",
        tumour_type=tumour_type,
        alterations=tuple(events),
        tmb_mut_per_mb=float(rng.gamma(2.0, 3.0)),
    )


def _labels(rng: np.random.Generator, profiles: list[Profile]) -> dict[str, Any]:
    braf = np.array([any(a.gene == "BRAF" for a in p.alterations) for p in profiles])
    bcr_abl = np.array(
        [any(a.partner_gene == "ABL1" for a in p.alterations) for p in profiles]
    )
    n = len(profiles)
    return {
        "dabrafenib": rng.random(n) < np.where(braf, 0.9, 0.08),
        "imatinib": rng.random(n) < np.where(bcr_abl, 0.9, 0.05),
        "noise": rng.random(n) < 0.3,
    }


def build_bundle(path: Path, *, n_profiles: int = 200, seed: int = 0) -> Path:
    """Train a three-drug bundle on seeded synthetic profiles and save it to ``path``.

    BRAF-mutant tumours respond to dabrafenib, BCR-ABL1 fusions to imatinib, and
    "noise" responds at random.
    """
    rng = np.random.default_rng(seed)
    profiles = [_synthetic_profile(rng, i) for i in range(n_profiles)]
    vectorizer = ProfileVectorizer(min_count=1).fit(profiles)
    features = vectorizer.transform(profiles)
    names = [str(n) for n in vectorizer.get_feature_names_out()]
    tumour_types = sorted({canonical_tumour_type(p.tumour_type) for p in profiles})
    drugs = {}
    outcomes = _labels(rng, profiles)
    knowledge = load_drug_knowledge()
    params = {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "seed": 0}
    boosters, raw, offsets = fit_drug_boosters(
        vectorizer, profiles, outcomes, knowledge=knowledge, params=params, rounds=30
    )
    for drug, labels in outcomes.items():
        drugs[drug] = DrugInfo(
            n_training_samples=n_profiles,
            n_responders=int(labels.sum()),
            tumour_types=tumour_types,
            label_rule="synthetic",
            cv=CvMetrics(
                auroc=0.5 if drug == "noise" else 0.9,
                auroc_ci=(0.42, 0.58) if drug == "noise" else (0.85, 0.95),
                auprc=float(labels.mean()) if drug == "noise" else 0.8,
                prevalence=float(labels.mean()),
                brier=0.2 if drug == "noise" else 0.08,
            ),
        )
    metadata = BundleMetadata(
        package_version="0.1.0",
        created_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        data_source="synthetic",
        data_hash=hashlib.sha256(features.tobytes()).hexdigest(),
        population="patient",
        endpoint="clinical_benefit",
        feature_names=names,
        drugs=drugs,
    )
    uncertainty = in_sample_uncertainty(profiles, outcomes, raw)
    model = ResponderModel(
        vectorizer,
        boosters,
        metadata=metadata,
        knowledge=knowledge,
        uncertainty=uncertainty,
        offsets=offsets,
    )
    return model.save(path)


@pytest.fixture(scope="session")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verified bundle folder with planted signal (see :func:`build_bundle`)."""
    return build_bundle(tmp_path_factory.mktemp("bundle") / "synthetic")


@pytest.fixture(scope="session")
def tampered_bundle_path(
    bundle_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the bundle with one byte of one booster file changed."""
    copy = Path(shutil.copytree(bundle_path, tmp_path_factory.mktemp("t") / "b"))
    booster = sorted((copy / "boosters").iterdir())[0]
    data = bytearray(booster.read_bytes())
    data[len(data) // 2] ^= 0xFF
    booster.write_bytes(bytes(data))
    return copy


@pytest.fixture(scope="session")
def service_class() -> Any:
    """``serving.service.Rediscover``, imported once with bentoml's own warnings muted.

    bentoml 1.4.40 warns at import time from code we cannot change: it builds
    pathspec patterns with the deprecated 'gitwildmatch' name, and its IO models call
    ``BaseModel.__get_pydantic_core_schema__`` (deprecated since pydantic 2.11).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="GitWildMatchPattern", category=DeprecationWarning
        )
        warnings.filterwarnings(
            "ignore",
            message="The `__get_pydantic_core_schema__` method",
            module="_bentoml_sdk",
        )
        from serving.service import Rediscover
    return Rediscover


@pytest.fixture(scope="session")
def asgi_app(service_class: Any) -> Any:
    """``Rediscover.to_asgi()``, built once per test session.

    Its metrics middleware registers process-wide Prometheus collectors, so a second
    app in the same process fails with DuplicateTimeseries.  Each TestClient that
    enters the app runs its lifespan, which builds a fresh service instance from the
    environment of that moment.
    """
    return service_class.to_asgi()


@pytest.fixture
def braf_melanoma() -> dict[str, Any]:
    """A fresh :func:`tests.conftest.braf_melanoma_request` (tests may edit it)."""
    return braf_melanoma_request()


def use_bundle(monkeypatch: pytest.MonkeyPatch, bundle: Path) -> None:
    """Make the next service instance serve ``bundle`` (and no registry), with no
    API token unless the test sets one."""
    monkeypatch.setenv("REDISCOVER_BUNDLE", str(bundle))
    for name in (
        "MLFLOW_TRACKING_URI",
        "REDISCOVER_API_TOKEN",
        "REDISCOVER_API_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def start_client(
    app: Any,
    bundle: Path | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> Iterator[TestClient]:
    """A TestClient on ``app`` serving ``bundle`` (:func:`use_bundle`; without
    one, the model source the environment names), once the bundle has loaded (or
    failed to)."""
    if bundle is not None and monkeypatch is not None:
        use_bundle(monkeypatch, bundle)
    with TestClient(
        app, raise_server_exceptions=False, base_url=LOOPBACK_URL
    ) as client:
        deadline = time.monotonic() + 60
        # /model answers 503 "still loading" until the loader thread has finished.
        while "loading" in (model := client.get("/model")).text:
            assert time.monotonic() < deadline, model.text
            time.sleep(0.05)
        yield client


@pytest.fixture
def client(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The ASGI app serving :func:`bundle_path`, over starlette's TestClient."""
    yield from start_client(asgi_app, bundle_path, monkeypatch)


def metric_value(exposition: str, sample: str, **labels: str) -> float:
    """The value of ``sample`` with ``labels`` in a Prometheus text page (0 when
    absent: a counter not incremented yet)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == sample and all(
                found.labels.get(k) == v for k, v in labels.items()
            ):
                return float(found.value)
    return 0.0
