"""The registered version as an MLflow pyfunc model: `mlflow.pyfunc.load_model`
and `mlflow models serve` give the numbers `POST /score` gives, and no pickle."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pandas as pd
import pytest

from benchmarks._processes import free_port, spawned
from models import ResponderModel
from tests.servers import wait_until_ready
from tests.serving.conftest import start_client
from tests.training.conftest import small_config
from training.config import Config
from training.registry import register_bundle, tracked_run

CHAMPION = "models:/rediscover@champion"
PROFILES = [
    {
        "tumour_type": "Melanoma",
        "alterations": [
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"},
            {"kind": "mutation", "gene": "TP53"},
        ],
        "tmb_mut_per_mb": 8.0,
    },
    {
        "tumour_type": "cml",
        "alterations": [{"kind": "fusion", "gene": "BCR", "partner_gene": "ABL1"}],
        "msi_high": False,
    },
]
# A score request's options, sent to /score and, as params, to the pyfunc model.
OPTIONS = {"top_k": 3, "explain_top": 2, "rank_by": "evidence"}


@pytest.fixture(scope="module")
def registry(
    bundle_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Config]:
    """The synthetic bundle registered as version 1, champion, as `train` does."""
    config = small_config(tmp_path_factory.mktemp("pyfunc"))
    with tracked_run(config, kind="train") as run_id:
        register_bundle(config, run_id, ResponderModel.load(bundle_path))
    yield config


@pytest.fixture
def score_client(
    asgi_app: Any, registry: Config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Any]:
    """The service following the registry's champion (and the fluent API's store,
    for `mlflow.pyfunc.load_model`, pointed at the same registry)."""
    monkeypatch.delenv("REDISCOVER_BUNDLE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking.uri)
    monkeypatch.setenv("REDISCOVER_CACHE_DIR", str(tmp_path / "cache"))
    yield from start_client(asgi_app)


def scored_rows(client: Any) -> list[dict[str, Any]]:
    """`/score`'s results for each profile, flattened as the ranked table's rows."""
    rows = []
    for number, profile in enumerate(PROFILES, start=1):
        response = client.post("/score", json={"profile": profile, **OPTIONS})
        assert response.status_code == 200, response.text
        assert response.json()["model_version"] == "1"
        for result in response.json()["results"]:
            match = result.pop("matched_biomarker") or {}
            low, high = result.pop("interval")
            rows.append(
                result | {
                    "profile": number, "interval_low": low, "interval_high": high,
                    "matched_class": match.get("matching_class"),
                    "matched_alteration": match.get("alteration"),
                    "matched_evidence": match.get("evidence"),
                    "matched_on_label": match.get("on_label"),
                }
            )  # fmt: skip
    return rows


def table_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked table's rows in JSON's types, with /score's fields only."""
    plain = json.loads(json.dumps(records, default=list))
    header = ("sample_id", "model_version", "population", "endpoint")
    return [{k: v for k, v in row.items() if k not in header} for row in plain]


@pytest.mark.usefixtures("refuse_pickle")
def test_the_champion_loads_as_a_pyfunc_model_and_ranks_as_score(
    score_client: Any, tmp_path: Path
) -> None:
    model = mlflow.pyfunc.load_model(CHAMPION)
    table = model.predict(pd.DataFrame(PROFILES), params=OPTIONS)
    expected = scored_rows(score_client)
    assert len(expected) == 2 * 3  # two profiles x three drugs
    assert table_rows(table.to_dict("records")) == expected
    assert table["model_version"].str.startswith("run ").all()

    files = Path(mlflow.artifacts.download_artifacts(CHAMPION, dst_path=tmp_path))
    assert not [p for p in files.rglob("*") if "pkl" in p.suffix or "pickle" in p.name]
    flavour = model.metadata.flavors["python_function"]
    # A model from code: MLflow runs the logged file; there is no python_model.pkl.
    assert flavour["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert (files / "_pyfunc_code.py").is_file()
    requirements = (files / "requirements.txt").read_text().split()
    assert {r.split("==")[0] for r in requirements} >= {"mlflow", "xgboost-cpu"}
    assert all("==" in r for r in requirements)
    assert model.metadata.get_input_schema().input_names()[:2] == [
        "sample_id",
        "tumour_type",
    ]


def test_a_bad_profile_names_the_row_and_field_not_the_value(
    score_client: Any,
) -> None:
    model = mlflow.pyfunc.load_model(CHAMPION)
    bad = [PROFILES[0], {**PROFILES[1], "tmb_mut_per_mb": -3.25}]
    with pytest.raises(Exception, match=r"profile 2: tmb_mut_per_mb") as error:
        model.predict(pd.DataFrame(bad))
    assert "-3.25" not in str(error.value)
    with pytest.raises(Exception, match=r"params\.rank_by: must be one of evidence"):
        model.predict(pd.DataFrame(PROFILES), params={"rank_by": "price"})


@pytest.mark.slow
def test_mlflow_models_serve_answers_as_score(
    score_client: Any, registry: Config, tmp_path: Path
) -> None:
    port = free_port()
    # MLflow starts `uvicorn` by name: the one beside this interpreter.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    environment = os.environ | {
        "MLFLOW_TRACKING_URI": registry.tracking.uri,
        "PATH": path,
    }
    log_path = tmp_path / "mlflow-serve.log"
    command = [
        *(sys.executable, "-m", "mlflow", "models", "serve", "-m", CHAMPION),
        *("--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)),
    ]
    with spawned(command, env=environment, cwd=tmp_path, log_path=log_path) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, f"{url}/ping", log_path, what="mlflow models serve")
        response = httpx.post(
            f"{url}/invocations",
            json={"dataframe_records": PROFILES, "params": OPTIONS},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        served = response.json()["predictions"]
    assert table_rows(served) == scored_rows(score_client)
