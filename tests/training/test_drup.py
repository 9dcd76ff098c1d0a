"""The whole stack on patient-shaped data: the simulated DRUP cohort, where the
true response probabilities are known."""

from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import spearmanr

from features import Profile, load_drug_knowledge
from models import load_registered_bundle, rank_drugs
from tests.training.conftest import small_config
from training.data import Cohort, read_cohort, simulate_drup, write_cohort
from training.evaluation import evaluate_folds, grouped_folds
from training.fitting import FitPlan, select_drugs, train_bundle
from training.registry import register_bundle, tracked_run

pytestmark = pytest.mark.real_data  # the simulator resamples real GDSC profiles
KNOWLEDGE = load_drug_knowledge()


@pytest.fixture(scope="module")
def drup(gdsc: Cohort, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Cohort]:
    simulated = simulate_drup(seed=1, source=gdsc)
    folder = tmp_path_factory.mktemp("drup") / "cohort"
    write_cohort(simulated.cohort, folder, truth=simulated.truth)
    return folder, read_cohort(folder)


def drup_plan(cohort: Cohort, tmp_path: Path) -> FitPlan:
    """Every drug with 40 episodes or more, on the small test config."""
    config = small_config(tmp_path, min_samples=40)
    drugs = select_drugs(cohort, config=config)
    return FitPlan(config, drugs=drugs, knowledge=KNOWLEDGE)


def test_cv_recovers_truth_and_beats_the_matching_rule(
    drup: tuple[Path, Cohort], tmp_path: Path
) -> None:
    folder, cohort = drup
    plan = drup_plan(cohort, tmp_path)
    settings = plan.config.training
    folds = grouped_folds(cohort, n_splits=settings.cv_folds, seed=settings.seed)
    evaluation = evaluate_folds(
        cohort, plan=plan, folds=folds, split="grouped",
        truth=pd.read_csv(folder / "truth.csv"),
    )  # fmt: skip
    metrics = evaluation.metrics["overall"]["metrics"]
    auroc = {column: metrics[column]["auroc"]["value"] for column in metrics}
    # Patients enrol because they match a biomarker, so the rule can hardly rank them.
    assert auroc["rule"] == pytest.approx(0.5, abs=0.05)
    assert auroc["model"] > 0.6
    assert auroc["model"] < auroc["truth"]
    held_out = evaluation.predictions
    assert spearmanr(held_out["model"], held_out["truth"]).statistic > 0.4


def test_train_register_and_score_patients(
    drup: tuple[Path, Cohort], tmp_path: Path
) -> None:
    _, cohort = drup
    plan = drup_plan(cohort, tmp_path)
    config = plan.config
    with tracked_run(config, kind="train", tags={}) as run_id:
        model = train_bundle(cohort, plan=plan, data_source="drup")
        register_bundle(config, run_id, model)
    assert {i.served_by for i in model.metadata.drugs.values()} >= {"pooled"}
    served, _ = load_registered_bundle(
        tracking_uri=config.tracking.uri,
        model_name=config.tracking.registered_model,
        alias="champion",
        cache_dir=config.serving.cache_dir,
    )
    msi, mss = (
        Profile(tumour_type="endometrial", msi_high=flag, tmb_mut_per_mb=tmb)
        for flag, tmb in ((True, 40.0), (False, 2.0))
    )
    ranked = {s.drug: s for s in rank_drugs(served, [msi, mss])[0]}
    stable = {s.drug: s for s in rank_drugs(served, [msi, mss])[1]}
    assert ranked["nivolumab"].probability > stable["nivolumab"].probability
    assert ranked["nivolumab"].matched_biomarker is not None
    assert ranked["nivolumab"].matched_biomarker.matching_class == 3
