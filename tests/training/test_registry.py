import hashlib
import shutil
from pathlib import Path

import mlflow
import pytest

from features import load_drug_knowledge
from models import (
    BUNDLE_PATH_TAG,
    BundleIntegrityError,
    load_registered_bundle,
    load_registered_version,
)
from tests.servers import REPO_ROOT
from tests.serving.test_reload import forge_knowledge
from tests.training.cohorts import planted_cohort
from tests.training.conftest import small_config
from training.config import Config, load_config
from training.fitting import FitPlan, train_bundle
from training.registry import (
    client_for,
    fail_orphaned_runs,
    register_bundle,
    run_params,
    tracked_run,
)
from training.registry._runs import ensure_experiment


def test_stores_with_the_same_version_number_never_share_a_cache_entry(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "shared-cache"
    served = {}
    for store, drug in (("a", "placebo"), ("b", "braf inhibitor")):
        config = small_config(tmp_path / store, min_samples=50)
        config = config.model_copy(
            update={"serving": config.serving.model_copy(update={"cache_dir": cache})}
        )
        with tracked_run(config, kind="train", tags={}) as run_id:
            plan = FitPlan(config, drugs=[drug], knowledge=load_drug_knowledge())
            model = train_bundle(planted_cohort(), plan=plan, data_source=store)
            assert register_bundle(config, run_id, model) == "1"
        served[store], _ = load_registered_bundle(
            tracking_uri=config.tracking.uri,
            model_name=config.tracking.registered_model,
            alias="champion",
            cache_dir=cache,
        )
    assert served["a"].drugs == ["placebo"]
    assert served["b"].drugs == ["braf inhibitor"]


def test_run_params_never_carry_the_store_password() -> None:
    config = load_config(
        REPO_ROOT / "mlflow.yml",
        tracking_uri="postgresql://rediscover:s3cret@db:5432/mlflow",
    )
    params = {p.key: p.value for p in run_params(config)}
    assert params["tracking.uri"] == "postgresql://***@db:5432/mlflow"
    assert not any("s3cret" in value for value in params.values())


def test_a_version_another_worker_downloaded_first_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = small_config(tmp_path, min_samples=50)
    with tracked_run(config, kind="train", tags={}) as run_id:
        plan = FitPlan(
            config, drugs=["braf inhibitor"], knowledge=load_drug_knowledge()
        )
        model = train_bundle(planted_cohort(), plan=plan, data_source="planted")
        register_bundle(config, run_id, model)
    cache = tmp_path / "cache"
    download = mlflow.artifacts.download_artifacts

    def racing_worker(**kwargs: str) -> str:
        # The other worker finishes its download and rename while ours runs.
        path = download(**kwargs)
        (entry,) = (cache / "rediscover").glob(".download-*")
        shutil.copytree(path, cache / "rediscover" / f"v1-{_source_key(config)}")
        assert entry.is_dir()
        return path

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", racing_worker)
    served, version = load_registered_bundle(
        tracking_uri=config.tracking.uri,
        model_name="rediscover",
        alias="champion",
        cache_dir=cache,
    )
    assert (version, served.drugs) == ("1", ["braf inhibitor"])
    assert [p.name for p in (cache / "rediscover").iterdir()] == [
        f"v1-{_source_key(config)}"
    ]


def _source_key(config: Config) -> str:
    client = mlflow.MlflowClient(tracking_uri=config.tracking.uri)
    source = client.get_model_version("rediscover", "1").source
    return hashlib.sha256(str(source).encode()).hexdigest()[:12]


def test_only_runs_whose_command_is_gone_are_marked_failed(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    client = client_for(config.tracking)
    experiment = ensure_experiment(client, config.tracking)
    # A killed command's run: RUNNING, its lease free. Another tool's run: no lease.
    dead = client.create_run(experiment, tags={"lease": "a0" * 16}).info.run_id
    foreign = client.create_run(experiment).info.run_id
    with tracked_run(config, kind="evaluation") as alive:
        # Looked at while its command runs: the lease is held, the run left alone.
        assert fail_orphaned_runs(config) == [dead]
        assert client.get_run(alive).info.status == "RUNNING"
    assert client.get_run(alive).info.status == "FINISHED"
    assert client.get_run(dead).info.status == "FAILED"
    assert "killed" in client.get_run(dead).data.tags["failed_because"]
    assert client.get_run(foreign).info.status == "RUNNING"
    assert fail_orphaned_runs(config) == []


def test_every_loader_refuses_a_bundle_edited_after_registration(
    tmp_path: Path,
) -> None:
    # What `rediscover score` and `report` (by alias) and `retrain` (the champion,
    # by version) load: the registered artifacts, edited with their checksums.
    config = small_config(tmp_path, min_samples=50)
    with tracked_run(config, kind="train", tags={}) as run_id:
        knowledge = load_drug_knowledge()
        plan = FitPlan(config, drugs=["braf inhibitor"], knowledge=knowledge)
        model = train_bundle(planted_cohort(), plan=plan, data_source="planted")
        register_bundle(config, run_id, model)
    client = client_for(config.tracking)
    files = client.get_model_version_download_uri("rediscover", "1")
    inside = client.get_model_version("rediscover", "1").tags[BUNDLE_PATH_TAG]
    forge_knowledge(Path(files.removeprefix("file://")) / inside)
    where = {"tracking_uri": config.tracking.uri, "model_name": "rediscover"}
    loads = [
        lambda: load_registered_bundle(**where, alias="champion", cache_dir=tmp_path),
        lambda: load_registered_version(**where, version="1", cache_dir=tmp_path),
    ]
    for load in loads:
        with pytest.raises(BundleIntegrityError, match="recorded at registration") as e:
            load()
        assert str(tmp_path) not in str(e.value) and "/" not in str(e.value)
