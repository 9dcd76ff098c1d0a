"""Metrics under a grouped bootstrap, vectorised over resamples.

A resample of samples (with replacement) is a vector of counts per sample; each
episode inherits its sample's count as a weight. Every metric here takes a weight
matrix ``W`` of shape (resamples, episodes) and returns one value per resample, so
all resamples are computed at once; unit weights give the plain estimate. With
integer weights they equal scikit-learn's ``roc_auc_score``,
``average_precision_score`` and ``brier_score_loss`` given ``sample_weight``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
from scipy.special import expit, logit

EstimateDict = dict[str, float | list[float] | None]  # {"value": ..., "ci": [lo, hi]}
_MAX_CELLS = 2_000_000  # resamples x episodes held in memory at once
_EPS = 1e-6
_MIN_LOGIT_SD = 0.2
# Newton stops when every step is below _TOLERANCE; a resample whose last step is
# still above _CONVERGED (a slope known to 1e-4 is plenty) did not converge: NaN.
_TOLERANCE, _CONVERGED = 1e-6, 1e-4


def auroc(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted AUROC (ties count one half); NaN when a class has no weight."""
    ys, groups, Ws = _grouped(y, p, W, descending=False)
    pos = np.add.reduceat(Ws * ys, groups, axis=1)
    neg = np.add.reduceat(Ws * (1 - ys), groups, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(1) / (pos.sum(1) * neg.sum(1))


def auprc(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted average precision (step-wise, as scikit-learn computes it)."""
    ys, groups, Ws = _grouped(y, p, W, descending=True)
    pos = np.add.reduceat(Ws * ys, groups, axis=1)
    seen = np.cumsum(np.add.reduceat(Ws, groups, axis=1), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(seen > 0, np.cumsum(pos, axis=1) / seen, 0.0)
        return (pos * precision).sum(1) / pos.sum(1)


def brier(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted mean squared difference between probability and outcome."""
    return (W * (p - y) ** 2).sum(1) / W.sum(1)


def calibration_slope(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Slope b of the logistic recalibration logit P(y) = a + b logit(p).

    1 is ideal; below 1 the predictions are too extreme (overconfident). NaN when
    the fit does not converge or the predictions hardly vary (sd of logit(p)
    below 0.2: a slope would only measure noise).
    """
    return _logistic_fit(y, _logit(p), W)[1]


def calibration_intercept(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Calibration-in-the-large: a in logit P(y) = a + logit(p) (slope fixed at 1).

    0 is ideal; above 0 the predictions are too low on average.
    """
    x = _logit(p)
    # Resamples start from the estimate on all episodes, a few steps away.
    start = _newton_intercept(y, x, np.ones((1, len(y))), np.zeros(1))
    return _newton_intercept(y, x, W, np.full(W.shape[0], start[0]))


def _newton_intercept(
    y: np.ndarray, x: np.ndarray, W: np.ndarray, a: np.ndarray
) -> np.ndarray:
    wy = W @ y
    step = np.ones_like(a)
    with np.errstate(all="ignore"):
        for _ in range(50):
            mu = expit(a[:, None] + x)
            wmu = W * mu
            step = np.clip((wy - wmu.sum(1)) / (wmu - wmu * mu).sum(1), -5, 5)
            a = a + step
            if _largest(np.abs(step)) < _TOLERANCE:
                break
    return np.where(np.abs(step) < _CONVERGED, a, np.nan)


Metric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
METRICS: dict[str, Metric] = {
    "auroc": auroc,
    "auprc": auprc,
    "brier": brier,
    "calibration_slope": calibration_slope,
    "calibration_intercept": calibration_intercept,
}
CALIBRATION = ("calibration_slope", "calibration_intercept")


def bootstrap(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    groups: np.ndarray,
    *,
    n_bootstrap: int,
    seed: int,
    decisions: frozenset[str] = frozenset(),
) -> dict[str, dict[str, EstimateDict]]:
    """Each score's metrics with percentile 95% intervals, resampling by group.

    Parameters
    ----------
    y
        Outcomes (0/1), one per episode.
    scores
        Column name -> predictions aligned to ``y``; all share each resample.
    groups
        The sample of each episode (any labels); samples are resampled.
    decisions
        Columns holding 0/1 decisions, not probabilities: no calibration metrics.
    """
    y = np.asarray(y, dtype=float)
    columns = {name: np.asarray(p, dtype=float) for name, p in scores.items()}
    wanted = {
        name: [k for k in METRICS if not (name in decisions and k in CALIBRATION)]
        for name in columns
    }
    sampled: dict[tuple[str, str], list[np.ndarray]] = {
        (name, k): [] for name, ks in wanted.items() for k in ks
    }
    for W in bootstrap_weights(groups, n_bootstrap=n_bootstrap, seed=seed):
        for (name, k), values in sampled.items():
            values.append(METRICS[k](y, columns[name], W))
    one = np.ones((1, len(y)))
    return {
        name: {
            k: {
                "value": _finite(METRICS[k](y, columns[name], one)[0]),
                "ci": percentile_interval(
                    np.concatenate([*sampled[name, k], np.empty(0)])
                ),
            }
            for k in ks
        }
        for name, ks in wanted.items()
    }


def bootstrap_weights(
    groups: np.ndarray, *, n_bootstrap: int, seed: int
) -> Iterator[np.ndarray]:
    """Grouped bootstrap weights: blocks of (resamples, rows) resample counts.

    Whole groups (samples) are drawn with replacement; a row's weight is how
    often its group was drawn. Blocks keep memory bounded on large cohorts.
    """
    codes, n_groups = _codes(groups)
    chunk = max(1, _MAX_CELLS // max(len(codes), 1))
    rng = np.random.default_rng(seed)
    for start in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - start)
        counts = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size)
        yield counts[:, codes].astype(np.float32)


def _codes(groups: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(np.asarray(groups), return_inverse=True)
    return codes.ravel(), len(uniques)


def _grouped(
    y: np.ndarray, p: np.ndarray, W: np.ndarray, *, descending: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-p if descending else p, kind="mergesort")
    ps = p[order]
    groups = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    return y[order], groups, W[:, order]


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, _EPS, 1 - _EPS))


def _logistic_fit(
    y: np.ndarray, x: np.ndarray, W: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    nan = np.full(W.shape[0], np.nan)
    if np.std(x) < _MIN_LOGIT_SD:
        return nan, nan
    # The fit on all episodes starts from the null model (b = 0), where Newton's
    # steps behave; resamples then start from that fit, a few steps away.
    one = np.ones((1, len(y)))
    a, b = _newton_line(y, x, one, _start(y, one), np.zeros(1))
    if not np.isfinite(b[0]):
        return nan, nan
    return _newton_line(y, x, W, np.full_like(nan, a[0]), np.full_like(nan, b[0]))


def _newton_line(
    y: np.ndarray, x: np.ndarray, W: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Steps are clipped so a separable resample drifts instead of overflowing,
    # and is then reported NaN. Sums over episodes are products with [1, x, x^2].
    powers = np.column_stack([np.ones_like(x), x, x * x])
    wy = W @ (powers[:, :2] * y[:, None])
    step = np.ones_like(a)
    with np.errstate(all="ignore"):
        for _ in range(50):
            mu = expit(a[:, None] + b[:, None] * x)
            wmu = W * mu
            g = wy - wmu @ powers[:, :2]
            h = (wmu * (1 - mu)) @ powers
            det = h[:, 0] * h[:, 2] - h[:, 1] ** 2
            da = np.clip((h[:, 2] * g[:, 0] - h[:, 1] * g[:, 1]) / det, -5, 5)
            db = np.clip((h[:, 0] * g[:, 1] - h[:, 1] * g[:, 0]) / det, -5, 5)
            a, b = a + da, b + db
            step = np.maximum(np.abs(da), np.abs(db))
            if _largest(step) < _TOLERANCE:
                break
    ok = step < _CONVERGED
    return np.where(ok, a, np.nan), np.where(ok, b, np.nan)


def _start(y: np.ndarray, W: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(logit((W @ y) / W.sum(1)), dtype=float)


def _largest(steps: np.ndarray) -> float:
    # NaN steps (a resample that cannot be fitted) must not keep the loop going.
    return float(np.max(np.where(np.isfinite(steps), steps, 0.0), initial=0.0))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def percentile_interval(values: np.ndarray) -> list[float] | None:
    """The 95% percentile interval of bootstrap values, or None if too few."""
    finite = values[np.isfinite(values)]
    # Fewer than half the resamples defined: no interval worth stating.
    if len(finite) < max(10, len(values) // 2):
        return None
    low, high = np.percentile(finite, [2.5, 97.5])
    return [float(low), float(high)]
