import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from features import load_drug_knowledge
from models import CvMetrics, ResponderModel
from training.config import Config, load_config
from training.data import Cohort, fetch_dataset, load_gdsc
from training.fitting import FitPlan, select_drugs, train_bundle

REPO = Path(__file__).resolve().parents[2]


def bench_gate() -> ModuleType:
    """``benchmarks/bench_gate.py`` as a module (a script, not a package)."""
    path = REPO / "benchmarks" / "bench_gate.py"
    spec = importlib.util.spec_from_file_location("bench_gate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_config(tmp_path: Path, **training: object) -> Config:
    """The project's config pointed at a throw-away SQLite store, trained small."""
    config = load_config(
        REPO / "mlflow.yml", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db"
    )
    return config.model_copy(
        update={
            "tracking": config.tracking.model_copy(
                update={"artifact_root": tmp_path / "artifacts"}
            ),
            "training": config.training.model_copy(
                update={"cv_folds": 3, "n_bootstrap": 50, **training}
            ),
            "xgboost": config.xgboost.model_copy(update={"n_estimators": 40}),
            "serving": config.serving.model_copy(
                update={"cache_dir": tmp_path / "cache"}
            ),
        }
    )


def cv_metrics(brier: float) -> CvMetrics:
    """Cross-validated metrics that differ only in their Brier score (the score
    that picks the model kind serving a drug)."""
    return CvMetrics(auroc=0.7, auprc=0.5, prevalence=0.3, brier=brier)


@pytest.fixture(scope="session")
def gdsc(shipped_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """The real GDSC1000 v17 cohort, fetched into a temporary cache."""
    cache = tmp_path_factory.mktemp("data")
    folder = fetch_dataset("gdsc", cache, data_dir=shipped_data_dir)
    return load_gdsc(folder)


@pytest.fixture(scope="session")
def gdsc_model(
    gdsc: Cohort, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, ResponderModel]:
    """Every GDSC drug trained small (`small_config`), and its config."""
    config = small_config(tmp_path_factory.mktemp("gdsc-model"))
    drugs = select_drugs(gdsc, config=config)
    plan = FitPlan(config, drugs=drugs, knowledge=load_drug_knowledge())
    model = train_bundle(gdsc, plan=plan, data_source="gdsc")
    return config, model
