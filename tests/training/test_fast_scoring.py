"""The fast scoring path on the real GDSC bundle gives XGBoost's own numbers."""

import numpy as np
import pytest

from models import ResponderModel
from training.config import Config
from training.data import Cohort


@pytest.mark.real_data
@pytest.mark.slow
def test_probabilities_and_shap_equal_xgboosts_on_gdsc(
    gdsc_model: tuple[Config, ResponderModel], gdsc: Cohort
) -> None:
    """Every drug's probability, and every booster-served drug's SHAP values, on
    real cell-line profiles, within 1e-5 of XGBoost's ``predict``."""
    model = gdsc_model[1]
    profiles = list(gdsc.profiles[::5])
    scores = model.scorer.score(profiles, rank_by="evidence")
    for column, (drug, raw) in enumerate(model.score(profiles).items()):
        assert scores.drugs[column] == drug
        np.testing.assert_allclose(scores.raw[:, column], raw, rtol=0, atol=1e-5)
    boosted = model.scorer.boosted
    assert boosted, "no drug is served by a booster"
    contributions = model.explain(profiles[:40])
    for row in range(40):
        shap = model.scorer.shap(scores, row, boosted)
        for column in boosted:
            expected = contributions[scores.drugs[column]][row]
            np.testing.assert_allclose(shap[column], expected, rtol=0, atol=1e-5)
