from pathlib import Path

import numpy as np
import pytest

from features import load_drug_knowledge
from tests.training.conftest import small_config
from tests.training.explanation.planted import braf_not_colorectal
from training.explanation import explain_drugs
from training.fitting import FitPlan, assign_folds, cross_validate_cohort


def test_held_out_shap_matches_cross_validation_and_finds_braf(tmp_path: Path) -> None:
    cohort = braf_not_colorectal(300, seed=2)
    config = small_config(tmp_path, min_samples=50)
    drugs = list(cohort.drugs)
    folds = assign_folds(cohort.treatments, n_splits=3, seed=0)
    (braf, placebo) = explain_drugs(
        cohort,
        config=config,
        drugs=drugs,
        knowledge=load_drug_knowledge(),
        folds=folds,
    )
    plan = FitPlan(config, drugs=drugs, knowledge=load_drug_knowledge())
    cv = cross_validate_cohort(cohort, plan=plan, folds=folds)
    expected = cv.oof.loc[cv.oof["drug"] == "braf inhibitor", "per_drug"]
    # The same folds, fits and seed: the explained predictions are the CV's.
    assert braf.episodes["probability"].to_numpy() == pytest.approx(
        expected.to_numpy(), abs=1e-5
    )
    assert braf.scored.all()
    top = str(braf.importance.index[0])
    assert "BRAF" in top
    # Carriers of the top feature are pushed up on average, the others down.
    carriers = braf.values[:, braf.column(top)] == 1
    shap = braf.shap[:, braf.column(top)]
    assert shap[carriers].mean() > 0 > shap[~carriers].mean()
    # The placebo's model has nothing to learn: its importances are far smaller.
    assert placebo.importance.iloc[0] < braf.importance.iloc[0] / 2
    assert braf.interaction is not None and braf.interaction.pair is not None
    assert np.isfinite(braf.interaction.strength).all()
