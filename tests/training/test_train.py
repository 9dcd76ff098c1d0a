from pathlib import Path

import numpy as np
import pytest

from features import load_drug_knowledge
from models import load_registered_bundle
from tests.training.cohorts import planted_cohort
from tests.training.conftest import small_config
from training.data import Cohort
from training.fitting import FitPlan, select_drugs, train_bundle
from training.registry import (
    champion_version,
    client_for,
    log_training,
    register_bundle,
    tracked_run,
)

DRUGS = ["dabrafenib", "nilotinib", "trametinib"]
KNOWLEDGE = load_drug_knowledge()


def test_cv_finds_planted_signal_and_not_noise(tmp_path: Path) -> None:
    config = small_config(tmp_path, min_samples=50)
    cohort = planted_cohort()
    plan = FitPlan(config, drugs=list(cohort.drugs), knowledge=KNOWLEDGE)
    model = train_bundle(cohort, plan=plan, data_source="planted")
    signal, noise = (
        model.metadata.drugs["braf inhibitor"],
        model.metadata.drugs["placebo"],
    )
    assert signal.cv.auroc is not None and signal.cv.auroc > 0.8
    assert noise.cv.auroc is not None and abs(noise.cv.auroc - 0.5) < 0.15
    low, high = signal.cv.auroc_ci or (0, 0)
    assert low < signal.cv.auroc < high
    assert signal.n_training_samples == 300


def test_select_drugs_names_unknown_drugs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aspirin"):
        select_drugs(planted_cohort(), config=small_config(tmp_path), only=["aspirin"])


@pytest.mark.real_data
def test_train_register_and_reload_by_alias(gdsc: Cohort, tmp_path: Path) -> None:
    config = small_config(tmp_path)
    drugs = select_drugs(gdsc, config=config, only=DRUGS)
    with tracked_run(config, kind="train", tags={"data_source": "gdsc"}) as run_id:
        plan = FitPlan(config, drugs=drugs, knowledge=KNOWLEDGE)
        model = train_bundle(gdsc, plan=plan, data_source="gdsc")
        log_training(config, run_id, model, seconds=1.0)
        version = register_bundle(config, run_id, model)

    assert champion_version(config.tracking) == version == "1"
    # BRAF mutation -> dabrafenib sensitivity is strong in GDSC (Iorio 2016); most
    # nilotinib responders carry no BCR-ABL1, so its signal is weaker but real.
    assert model.metadata.drugs["dabrafenib"].cv.auroc > 0.75
    low, _ = model.metadata.drugs["nilotinib"].cv.auroc_ci or (0, 0)
    assert low > 0.5

    reloaded, served = load_registered_bundle(
        tracking_uri=config.tracking.uri,
        model_name=config.tracking.registered_model,
        alias="champion",
        cache_dir=config.serving.cache_dir,
    )
    assert served == version
    profiles = list(gdsc.profiles[:40])
    for drug, expected in model.score(profiles).items():
        np.testing.assert_array_equal(reloaded.score(profiles)[drug], expected)

    run = client_for(config.tracking).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["data_hash"] == gdsc.data_hash()
    assert run.data.params["xgboost.max_depth"] == str(config.xgboost.max_depth)
    assert run.data.metrics["n_drugs"] == 3
    _assert_no_sample_ids(config.tracking.artifact_root, gdsc)


def _assert_no_sample_ids(root: Path, cohort: Cohort) -> None:
    ids = {p.sample_id for p in cohort.profiles}
    for path in root.rglob("*"):
        if path.suffix in {".csv", ".json"}:
            text = path.read_text()
            leaked = [
                i for i in list(ids)[:200] if f'"{i}"' in text or f"\n{i}," in text
            ]
            assert not leaked, f"{path.name} contains sample identifiers"


def test_failed_training_keeps_the_champion(tmp_path: Path) -> None:
    config = small_config(tmp_path, min_samples=50)
    cohort = planted_cohort()
    plan = FitPlan(config, drugs=["placebo"], knowledge=KNOWLEDGE)
    with tracked_run(config, kind="train", tags={}) as run_id:
        model = train_bundle(cohort, plan=plan, data_source="x")
        register_bundle(config, run_id, model)

    with (
        pytest.raises(RuntimeError, match="disk full"),
        tracked_run(config, kind="train", tags={}) as failed,
    ):
        train_bundle(cohort, plan=plan, data_source="x")
        raise RuntimeError("disk full")

    assert champion_version(config.tracking) == "1"
    assert client_for(config.tracking).get_run(failed).info.status == "FAILED"
