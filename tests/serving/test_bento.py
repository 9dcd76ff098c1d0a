"""A Bento: ``rediscover bento`` pins the champion and runs ``bentoml build``; the
Bento, served by ``bentoml serve <tag>`` with no registry, answers ``/score`` as a
registry-following server does; the typed client reads both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pytest
from packaging.requirements import Requirement

from features import Profile
from models import BUNDLE_DIGEST_TAG, bundle_digest
from serving import ExplainRequest, ScoreBatchRequest, ScoreRequest
from serving.client import RediscoverClient, ServiceError
from tests.servers import REPO_ROOT, bentoml_serve

pytestmark = pytest.mark.slow

BRAF_V600E = {
    "profile": {
        "tumour_type": "melanoma",
        "alterations": [
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}
        ],
        "msi_high": False,
    }
}


def register_champion(folder: Path, bundle: Path) -> str:
    """A SQLite registry in ``folder`` whose ``rediscover@champion`` is ``bundle``."""
    uri = f"sqlite:///{folder}/mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    artifacts = (folder / "artifacts").as_uri()
    experiment = client.create_experiment("rediscover", artifact_location=artifacts)
    run = client.create_run(experiment)
    client.log_artifacts(run.info.run_id, str(bundle), artifact_path="bundle")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("rediscover")
    version = client.create_model_version(
        "rediscover", source=f"{run.info.artifact_uri}/bundle", run_id=run.info.run_id,
        tags={BUNDLE_DIGEST_TAG: bundle_digest(bundle)},
    )  # fmt: skip
    client.set_registered_model_alias("rediscover", "champion", version.version)
    return uri


def build_bento(folder: Path, tracking_uri: str, bentoml_home: Path) -> str:
    """What ``make serve`` pins (``rediscover bento --pin-only``, with a config
    naming the registry), then a plain ``bentoml build`` in the checkout; the
    Bento's tag."""
    config = folder / "mlflow.yml"
    config.write_text(
        f"tracking:\n  uri: {tracking_uri}\n  registered_model: rediscover\n"
        f"serving:\n  cache_dir: {folder}/pin-cache\n"
    )
    environment = {
        k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"
    } | {"BENTOML_HOME": str(bentoml_home), "BENTOML_DO_NOT_TRACK": "True"}

    def run(command: list[str], cwd: Path) -> str:
        done = subprocess.run(
            command, cwd=cwd, env=environment, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    pin = [sys.executable, "-m", "rediscover", "--config", str(config), "bento"]
    pinned = run([*pin, "--pin-only"], folder)
    assert "pinned rediscover@champion as rediscover-bundle:" in pinned
    run([sys.executable, "-m", "bentoml", "build"], REPO_ROOT)
    listed = subprocess.run(
        [sys.executable, "-m", "bentoml", "list", "-o", "json"],
        env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    (bento,) = json.loads(listed.stdout)
    return str(bento["tag"])


def scored(url: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/score", json=BRAF_V600E, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.pop("request_id")  # one per request: the rest must match
    return body


def check_generated_dockerfile(bento: Path) -> None:
    """The Dockerfile ``bentoml containerize`` builds from: our Python, our lock
    (every pin hashed), not root."""
    lines = (bento / "env" / "docker" / "Dockerfile").read_text().splitlines()
    instructions = [line.split(maxsplit=1) for line in lines if line[:1].isupper()]
    assert ["FROM", "python:3.11-slim AS base-container"] in instructions
    assert [arg for op, arg in instructions if op == "USER"] == ["bentoml"]
    assert ["EXPOSE", "3000"] in instructions
    assert any("pip install -r $BENTO_PATH/env/python/requirements.txt" in line
               for line in lines)  # fmt: skip
    shipped = pins((bento / "env" / "python" / "requirements.txt").read_text())
    ours = pins((REPO_ROOT / "requirements.txt").read_text())
    # BentoML appends its own pin without a hash; the installer merges it with the
    # lock's hashed pin of the same version (checking that one's hashes).
    (bentoml,) = [pin for pin, _ in ours if pin.startswith("bentoml==")]
    assert shipped == [*ours, (bentoml, ())]


def pins(requirements: str) -> list[tuple[str, tuple[str, ...]]]:
    """Requirement (with its marker, as packaging writes it) -> its hashes, in a
    pip requirements file."""
    entries = re.split(r"\n(?=[A-Za-z])", requirements)
    return [
        (
            str(Requirement(entry.splitlines()[0].removesuffix("\\"))),
            tuple(sorted(re.findall(r"--hash=sha256:(\w+)", entry))),
        )
        for entry in entries
        if entry[:1].isalpha()
    ]


def test_the_bento_serves_the_pinned_champion_like_make_serve(
    tmp_path: Path, bundle_path: Path
) -> None:
    tracking_uri = register_champion(tmp_path, bundle_path)
    bentoml_home = tmp_path / "bento" / "bentoml"  # bentoml_serve's BENTOML_HOME
    tag = build_bento(tmp_path, tracking_uri, bentoml_home)
    name, version = tag.split(":")
    check_generated_dockerfile(bentoml_home / "bentos" / name / version)

    registry_env = {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "REDISCOVER_CACHE_DIR": str(tmp_path / "serve-cache"),
    }
    (tmp_path / "registry").mkdir()
    following = bentoml_serve(tmp_path / "registry", registry_env)
    # From an empty folder and with no registry: only the Bento's pinned bundle.
    (tmp_path / "elsewhere").mkdir()
    pinned = bentoml_serve(
        tmp_path / "bento", {}, target=tag, cwd=tmp_path / "elsewhere"
    )
    with ExitStack() as running, ThreadPoolExecutor(2) as starting:
        # Both start at once (each takes a while to load its bundle).
        started = starting.map(running.enter_context, (following, pinned))
        registry_server, bento_server = started
        assert scored(bento_server.url) == scored(registry_server.url)
        assert scored(bento_server.url)["model_version"] == "1"
        model = httpx.get(f"{bento_server.url}/model", timeout=10).json()
        assert model["alias"] is None  # pinned: it follows no registry alias
        follows = httpx.get(f"{registry_server.url}/model", timeout=10).json()
        assert follows["alias"] == "champion"
        check_client(bento_server.url)


def check_client(url: str) -> None:
    """The typed client gets the service's own response models back."""
    request = ScoreRequest.model_validate(BRAF_V600E | {"top_k": 2})
    with RediscoverClient(url) as client:
        ranked = client.score(request)
        batch = client.score_batch(
            ScoreBatchRequest(profiles=[request.profile, Profile(tumour_type="cml")])
        )
        why = client.explain(ExplainRequest(profile=request.profile, drug="imatinib"))
        with pytest.raises(ServiceError, match=r"404: .*is not scored by this model"):
            client.explain(ExplainRequest(profile=request.profile, drug="aspirin"))
    assert ranked.results[0].drug == "dabrafenib"
    assert len(ranked.results[0].top_features) == 2
    assert [len(r) for r in batch.results] == [3, 3]
    assert batch.results[0][0].probability == ranked.results[0].probability
    assert why.drug == "imatinib"
