import getpass
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml

from features import load_drug_knowledge
from models import load_registered_bundle
from tests.runs import assert_run_records
from tests.servers import REPO_ROOT
from tests.training.conftest import small_config
from tests.training.test_train import planted_cohort
from training.config import Config, load_config
from training.fitting import train_bundle
from training.registry import client_for, register_bundle, run_params, tracked_run


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
            model = train_bundle(
                planted_cohort(), config=config, drugs=[drug], data_source=store,
                knowledge=load_drug_knowledge(),
            )  # fmt: skip
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
        model = train_bundle(
            planted_cohort(), config=config, drugs=["braf inhibitor"],
            data_source="planted", knowledge=load_drug_knowledge(),
        )  # fmt: skip
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


RUN_FROM_THE_CLI = """
import sys
from pathlib import Path

import yaml

from tests.training.test_train import planted_cohort
from training.config import Config
from training.registry import log_cohort, tracked_run

# What `python -m rediscover` sees: MLflow names the run's source by it.
sys.argv = [str(Path("rediscover/__main__.py").resolve()), "train"]
config = Config.model_validate(yaml.safe_load(Path(sys.stdin.read()).read_text()))
with tracked_run(config, kind="train") as run_id:
    log_cohort(planted_cohort(), name="planted", use="training")
print(run_id)
"""


@pytest.mark.skipif(not (REPO_ROOT / ".git").exists(), reason="not a git checkout")
def test_a_run_holds_mlflow_s_own_tags_the_config_and_its_cohort(
    tmp_path: Path,
) -> None:
    config = small_config(tmp_path)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    done = subprocess.run(
        [sys.executable, "-c", RUN_FROM_THE_CLI], input=str(path), cwd=REPO_ROOT,
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    run_id = done.stdout.split()[-1]
    assert_run_records(run_id, config=config, cohorts={"training": planted_cohort()})
    tags = client_for(config.tracking).get_run(run_id).data.tags
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert tags["mlflow.source.git.commit"] == head.stdout.strip()
    assert tags["mlflow.source.name"].endswith("rediscover/__main__.py")
    assert tags["mlflow.user"] == getpass.getuser()
    assert tags["kind"] == "train" and tags["mlflow.runName"] == "train"
