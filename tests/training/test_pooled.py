from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile, load_drug_knowledge
from models import ResponderModel, rank_drugs
from tests.training.cohorts import braf_cohort
from tests.training.conftest import cv_metrics, small_config
from training.fitting import CrossValidation, FitPlan, select_drugs, train_bundle

KNOWLEDGE = load_drug_knowledge()


def test_served_prefers_the_lower_brier_score() -> None:
    own = {"a": cv_metrics(0.20), "b": cv_metrics(0.10), "c": cv_metrics(0.1)}
    pooled = {"a": cv_metrics(0.15), "b": cv_metrics(0.12), "d": cv_metrics(0.3)}
    oof = pd.DataFrame(
        {
            "drug": ["a", "b", "c", "d", "e"],
            "per_drug": [0.1, 0.2, 0.3, np.nan, 0.5],
            "pooled": [0.9, 0.8, np.nan, 0.6, np.nan],
            "rate": 0.3,
        }
    )
    # No model beats the tumour-type rate for "e"; a tie goes to the simpler rate.
    rate = {d: cv_metrics(0.35) for d in "abcd"} | {"e": cv_metrics(0.2)}
    own["e"] = cv_metrics(0.2)
    cv = CrossValidation(oof=oof, cv_rate=rate, cv_per_drug=own, cv_pooled=pooled)
    assert cv.served == {
        "a": "pooled",
        "b": "per-drug",
        "c": "per-drug",
        "d": "pooled",
        "e": "rate",
    }
    assert cv.predictions().tolist() == [0.9, 0.2, 0.3, 0.6, 0.3]
    # The known biomarker alone, where it beats the boosters, serves "a".
    biomarker = {"a": cv_metrics(0.14), "b": cv_metrics(0.11)}
    oof["biomarker"] = [0.7, 0.4, np.nan, np.nan, np.nan]
    cv = CrossValidation(
        oof=oof, cv_rate=rate, cv_per_drug=own, cv_pooled=pooled,
        cv_biomarker=biomarker,
    )  # fmt: skip
    assert cv.served["a"] == "biomarker" and cv.served["b"] == "per-drug"
    assert cv.predictions().tolist() == [0.7, 0.2, 0.3, 0.6, 0.3]


def test_held_out_predictions_choose_the_kind_without_the_fold_they_score() -> None:
    # The booster is right on folds 1-3 and wrong on fold 0: over all folds it
    # ties the rate (Brier 0.25), so the rate serves; chosen without fold 0 the
    # booster wins there, and without fold 1 (which sees fold 0) the rate.
    y = np.tile([0, 1], 8)
    fold = np.repeat([0, 1, 2, 3], 4)
    oof = pd.DataFrame(
        {
            "drug": "a", "responded": y, "fold": fold, "rate": 0.5,
            "per_drug": np.where(fold == 0, 1 - y, y).astype(float),
        }
    )  # fmt: skip
    rate, own = {"a": cv_metrics(0.25)}, {"a": cv_metrics(0.25)}
    cv = CrossValidation(oof=oof, cv_rate=rate, cv_per_drug=own, cv_pooled={})
    assert cv.served == {"a": "rate"}
    held_out = cv.held_out_predictions()
    assert held_out[fold == 0].tolist() == (1 - y[fold == 0]).tolist()
    assert (held_out[fold > 0] == 0.5).all()


@pytest.fixture(scope="module")
def pooled_model(tmp_path_factory: pytest.TempPathFactory) -> ResponderModel:
    config = small_config(tmp_path_factory.mktemp("pooled"), min_samples=100)
    cohort = braf_cohort()
    assert select_drugs(cohort, config=config) == [
        "vemurafenib"
    ]  # median 165: auto off
    always = config.pooled.model_copy(update={"enabled": "always"})
    config = config.model_copy(update={"pooled": always})
    drugs = select_drugs(cohort, config=config)
    assert drugs == [
        "dabrafenib",
        "vemurafenib",
    ]  # the pooled model admits the small one
    plan = FitPlan(config, drugs=drugs, knowledge=KNOWLEDGE)
    return train_bundle(cohort, plan=plan, data_source="planted")


def test_small_drug_is_served_by_the_pooled_model(pooled_model: ResponderModel) -> None:
    small = pooled_model.metadata.drugs["dabrafenib"]
    assert small.served_by == "pooled"
    assert small.cv_per_drug is None and small.cv_pooled is not None
    assert small.cv_pooled.auroc is not None and small.cv_pooled.auroc > 0.7
    assert pooled_model.metadata.drugs["vemurafenib"].cv_pooled is not None
    # 30 episodes are too few for its own calibrator: it shares the pooled model's.
    calibrator = pooled_model.uncertainty.drugs["dabrafenib"].calibrator
    assert calibrator.fitted_on == "all drugs served by the pooled model"


def test_pooled_bundle_round_trips_and_explains(
    pooled_model: ResponderModel, tmp_path: Path
) -> None:
    reloaded = ResponderModel.load(pooled_model.save(tmp_path / "bundle"))
    braf = Profile(
        tumour_type="colorectal",
        alterations=(Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),),
    )
    profiles = [braf, Profile(tumour_type="colorectal")]
    for drug, expected in pooled_model.score(profiles).items():
        np.testing.assert_array_equal(reloaded.score(profiles)[drug], expected)
        margin = reloaded.explain(profiles)[drug].sum(axis=1)
        np.testing.assert_allclose(1 / (1 + np.exp(-margin)), expected, atol=1e-5)
    ranked = rank_drugs(reloaded, profiles, top_k=3)
    dabrafenib = next(s for s in ranked[0] if s.drug == "dabrafenib")
    assert dabrafenib.served_by == "pooled"
    assert dabrafenib.matched_biomarker is not None
    assert dabrafenib.matched_biomarker.matching_class == 1
    assert (
        dabrafenib.probability
        > 0.5
        > next(s for s in ranked[1] if s.drug == "dabrafenib").probability
    )
    assert any(
        "BRAF" in f.feature or "match" in f.feature for f in dabrafenib.top_features
    )
