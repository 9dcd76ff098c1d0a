"""The known-biomarker candidate: a logistic fit on the drug's biomarker alone,
cross-validated beside the boosters (served from the bundle: tests/models)."""

import numpy as np
import pytest
from scipy.special import expit

from training.fitting._biomarker import cross_validate_biomarker, fit_biomarker


def tmb_cohort(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tmb = rng.lognormal(1.5, 1.0, n)
    responded = (rng.random(n) < expit(-3 + 1.5 * np.log1p(tmb))).astype(int)
    return tmb, responded


def test_the_fit_recovers_the_biomarker_effect() -> None:
    tmb, responded = tmb_cohort(4000, seed=0)
    fit = fit_biomarker(tmb, responded)
    assert fit is not None
    assert fit.slope == pytest.approx(1.5, abs=0.2)
    assert fit.intercept == pytest.approx(-3, abs=0.4)
    assert fit_biomarker(np.zeros(10), responded[:10]) is None  # nothing varies
    assert fit_biomarker(tmb[:10], np.ones(10)) is None
    assert fit_biomarker(tmb[:0], responded[:0]) is None  # a drug all held out


def test_out_of_fold_scores_are_all_or_nothing_per_drug() -> None:
    tmb, responded = tmb_cohort(200, seed=1)
    drug = np.array(["nivolumab"] * 100 + ["olaparib"] * 100, dtype=object)
    scores = np.where(drug == "nivolumab", tmb, 0.0)  # olaparib: no HRD measured
    scores[100] = 2.0  # one olaparib episode varies: some folds still cannot fit
    fold = np.tile(np.arange(5), 40)
    out = cross_validate_biomarker(drug, scores, responded, fold)
    assert np.isfinite(out[:100]).all()
    assert np.isnan(out[100:]).all()
    # Held out: the fold's own episodes never fed the fit that scores them.
    train = (drug == "nivolumab") & (fold != 0)
    expected = fit_biomarker(scores[train], responded[train])
    assert expected is not None
    held = (drug == "nivolumab") & (fold == 0)
    assert out[held] == pytest.approx(expit(expected.margin(scores[held])))
