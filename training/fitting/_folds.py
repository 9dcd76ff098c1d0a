"""Grouped cross-validation folds and out-of-fold metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from models import CvMetrics


def assign_folds(treatments: pd.DataFrame, *, n_splits: int, seed: int) -> pd.Series:
    """Fold number per sample: stratified on response, grouped by sample.

    Every episode of a sample lands in the same fold, so no sample is ever both
    trained on and scored in one split.
    """
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    folds = pd.Series(-1, index=pd.Index(treatments["sample_id"].unique()), dtype=int)
    split = splitter.split(
        treatments, treatments["responded"], groups=treatments["sample_id"]
    )
    for fold, (_, test) in enumerate(split):
        folds[treatments["sample_id"].iloc[test].unique()] = fold
    return folds


def score_out_of_fold(
    y: np.ndarray, probability: np.ndarray, *, n_bootstrap: int, seed: int
) -> CvMetrics:
    """AUROC (with bootstrap 95% interval), AUPRC, prevalence and Brier score."""
    both_classes = 0 < y.sum() < len(y)
    return CvMetrics(
        auroc=float(roc_auc_score(y, probability)) if both_classes else None,
        auroc_ci=_bootstrap_auroc(y, probability, n=n_bootstrap, seed=seed)
        if both_classes and n_bootstrap
        else None,
        auprc=float(average_precision_score(y, probability)) if both_classes else None,
        prevalence=float(y.mean()),
        brier=float(brier_score_loss(y, probability)),
    )


def _bootstrap_auroc(
    y: np.ndarray, probability: np.ndarray, *, n: int, seed: int
) -> tuple[float, float] | None:
    # Mann-Whitney form of the AUROC, vectorised over all resamples at once.
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(y), size=(n, len(y)))
    labels, ranks = y[rows], rankdata(probability[rows], axis=1)
    positives = labels.sum(axis=1)
    # A resample holding one outcome only has no AUROC; leave it out.
    valid = (positives > 0) & (positives < len(y))
    if not valid.any():
        return None
    labels, ranks, positives = labels[valid], ranks[valid], positives[valid]
    auc = ((ranks * labels).sum(axis=1) - positives * (positives + 1) / 2) / (
        positives * (len(y) - positives)
    )
    low, high = np.percentile(auc, [2.5, 97.5])
    return float(low), float(high)
