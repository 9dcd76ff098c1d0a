"""A drug's known biomarker alone as a model: the simplest candidate with a
genome in it (TMB for a checkpoint inhibitor, HRD score, or the DRUP matching
class), fitted as a one-feature logistic regression and cross-validated beside the
tumour-type rate and the boosters, so a drug whose boosters cannot beat its own
biomarker is served by the biomarker."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from features import DrugKnowledge, Profile
from models import BiomarkerFit


def biomarker_scores(
    profiles: Sequence[Profile], rows: np.ndarray, drugs: np.ndarray, *,
    knowledge: DrugKnowledge,
) -> np.ndarray:  # fmt: skip
    """Each episode's `features.DrugKnowledge.biomarker_score` (row of its
    profile, its drug)."""
    pairs = zip(rows, drugs, strict=True)
    return np.array([knowledge.biomarker_score(profiles[r], str(d)) for r, d in pairs])


def fit_biomarker(scores: np.ndarray, y: np.ndarray) -> BiomarkerFit | None:
    """The logistic fit on log(1 + score); None when the score or the outcome does
    not vary (no biomarker to learn from)."""
    if np.unique(scores).size < 2 or np.unique(y).size < 2:
        return None
    fitted = LogisticRegression().fit(np.log1p(scores)[:, None], y)
    return BiomarkerFit(
        intercept=float(fitted.intercept_[0]), slope=float(fitted.coef_[0, 0])
    )


def cross_validate_biomarker(
    drug: np.ndarray, scores: np.ndarray, y: np.ndarray, fold: np.ndarray
) -> np.ndarray:
    """Out-of-fold probabilities of each drug's biomarker fit; NaN for
    train-only episodes, and for every episode of a drug that some training fold
    could not fit (its Brier score must cover the same episodes as the others')."""
    out = np.full(len(y), np.nan)
    for d in np.unique(drug):
        mine = drug == d
        for k in np.unique(fold[mine & (fold >= 0)]):
            train, held = mine & (fold != k), mine & (fold == k)
            fit = fit_biomarker(scores[train], y[train])
            if fit is None:
                out[mine] = np.nan
                break
            out[held] = expit(fit.margin(scores[held]))
    return out
