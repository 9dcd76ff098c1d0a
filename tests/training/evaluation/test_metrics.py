import numpy as np
import pytest
from scipy.special import expit
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from training.evaluation import (
    auprc,
    auroc,
    bootstrap,
    brier,
    calibration_intercept,
    calibration_slope,
    decision_curve,
    net_benefit,
    reliability_curve,
)


def calibrated(n: int = 20_000, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Linear predictor, its true probability and outcomes drawn from it."""
    rng = np.random.default_rng(seed)
    eta = rng.normal(-1.0, 1.2, n)
    return eta, (rng.random(n) < expit(eta)).astype(float)


def test_net_benefit_by_hand() -> None:
    y = np.array([1, 1, 0, 0, 0])
    treat = np.array([1, 0, 1, 1, 0])
    # 1 true positive, 2 false positives, each costing 0.2 / 0.8 = 0.25.
    assert net_benefit(y, treat, 0.2) == pytest.approx((1 - 2 * 0.25) / 5)
    assert net_benefit(y, np.zeros(5), 0.3) == 0.0


def test_decision_curve_treat_all_and_a_fixed_rule() -> None:
    y = np.array([1, 0, 0, 1, 0, 0, 0, 1])
    rule = np.array([1, 1, 0, 0, 0, 0, 0, 1])
    curve = decision_curve(y, {"rule": rule}, thresholds=[0.1, 0.25])
    prevalence = 3 / 8
    assert curve["treat_all"] == pytest.approx(
        [prevalence - (1 - prevalence) * t / (1 - t) for t in (0.1, 0.25)]
    )
    # The rule treats three samples, two responders, at every threshold.
    assert curve["rule"] == pytest.approx(
        [(2 - 1 * t / (1 - t)) / 8 for t in (0.1, 0.25)]
    )
    assert curve["treat_none"] == [0.0, 0.0]


def test_calibration_of_perfect_overconfident_and_too_low_predictions() -> None:
    eta, y = calibrated()
    one = np.ones((1, len(y)))
    assert calibration_slope(y, expit(eta), one)[0] == pytest.approx(1.0, abs=0.05)
    assert calibration_intercept(y, expit(eta), one)[0] == pytest.approx(0.0, abs=0.05)
    # Twice the log-odds: too extreme, slope about one half.
    assert calibration_slope(y, expit(2 * eta), one)[0] == pytest.approx(0.5, abs=0.03)
    # Log-odds one lower than the truth: intercept about +1, slope still 1.
    assert calibration_intercept(y, expit(eta - 1), one)[0] == pytest.approx(
        1, abs=0.05
    )
    assert calibration_slope(y, expit(eta - 1), one)[0] == pytest.approx(1, abs=0.05)


def test_calibration_slope_is_undefined_for_constant_predictions() -> None:
    _, y = calibrated(500)
    assert np.isnan(calibration_slope(y, np.full(len(y), 0.3), np.ones((1, len(y)))))


@pytest.mark.parametrize("ties", [False, True])
def test_weighted_metrics_equal_scikit_learn_with_sample_weight(ties: bool) -> None:
    rng = np.random.default_rng(1)
    p = rng.random(300)
    p = np.round(p * 4) / 4 if ties else p
    y = (rng.random(300) < p).astype(float)
    W = rng.integers(0, 4, size=(3, 300)).astype(np.float32)
    for ours, theirs in (
        (auroc, roc_auc_score),
        (auprc, average_precision_score),
        (brier, brier_score_loss),
    ):
        expected = [theirs(y, p, sample_weight=w) for w in W]
        assert ours(y, p, W) == pytest.approx(expected)


def test_bootstrap_resamples_samples_with_all_their_episodes() -> None:
    eta, y = calibrated(400, seed=2)
    p = expit(eta)
    single = bootstrap(y, {"p": p}, np.arange(400), n_bootstrap=100, seed=5)["p"]
    # Every sample twice (two identical episodes): the same resamples of samples
    # give the same metrics, so the intervals are identical, not narrower.
    twice = bootstrap(
        np.tile(y, 2), {"p": np.tile(p, 2)}, np.tile(np.arange(400), 2),
        n_bootstrap=100, seed=5,
    )["p"]  # fmt: skip
    for metric in ("auroc", "auprc", "brier", "calibration_slope"):
        assert twice[metric]["ci"] == pytest.approx(single[metric]["ci"])
        low, high = single[metric]["ci"]
        assert low < single[metric]["value"] < high
    assert single["auroc"]["value"] == pytest.approx(roc_auc_score(y, p))


def test_decisions_get_no_calibration_metrics() -> None:
    _, y = calibrated(200)
    rule = (np.arange(200) % 2).astype(float)
    result = bootstrap(y, {"rule": rule}, np.arange(200), n_bootstrap=20, seed=0,
                       decisions=frozenset({"rule"}))  # fmt: skip
    assert set(result["rule"]) == {"auroc", "auprc", "brier"}


def test_reliability_curve_is_scikit_learns() -> None:
    eta, y = calibrated(1000)
    observed, predicted = calibration_curve(
        y, expit(eta), n_bins=10, strategy="quantile"
    )
    curve = reliability_curve(y, expit(eta))
    assert curve["observed"] == pytest.approx(observed.tolist())
    assert curve["predicted"] == pytest.approx(predicted.tolist())
