"""Do each drug's new outcomes agree with its cohorts' history?

A DRUP cohort (tumour type x biomarker x drug) keeps enrolling across batches,
and its own random effect stays with it: a cohort that responded well before
should go on responding well, one that did not should not. Outcomes turned over
(a site coding progression as 1, say) reverse that order, cohort by cohort, and
may leave the drug's response rate, and the champion's near-chance ranking of
patients within the drug, where they were. This module measures, per drug, how
far the new outcomes of its continuing cohorts (those the champion's training
data already holds) go against their history.

Per drug, each continuing cohort k gets a predicted rate q_k: its old responders
y0_k of n0_k, shrunk towards the drug's old rate by a Beta prior of strength a
(`prior_strength`, from the spread of cohorts in the champion's training data).
The concordance S = sum_k (y1_k - n1_k q_k) logit(q_k) is low when the new
responders y1_k of n1_k fall on the other side of one half than the history
predicts (up to sign, scale and a constant it is the log-likelihood ratio of
"turned over" against "as coded": the statistic that test would use).
Its one-sided p-value comes from Beta-binomial draws of the new outcomes under
"they follow the history", and z is that p-value's normal quantile. Cohorts
drift between batches more than that allows (case mix, new sites), so z is
divided by the root of phi, the mean z^2 of the other drugs (at least 1): the
drift the batch shows elsewhere, which a drug whose own outcomes
were turned over cannot widen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from features import canonical_tumour_type
from training.data import Cohort
from training.retraining._gate import History

MIN_REPORTED = 5  # drugs with fewer new episodes in continuing cohorts: not reported
MAX_PRIOR = 1000.0  # prior strength when cohorts spread no more than chance
DRAWS = 20_000  # Beta-binomial draws per drug for the concordance's p-value


def cohort_outcomes(
    frame: pd.DataFrame, cohort: Cohort, reference: Cohort
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The new episodes (``frame``, the hold-out) and the champion's training
    episodes (``reference``), each as ``drug``, ``cohort``, ``responded``."""
    by_id = "cohort_id" in cohort.treatments and "cohort_id" in reference.treatments
    columns = ["drug", "cohort", "responded"]
    new = frame.assign(cohort=_cohort_keys(frame, cohort, by_id=by_id))[columns]
    old = reference.treatments.assign(
        cohort=_cohort_keys(reference.treatments, reference, by_id=by_id)
    )[columns]
    return new.reset_index(drop=True), old.reset_index(drop=True)


def drug_histories(
    new: pd.DataFrame, old: pd.DataFrame, *, seed: int = 0
) -> tuple[History, ...]:
    """Per drug with >= `MIN_REPORTED` new episodes in continuing cohorts: the
    concordance of its new outcomes with its cohorts' history (both frames
    with ``drug``, ``cohort``, ``responded``; `cohort_outcomes`)."""
    before = _counts(old, "n0", "y0")
    after = _counts(new, "n1", "y1")
    joined = after.join(before, how="inner")
    a = prior_strength(before)
    totals = before.groupby(level="drug")[["y0", "n0"]].sum()
    # Half an event each way keeps a drug with no responders (or no
    # non-responders) yet from a logit of minus (plus) infinity.
    rates = (totals["y0"] + 0.5) / (totals["n0"] + 1)
    rng = np.random.default_rng(seed)
    z = {
        str(drug): _concordance(rows, a=a, rate=float(rates[str(drug)]), rng=rng)
        for drug, rows in joined.groupby(level="drug")
        if rows["n1"].sum() >= MIN_REPORTED
    }
    histories = []
    for drug, (statistic, n, cohorts) in z.items():
        others = np.array([v[0] for d, v in z.items() if d != drug])
        phi = max(1.0, float(np.mean(others**2))) if len(others) else 1.0
        p = float(norm.cdf(statistic / np.sqrt(phi)))
        histories.append(History(drug, n, cohorts, statistic, phi, p))
    return tuple(histories)


def _counts(frame: pd.DataFrame, episodes: str, responders: str) -> pd.DataFrame:
    grouped = frame.groupby(["drug", "cohort"])["responded"]
    return pd.DataFrame({episodes: grouped.size(), responders: grouped.sum()})


def prior_strength(counts: pd.DataFrame) -> float:
    """The Beta prior's strength a = 1 / rho - 1, rho the intraclass correlation
    of outcomes within a cohort around its drug's rate: the one-way ANOVA
    estimator pooled over drugs, (MSB - MSW) / (MSB + (n0 - 1) MSW), n0 the
    cohorts' effective size; `MAX_PRIOR` when cohorts spread no more than
    independent outcomes would."""
    n = counts["n0"].astype(float)
    rate = counts["y0"] / n
    drug = counts.index.get_level_values("drug")
    total = n.groupby(drug).transform("sum")
    mean = counts["y0"].groupby(drug).transform("sum") / total
    between = float((n * (rate - mean) ** 2).sum())
    within = float((n * rate * (1 - rate)).sum())
    k = n.groupby(drug).size()
    df_between = float((k - 1).sum())
    df_within = float((n - 1).sum())
    if df_between <= 0 or df_within <= 0:
        return MAX_PRIOR
    squares = (n**2).groupby(drug).sum() / n.groupby(drug).sum()
    size = float((n.groupby(drug).sum() - squares).sum()) / df_between
    msb, msw = between / df_between, within / df_within
    rho = (msb - msw) / (msb + (size - 1) * msw) if msb + msw > 0 else 0.0
    if rho <= 1 / (MAX_PRIOR + 1):
        return MAX_PRIOR
    return 1 / rho - 1


def _concordance(
    rows: pd.DataFrame, *, a: float, rate: float, rng: np.random.Generator
) -> tuple[float, int, int]:
    """z of the concordance S (module docstring), new episodes, cohorts.

    S is referred to its Beta-binomial distribution by `DRAWS` draws: with a
    few episodes per cohort and rates near 0 or 1 it is far from normal, and a
    normal approximation would call one surprising cohort impossible.
    """
    n1, y1 = rows["n1"].to_numpy(float), rows["y1"].to_numpy(float)
    n0, y0 = rows["n0"].to_numpy(float), rows["y0"].to_numpy(float)
    alpha, beta = a * rate + y0, a * (1 - rate) + n0 - y0
    q = alpha / (alpha + beta)
    w = np.log(q / (1 - q))
    observed = float(((y1 - n1 * q) * w).sum())
    drawn = rng.binomial(n1.astype(int), rng.beta(alpha, beta, (DRAWS, len(q))))
    null = ((drawn - n1 * q) * w).sum(axis=1)
    # One-sided p-value, strictly inside (0, 1) so that its z is finite.
    p = (1 + np.count_nonzero(null <= observed + 1e-9)) / (DRAWS + 2)
    return float(norm.ppf(p)), int(n1.sum()), len(rows)


def _cohort_keys(
    treatments: pd.DataFrame, cohort: Cohort, *, by_id: bool
) -> np.ndarray:
    """Each row's cohort: ``cohort_id`` when ``by_id`` (both cohorts have one,
    as DRUP's do) and every row has one, else its drug x tumour type (the
    nearest the profiles tell)."""
    if by_id:
        ids = cohort.treatments.set_index(["sample_id", "drug"])["cohort_id"]
        ids = ids[~ids.index.duplicated()]
        key = pd.MultiIndex.from_frame(treatments[["sample_id", "drug"]])
        found = ids.reindex(key).to_numpy()
        if not pd.isna(found).any():
            return found.astype(str)
    types = {p.sample_id: canonical_tumour_type(p.tumour_type) for p in cohort.profiles}
    tumour = treatments["sample_id"].map(types).fillna("unknown")
    return (treatments["drug"] + " | " + tumour).to_numpy(dtype=str)
