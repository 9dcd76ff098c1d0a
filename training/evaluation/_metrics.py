"""Metrics of out-of-fold predictions: overall, per drug and per tumour type.

Every subset reports its event counts and, for each prediction column, AUROC,
AUPRC (next to the prevalence, the AUPRC of a random ranking), Brier score and
calibration slope and intercept with grouped-bootstrap 95% intervals
(`bootstrap`); overall and per drug also the reliability curve
(``sklearn.calibration.calibration_curve``, quantile bins) and the decision
curve: net benefit over thresholds of 5-40% against treating everyone and
against the matching rule (Vickers & Elkin, Med Decis Making 26:565, 2006).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from threadpoolctl import threadpool_limits

from training.evaluation._bootstrap import bootstrap

THRESHOLDS: tuple[float, ...] = tuple(
    round(float(t), 2) for t in np.arange(0.05, 0.4001, 0.01)
)
N_BINS = 10
MIN_EVENTS = 5  # per-group summaries use groups with >= 5 events and non-events
RESAMPLED_CELLS = 10_000_000
MIN_RESAMPLES = 50


def net_benefit(y: np.ndarray, treat: np.ndarray, threshold: float) -> float:
    """Net benefit of treating ``treat`` at threshold probability ``threshold``.

    (true positives - false positives * pt / (1 - pt)) / n: a false positive
    costs what the threshold says a clinician would trade for a true positive.
    """
    y, treat = np.asarray(y, dtype=bool), np.asarray(treat, dtype=bool)
    harm = threshold / (1 - threshold)
    return float(((treat & y).sum() - (treat & ~y).sum() * harm) / len(y))


def decision_curve(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    thresholds: Sequence[float] = THRESHOLDS,
) -> dict[str, list[float]]:
    """Net benefit per threshold of each score (treat when p >= threshold), of
    treating everyone (``treat_all``) and no one (``treat_none``, always 0).

    A 0/1 score such as the matching rule treats the same samples at every
    threshold, so its curve is the rule's net benefit.
    """
    everyone = np.ones(len(y), dtype=bool)
    curve = {
        "threshold": list(thresholds),
        "treat_all": [net_benefit(y, everyone, t) for t in thresholds],
        "treat_none": [0.0] * len(thresholds),
    }
    for name, p in scores.items():
        curve[name] = [net_benefit(y, np.asarray(p) >= t, t) for t in thresholds]
    return curve


def reliability_curve(
    y: np.ndarray, p: np.ndarray, *, n_bins: int = N_BINS
) -> dict[str, list[float]]:
    """Observed event rate against mean prediction in quantile bins."""
    observed, predicted = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    return {"predicted": predicted.tolist(), "observed": observed.tolist()}


def resamples_for(n: int, n_bootstrap: int) -> int:
    """Bootstrap resamples for a subset of ``n`` episodes: ``n_bootstrap``, fewer
    (at least `MIN_RESAMPLES`) beyond `RESAMPLED_CELLS` episode-resamples, which
    only a subset of tens of thousands of episodes reaches (e.g. all of GDSC),
    where the intervals are narrow anyway."""
    return min(n_bootstrap, max(MIN_RESAMPLES, RESAMPLED_CELLS // max(n, 1)))


def score_episodes(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    decisions: frozenset[str],
    n_bootstrap: int,
    seed: int,
    curves: bool,
) -> dict[str, Any]:
    """Counts and metrics (and curves) of the prediction ``columns`` of ``frame``.

    ``frame`` holds ``sample_id``, ``responded`` and the columns; bootstrap
    resamples its samples (see `resamples_for`).
    """
    y = frame["responded"].to_numpy()
    scores = {c: frame[c].to_numpy(dtype=float) for c in columns}
    resamples = resamples_for(len(frame), n_bootstrap)
    out: dict[str, Any] = {
        "n": len(frame),
        "events": int(y.sum()),
        "samples": int(frame["sample_id"].nunique()),
        "prevalence": float(y.mean()),
        "resamples": resamples,
        "metrics": bootstrap(
            y, scores, frame["sample_id"].to_numpy(), n_bootstrap=resamples,
            seed=seed, decisions=decisions,
        ),
    }  # fmt: skip
    if curves:
        out["reliability"] = {
            c: reliability_curve(y, p) for c, p in scores.items() if c not in decisions
        }
        out["decision_curve"] = decision_curve(y, scores)
    return out


def score_subsets(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    by: Sequence[str],
    curves: Collection[str],
    decisions: frozenset[str],
    n_bootstrap: int,
    seed: int,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """`score_episodes` of all of ``frame`` (key ``overall``) and of each group of
    each column in ``by`` (``{column: {value: ...}}``); ``curves`` names the
    subsets (``overall`` or a ``by`` column) that get curves. Largest subsets
    first, in ``n_jobs`` threads (numpy releases the GIL for the heavy parts)."""
    tasks = [("overall", "", frame)] + [
        (column, str(key), group)
        for column in by
        for key, group in frame.groupby(column, sort=True)
    ]

    def score(task: tuple[str, str, pd.DataFrame]) -> dict[str, Any]:
        kind, _, subset = task
        return score_episodes(
            subset, columns, decisions=decisions, n_bootstrap=n_bootstrap,
            seed=seed, curves=kind in curves,
        )  # fmt: skip

    largest_first = sorted(tasks, key=lambda task: -len(task[2]))
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=n_jobs) as pool,
    ):
        scored = dict(
            zip(map(id, largest_first), pool.map(score, largest_first), strict=True)
        )
    out: dict[str, Any] = {column: {} for column in by}
    out["overall"] = scored[id(tasks[0])]
    for task in tasks[1:]:
        out[task[0]][task[1]] = scored[id(task)]
    return out


def summarise_groups(
    groups: Mapping[str, Mapping[str, Any]],
    columns: Sequence[str],
    *,
    min_events: int,
) -> dict[str, dict[str, float | int | None]]:
    """Per column, the spread of per-group AUROC and calibration over the groups
    with at least ``min_events`` events and as many non-events."""
    kept = [
        g for g in groups.values()
        if min(g["events"], g["n"] - g["events"]) >= min_events
    ]  # fmt: skip
    summary: dict[str, dict[str, float | int | None]] = {}
    for column in columns:
        summary[column] = {"groups": len(kept)}
        for metric in ("auroc", "auprc", "brier", "calibration_slope",
                       "calibration_intercept"):  # fmt: skip
            values = [g["metrics"][column].get(metric, {}).get("value") for g in kept]
            summary[column] |= _spread(metric, [v for v in values if v is not None])
    return summary


def _spread(metric: str, values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {f"{metric}_median": None}
    q = np.percentile(values, [0, 25, 50, 75, 100])
    names = ("min", "q1", "median", "q3", "max")
    spread: dict[str, float | int | None] = {f"{metric}_n": len(values)}
    for name, value in zip(names, q, strict=True):
        spread[f"{metric}_{name}"] = float(value)
    return spread
