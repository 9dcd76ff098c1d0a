"""Champion and challenger on the same episodes: the ones the champion never saw.

The hold-out is every episode of the new cohort whose (sample, drug) pair is not
in the champion's training cohort. Both models score each of them without having
trained on it:

- the champion with its registered bundle (it never saw these episodes);
- the challenger with its grouped out-of-fold predictions from cross-validation
  on the whole new cohort, so each episode was held out from the challenger too
  (by the fold that contained its sample).

The comparison uses both models' raw (uncalibrated) probabilities: the champion's
calibrators were fitted out of sample, but calibrating the challenger's
out-of-fold predictions with calibrators fitted on those same predictions would
flatter it. AUROCs are within-drug (stratified). The data checks (consistency,
calibration-in-the-large) use the champion's calibrated probabilities, since
they ask whether the new outcomes follow them; the champion never saw the batch,
so a corrupted batch cannot have taught it anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from features import canonical_tumour_type
from models import BundleMetadata, ResponderModel
from training.data import Cohort
from training.evaluation import auroc, bootstrap_weights, brier
from training.fitting import COLUMNS, CrossValidation, lowest_brier
from training.retraining._calibration import (
    MIN_REPORTED,
    drug_calibrations,
    overall_calibration,
)
from training.retraining._drift import DriftReport

# The evaluation package's grouped resampler, so the gate's intervals mean what
# `rediscover evaluate`'s do (at the gate's level, alpha, rather than 95%).
from training.retraining._gate import (
    DrugComparison,
    Estimate,
    HoldOutMetrics,
    RateChange,
)

Statistic = Callable[[np.ndarray], np.ndarray]  # bootstrap weights -> one per row


def new_episodes(treatments: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """Mask of ``treatments`` rows whose (sample_id, drug) is not in ``reference``."""
    seen = pd.MultiIndex.from_frame(reference[["sample_id", "drug"]])
    key = pd.MultiIndex.from_frame(treatments[["sample_id", "drug"]])
    return np.asarray(~key.isin(seen))


def holdout_frame(
    cv: CrossValidation,
    cohort: Cohort,
    reference: Cohort,
    *,
    champion: ResponderModel,
    challenger: ResponderModel,
) -> pd.DataFrame:
    """The hold-out episodes with both models' probabilities.

    Columns ``sample_id``, ``drug``, ``tumour_type`` (canonical), ``responded``,
    ``champion`` and ``challenger`` (raw), ``champion_calibrated``; only drugs
    both models score.
    """
    oof = cv.oof
    new = new_episodes(oof, reference.treatments)
    served_by = {d: i.served_by for d, i in challenger.metadata.drugs.items()}
    kind = kind_chosen_without(oof, new, served_by=served_by)
    own = cv.predictions(kind).to_numpy()
    keep = (
        new
        & oof["drug"].isin(champion.drugs).to_numpy()
        & np.isfinite(own.astype(float))
    )
    frame = oof.loc[keep, ["sample_id", "drug", "responded"]].assign(
        challenger=own[keep].astype(float)
    )
    frame["champion"] = _champion_scores(frame, cohort, champion)
    types = {p.sample_id: canonical_tumour_type(p.tumour_type) for p in cohort.profiles}
    frame.insert(2, "tumour_type", frame["sample_id"].map(types).fillna("unknown"))
    frame["champion_calibrated"] = np.nan
    for drug, rows in frame.groupby("drug").groups.items():
        raw = frame.loc[rows, "champion"].to_numpy()
        frame.loc[rows, "champion_calibrated"] = champion.calibrate(str(drug), raw)
    return frame.reset_index(drop=True)


def kind_chosen_without(
    oof: pd.DataFrame, held_out: np.ndarray, *, served_by: Mapping[str, str]
) -> dict[str, str]:
    """Per drug, the challenger's model kind for the comparison, chosen without
    the hold-out.

    The bundle chose by out-of-fold Brier over all episodes, hold-out included,
    which would flatter the challenger on it; here the lowest Brier on the
    episodes the champion saw decides, by the bundle's own rule (among the kinds
    that scored every such episode, ties to the simpler), and the bundle's choice
    stands where none can (a drug new to the data).
    """
    kind = dict(served_by)
    for drug, rows in oof[~held_out].groupby("drug"):
        if drug not in kind:
            continue
        y = rows["responded"].to_numpy(dtype=float)
        scores = {
            name: float(np.mean((rows[column].to_numpy(dtype=float) - y) ** 2))
            for name, column in COLUMNS.items()
            if column in rows and rows[column].notna().all()
        }
        if scores:
            kind[str(drug)] = lowest_brier(scores)
    return kind


def _champion_scores(
    frame: pd.DataFrame, cohort: Cohort, champion: ResponderModel
) -> np.ndarray:
    if frame.empty:
        return np.empty(0)
    wanted = set(frame["sample_id"])
    profiles = [p for p in cohort.profiles if p.sample_id in wanted]
    scores = pd.DataFrame(
        champion.score(profiles), index=[p.sample_id for p in profiles]
    )
    rows = scores.index.get_indexer(pd.Index(frame["sample_id"]))
    columns = scores.columns.get_indexer(pd.Index(frame["drug"]))
    return scores.to_numpy()[rows, columns]


def compare_holdout(
    frame: pd.DataFrame,
    *,
    champion: BundleMetadata,
    challenger: BundleMetadata,
    n_bootstrap: int,
    seed: int,
    alpha: float = 0.05,
    drug_margin: float = 0.0,
) -> HoldOutMetrics:
    """Hold-out metrics of both models, with grouped (by sample) bootstrap
    ``1 - alpha`` intervals; the deltas are paired (both models on each
    resample). AUROCs are within-drug (`stratified_auroc`)."""
    y, a, b = _columns(frame)
    strata = _codes(frame["drug"])
    calibrated = frame["champion_calibrated"].to_numpy(dtype=float)
    statistics = _auroc_statistics(y, a, b, strata) | {
        "brier_champion": lambda W: brier(y, a, W),
        "brier_challenger": lambda W: brier(y, b, W),
        "brier_delta": lambda W: brier(y, b, W) - brier(y, a, W),
        "consistency_auroc": lambda W: auroc(y, calibrated, W),
    }
    groups = frame["sample_id"].to_numpy()
    resampled = _resample(statistics, groups, n_bootstrap=n_bootstrap, seed=seed)
    cv_champion, cv_challenger = _cv_medians(champion, challenger)
    estimates: dict[str, Any] = {
        name: _estimate(*values, alpha=alpha) for name, values in resampled.items()
    }
    return HoldOutMetrics(
        n=len(frame),
        events=int(y.sum()),
        drugs=drug_comparisons(
            frame, n_bootstrap=n_bootstrap, seed=seed, alpha=alpha, margin=drug_margin
        ),
        consistency_expected=expected_auroc(calibrated) if len(frame) else None,
        cv_auroc_champion=cv_champion,
        cv_auroc_challenger=cv_challenger,
        calibration=overall_calibration(frame, n_bootstrap=n_bootstrap, seed=seed),
        drug_calibration=drug_calibrations(frame),
        **estimates,
    )


def stratified_auroc(
    y: np.ndarray, p: np.ndarray, strata: np.ndarray, W: np.ndarray
) -> np.ndarray:
    """Within-stratum AUROC: the share of responder / non-responder pairs of the
    same stratum (drug) that ``p`` orders correctly, ties one half, each row
    weighted by ``W`` (resamples x rows). NaN when no stratum has both outcomes.

    The pooled AUROC also counts pairs across drugs, so a model scores there for
    knowing which drug works more often, which says nothing about whom to treat.
    """
    numerator, pairs = np.zeros(len(W)), np.zeros(len(W))
    for code in np.unique(strata):
        rows = strata == code
        Wd, yd = W[:, rows], y[rows]
        n_pairs = (Wd * yd).sum(1) * (Wd * (1 - yd)).sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = auroc(yd, p[rows], Wd)
        defined = np.isfinite(value) & (n_pairs > 0)
        numerator += np.where(defined, value * n_pairs, 0.0)
        pairs += np.where(defined, n_pairs, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / pairs


def chance_median(
    cv: CrossValidation,
    *,
    min_episodes: int,
    min_events: int,
    n_bootstrap: int,
    seed: int,
    alpha: float = 0.05,
) -> tuple[Estimate, tuple[str, ...]]:
    """The median per-drug CV AUROC of the served models over the drugs with
    ``min_episodes`` episodes and ``min_events`` of each outcome, with a
    grouped (by sample) bootstrap ``1 - alpha`` interval; and those drugs.

    Drugs with fewer episodes are left out: their AUROC is too noisy to move the
    median anywhere but towards chance.
    """
    oof = cv.oof.assign(served=cv.predictions().to_numpy(dtype=float))
    oof = oof[np.isfinite(oof["served"])]
    counts = oof.groupby("drug")["responded"].agg(["size", "sum"])
    enough = counts[
        (counts["size"] >= min_episodes)
        & (counts["sum"] >= min_events)
        & (counts["size"] - counts["sum"] >= min_events)
    ].index
    oof = oof[oof["drug"].isin(enough)]
    if oof.empty:
        return Estimate(None), ()
    y = oof["responded"].to_numpy(dtype=float)
    p = oof["served"].to_numpy()
    rows = [np.flatnonzero(oof["drug"].to_numpy() == d) for d in enough]

    def median(W: np.ndarray) -> np.ndarray:
        per_drug = np.stack([auroc(y[r], p[r], W[:, r]) for r in rows], axis=1)
        return np.nanmedian(per_drug, axis=1)

    resampled = _resample(
        {"median": median}, oof["sample_id"].to_numpy(),
        n_bootstrap=n_bootstrap, seed=seed,
    )  # fmt: skip
    drugs = tuple(str(d) for d in enough)
    return _estimate(*resampled["median"], alpha=alpha), drugs


def cv_median(metadata: BundleMetadata, drugs: tuple[str, ...]) -> float | None:
    """A bundle's median per-drug CV AUROC over ``drugs`` (those it has)."""
    aurocs = [metadata.drugs[d].cv.auroc for d in drugs if d in metadata.drugs]
    defined = [a for a in aurocs if a is not None]
    return float(np.median(defined)) if defined else None


def rate_change(report: DriftReport) -> RateChange | None:
    """The drift report's response rate over all drugs, before and new."""
    summary = report.summary()
    values = [
        summary.get(f"drift_{name}", np.nan)
        for name in ("response_rate_reference", "response_rate_current",
                     "n_reference_episodes", "n_current_episodes")
    ]  # fmt: skip
    if not np.all(np.isfinite(values)):
        return None
    reference, new, n_reference, n_new = values
    return RateChange(reference, new, int(n_reference), int(n_new))


def expected_auroc(p: np.ndarray) -> float | None:
    """The AUROC that probabilities ``p`` should reach if outcomes follow them.

    The model-based concordance (van Klaveren et al., Stat Med 35:4136, 2016):
    every pair (i, j), i != j, counts as a responder / non-responder pair with
    weight p_i (1 - p_j), concordant when p_i > p_j (ties count one half). It
    depends on the case mix of these episodes only, not on their outcomes.
    """
    p = np.sort(np.asarray(p, dtype=float))
    q = 1 - p
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    P, Q = np.add.reduceat(p, starts), np.add.reduceat(q, starts)
    below = np.cumsum(Q) - Q
    self_pairs = float(np.sum(p * q))
    pairs = float(P.sum() * Q.sum()) - self_pairs
    if pairs <= 0:
        return None
    return (float(np.sum(P * (below + 0.5 * Q))) - 0.5 * self_pairs) / pairs


def drug_comparisons(
    frame: pd.DataFrame,
    *,
    n_bootstrap: int,
    seed: int,
    alpha: float = 0.05,
    margin: float = 0.0,
) -> tuple[DrugComparison, ...]:
    """Per drug with >= `MIN_REPORTED` hold-out episodes: both models' AUROC and
    the paired bootstrap interval of their difference, with the one-sided
    p-value of "the challenger falls no more than ``margin``" (the share of
    resamples where it does not)."""
    rows = []
    for drug, group in frame.groupby("drug"):
        if len(group) < MIN_REPORTED:
            continue
        y, a, b = _columns(group)
        statistics = _pair_statistics(y, a, b)
        resampled = _resample(
            statistics, group["sample_id"].to_numpy(),
            n_bootstrap=n_bootstrap, seed=seed,
        )  # fmt: skip
        (champion, champions), (challenger, _), (delta, deltas) = resampled.values()
        finite = deltas[np.isfinite(deltas)]
        calibrated = group["champion_calibrated"].to_numpy(dtype=float)
        rows.append(
            DrugComparison(
                str(drug), len(group), int(y.sum()), champion, challenger,
                delta_ci=_estimate(delta, deltas, alpha=alpha).ci,
                p_value=float(np.mean(finite >= -margin)) if len(finite) else None,
                expected=expected_auroc(calibrated),
                champion_se=_standard_error(champions),
            )
        )  # fmt: skip
    return tuple(rows)


def _columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, a, b = (
        frame[c].to_numpy(dtype=float) for c in ("responded", "champion", "challenger")
    )
    return y, a, b


def _auroc_statistics(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, strata: np.ndarray
) -> dict[str, Statistic]:
    """Champion (``a``) and challenger (``b``) within-drug AUROC and their paired
    difference."""
    return {
        "auroc_champion": lambda W: stratified_auroc(y, a, strata, W),
        "auroc_challenger": lambda W: stratified_auroc(y, b, strata, W),
        "auroc_delta": lambda W: (
            stratified_auroc(y, b, strata, W) - stratified_auroc(y, a, strata, W)
        ),
    }


def _pair_statistics(
    y: np.ndarray, a: np.ndarray, b: np.ndarray
) -> dict[str, Statistic]:
    """Champion (``a``) and challenger (``b``) AUROC on one drug's episodes."""
    return {
        "auroc_champion": lambda W: auroc(y, a, W),
        "auroc_challenger": lambda W: auroc(y, b, W),
        "auroc_delta": lambda W: auroc(y, b, W) - auroc(y, a, W),
    }


def _standard_error(samples: np.ndarray) -> float | None:
    finite = samples[np.isfinite(samples)]
    if len(finite) < max(10, len(samples) // 2):
        return None
    return float(np.std(finite, ddof=1))


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values)[0]


def _cv_medians(
    champion: BundleMetadata, challenger: BundleMetadata
) -> tuple[float | None, float | None]:
    # Over the drugs both models have, so new or dropped drugs do not move it.
    common = sorted(set(champion.drugs) & set(challenger.drugs))
    pairs = [(champion.drugs[d].cv.auroc, challenger.drugs[d].cv.auroc) for d in common]
    both = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not both:
        return None, None
    return (
        float(np.median([a for a, _ in both])),
        float(np.median([b for _, b in both])),
    )


def _resample(
    statistics: dict[str, Statistic],
    groups: np.ndarray,
    *,
    n_bootstrap: int,
    seed: int,
) -> dict[str, tuple[float | None, np.ndarray]]:
    """Each statistic on all rows and on every grouped bootstrap resample."""
    if not len(groups):
        return {name: (None, np.empty(0)) for name in statistics}
    weights = list(bootstrap_weights(groups, n_bootstrap=n_bootstrap, seed=seed))
    one = np.ones((1, len(groups)))
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, statistic in statistics.items():
            value = float(statistic(one)[0])
            samples = np.concatenate([statistic(W) for W in weights])
            out[name] = (value if np.isfinite(value) else None, samples)
    return out


def _estimate(
    value: float | None, samples: np.ndarray, *, alpha: float = 0.05
) -> Estimate:
    """The value with the percentile ``1 - alpha`` interval of its resamples
    (none when fewer than half of them, or fewer than 10, are defined: the rule
    of `training.evaluation.percentile_interval`)."""
    finite = samples[np.isfinite(samples)]
    if len(finite) < max(10, len(samples) // 2):
        return Estimate(value)
    low, high = np.percentile(finite, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return Estimate(value, (float(low), float(high)))
