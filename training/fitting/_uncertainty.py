"""Fit calibration, conformal sets, score bins and the profile domain on the
out-of-fold predictions of cross-validation (so every step stays cross-fitted).

Rules (defaults of :class:`training.config.UncertaintyConfig`):

calibration
    Per drug, on its served model's out-of-fold probabilities: isotonic with at least
    2,000 episodes and 200 of each outcome; sigmoid (logistic recalibration on the
    log-odds, Platt's smoothed targets) with at least 100 episodes and 10 of each;
    otherwise the calibrator shared by every drug of its model kind (fitted on all of
    that kind's episodes, same rule), or the identity when even that is too little.
conformal sets
    Split conformal (LAC score ``1 - p(observed label)`` on calibrated
    probabilities), Mondrian by tumour type for each drug x tumour type with at least
    30 held-out episodes; otherwise the drug's own threshold (30 episodes), otherwise
    its model kind's.  Coverage is marginal (over all episodes of the group) unless
    ``conformal_by_outcome``, which keeps one threshold per outcome so responders are
    covered as often as non-responders (each outcome then needs the 30 episodes).
interval
    Wilson 95% interval of the calibrated probability taken as a rate observed in
    ``n`` episodes, ``n`` = the drug's held-out episodes in the same calibrated-score
    bin (quantile bins of at least 30 episodes, at most 10; a drug with fewer than
    60 episodes has a single bin), so it widens where the probability rests on few
    patients.
domain
    Event prevalences of the training profiles (events carried by at least 5) and
    the 99% quantiles of their surprisal and of their count of unseen-gene events.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from features import Profile, event_tokens
from models import (
    Calibrator,
    ConformalThresholds,
    DrugUncertainty,
    GroupThresholds,
    ProfileDomain,
    ScoreBins,
    UncertaintyModel,
    logit,
)
from training.config import UncertaintyConfig
from training.data import Cohort
from training.fitting._cross_validation import CrossValidation


def calibration_method(
    y: np.ndarray, *, settings: UncertaintyConfig
) -> Literal["isotonic", "sigmoid"] | None:
    """Isotonic for plenty of data, sigmoid for some, None for too little."""
    n, events = len(y), int(np.sum(y))
    fewer = min(events, n - events)
    if n >= settings.isotonic_min_episodes and fewer >= settings.isotonic_min_events:
        return "isotonic"
    if n >= settings.sigmoid_min_episodes and fewer >= settings.sigmoid_min_events:
        return "sigmoid"
    return None


def fit_calibrator(
    p: np.ndarray,
    y: np.ndarray,
    *,
    settings: UncertaintyConfig,
    fitted_on: str = "drug",
) -> Calibrator:
    """Fit the calibrator that :func:`calibration_method` picks for ``(p, y)``."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=int)
    base = Calibrator(
        method="identity", n_episodes=len(y), n_events=int(y.sum()), fitted_on=fitted_on
    )
    method = calibration_method(y, settings=settings)
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return Calibrator.model_validate(
            base.model_dump()
            | {
                "method": "isotonic",
                "x": iso.X_thresholds_.tolist(),
                "y": iso.y_thresholds_.tolist(),
            }
        )
    if method == "sigmoid":
        a, b = _fit_sigmoid(p, y)
        return Calibrator.model_validate(
            base.model_dump() | {"method": "sigmoid", "a": a, "b": b}
        )
    return base


def _fit_sigmoid(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # Platt's smoothed targets keep the fit finite when the outcomes separate; each
    # episode enters twice, as responder and as non-responder, weighted by its
    # smoothed target and one minus it (LogisticRegression takes no soft labels).
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    target = np.where(y == 1, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))
    z = logit(p)[:, None]
    fit = LogisticRegression(C=np.inf, max_iter=1000).fit(
        np.vstack([z, z]),
        np.r_[np.ones(len(y)), np.zeros(len(y))],
        sample_weight=np.r_[target, 1 - target],
    )
    a, b = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    if a < 0:  # scores ranked backwards: keep the map monotone, use the mean only
        return 0.0, float(logit(target.mean()))
    return a, b


def conformal_threshold(scores: np.ndarray, *, coverage: float) -> float:
    """Split-conformal quantile: the ceil((n + 1) * coverage)-th smallest score,
    or 1 (every label) when there are too few scores for that rank."""
    rank = math.ceil((len(scores) + 1) * coverage)
    if rank > len(scores):
        return 1.0
    return float(np.sort(scores)[rank - 1])


def fit_bins(p: np.ndarray, y: np.ndarray, *, settings: UncertaintyConfig) -> ScoreBins:
    """Quantile bins of calibrated scores, each with enough episodes, and the
    responders ``y`` in each."""
    n_bins = max(1, min(settings.max_bins, len(p) // settings.bin_min_episodes))
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)[1:-1])).tolist()
    index = np.searchsorted(edges, p, side="right")
    n = np.bincount(index, minlength=len(edges) + 1).tolist()
    events = (
        np.bincount(index, weights=y, minlength=len(edges) + 1).astype(int).tolist()
    )
    # Ties (isotonic steps) can leave a bin short: merge it into its smaller neighbour.
    while len(n) > 1 and min(n) < settings.bin_min_episodes:
        i = int(np.argmin(n))
        if i == len(n) - 1 or (i > 0 and n[i - 1] < n[i + 1]):
            i -= 1
        n[i : i + 2] = [n[i] + n[i + 1]]
        events[i : i + 2] = [events[i] + events[i + 1]]
        del edges[i]
    return ScoreBins(edges=edges, n=n, events=events)


def fit_domain(
    profiles: Sequence[Profile], *, settings: UncertaintyConfig
) -> ProfileDomain:
    """Event prevalences and surprisal / unseen-event cut-offs of training profiles."""
    counts = Counter(t for p in profiles for t in set(event_tokens(p)))
    n = len(profiles)
    draft = ProfileDomain(
        n_profiles=n,
        min_profiles=settings.min_event_profiles,
        quantile=settings.domain_quantile,
        prevalence={
            token: (count + 0.5) / (n + 1)
            for token, count in sorted(counts.items())
            if count >= settings.min_event_profiles
        },
        surprisal_threshold=0.0,
        unseen_threshold=0,
    )
    q = settings.domain_quantile
    unseen = np.quantile(draft.unseen_events(profiles), q)
    return draft.model_copy(
        update={
            "surprisal_threshold": float(np.quantile(draft.surprisal(profiles), q)),
            "unseen_threshold": max(settings.min_unseen_events, math.ceil(unseen)),
        }
    )


def episode_frame(cv: CrossValidation, cohort: Cohort) -> pd.DataFrame:
    """Held-out episodes with the served model's raw probability (``raw``), its kind
    (``served_by``) and the canonical tumour type; episodes never scored are dropped."""
    return cv.oof.assign(
        served_by=cv.oof["drug"].map(cv.served),
        raw=cv.predictions(),
        tumour_type=cv.oof["sample_id"].map(cohort.tumour_type),
    ).dropna(subset=["raw", "served_by"])


def fit_uncertainty(
    cv: CrossValidation, cohort: Cohort, *, settings: UncertaintyConfig
) -> UncertaintyModel:
    """Calibrators, conformal thresholds, score bins and the domain, from the
    out-of-fold predictions of the model each drug is served by."""
    frame = episode_frame(cv, cohort)
    samples = set(frame["sample_id"])
    profiles = [p for p in cohort.profiles if p.sample_id in samples]
    return fit_episodes(frame, profiles, settings=settings)


def fit_episodes(
    frame: pd.DataFrame, profiles: Sequence[Profile], *, settings: UncertaintyConfig
) -> UncertaintyModel:
    """:func:`fit_uncertainty` on an :func:`episode_frame` (or part of one)."""
    calibrators = _calibrators(frame, settings=settings)
    probability = pd.Series(np.nan, index=frame.index)
    for drug, rows in frame.groupby("drug").groups.items():
        probability[rows] = calibrators[str(drug)].apply(frame.loc[rows, "raw"])
    frame = frame.assign(probability=probability)
    conformal = _conformal(frame, settings=settings)
    drugs = {
        str(drug): DrugUncertainty(
            served_by=group["served_by"].iloc[0],
            calibrator=calibrators[str(drug)],
            conformal=conformal[str(drug)],
            bins=fit_bins(
                group["probability"].to_numpy(),
                group["responded"].to_numpy(),
                settings=settings,
            ),
        )
        for drug, group in frame.groupby("drug")
    }
    return UncertaintyModel(
        coverage=settings.coverage,
        drugs=drugs,
        domain=fit_domain(profiles, settings=settings),
    )


def _shared_by(kind: str) -> str:
    return f"all drugs served by the {kind} model"


def _calibrators(
    frame: pd.DataFrame, *, settings: UncertaintyConfig
) -> dict[str, Calibrator]:
    shared = {
        str(kind): fit_calibrator(
            group["raw"].to_numpy(),
            group["responded"].to_numpy(),
            settings=settings,
            fitted_on=_shared_by(str(kind)),
        )
        for kind, group in frame.groupby("served_by")
    }
    out = {}
    for drug, group in frame.groupby("drug"):
        y = group["responded"].to_numpy()
        own = calibration_method(y, settings=settings) is not None
        out[str(drug)] = (
            fit_calibrator(group["raw"].to_numpy(), y, settings=settings)
            if own
            else shared[group["served_by"].iloc[0]]
        )
    return out


def fit_group_thresholds(
    p: np.ndarray, y: np.ndarray, *, settings: UncertaintyConfig, fitted_on: str
) -> GroupThresholds:
    """Conformal thresholds of one group: shared by both outcomes, or one each."""
    coverage = settings.coverage
    if settings.conformal_by_outcome:
        non_responder = conformal_threshold(p[y == 0], coverage=coverage)
        responder = conformal_threshold(1 - p[y == 1], coverage=coverage)
    else:
        scores = np.where(y == 1, 1 - p, p)
        non_responder = responder = conformal_threshold(scores, coverage=coverage)
    return GroupThresholds(
        non_responder=non_responder, responder=responder, n=len(y), fitted_on=fitted_on
    )


def _conformal(
    frame: pd.DataFrame, *, settings: UncertaintyConfig
) -> dict[str, ConformalThresholds]:
    def enough(y: np.ndarray) -> bool:
        # By outcome, each outcome needs the minimum; otherwise the group does.
        n = min(y.sum(), len(y) - y.sum()) if settings.conformal_by_outcome else len(y)
        return bool(n >= settings.conformal_min_episodes)

    def fit(group: pd.DataFrame, fitted_on: str) -> GroupThresholds:
        return fit_group_thresholds(
            group["probability"].to_numpy(),
            group["responded"].to_numpy(),
            settings=settings,
            fitted_on=fitted_on,
        )

    by_kind = {
        str(kind): fit(group, _shared_by(str(kind)))
        for kind, group in frame.groupby("served_by")
    }
    out = {}
    for drug, group in frame.groupby("drug"):
        own = enough(group["responded"].to_numpy())
        out[str(drug)] = ConformalThresholds(
            by_outcome=settings.conformal_by_outcome,
            default=fit(group, "drug") if own else by_kind[group["served_by"].iloc[0]],
            by_tumour_type={
                str(t): fit(g, "drug x tumour type")
                for t, g in group.groupby("tumour_type")
                if enough(g["responded"].to_numpy())
            },
        )
    return out
