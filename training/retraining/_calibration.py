"""Calibration-in-the-large of the champion on the new episodes: observed
against expected responders (the sum of its calibrated probabilities), over all
drugs and per drug, with standard errors that allow for DRUP's cohort effects.

The champion never saw these episodes, so a batch whose outcomes were inflated,
deflated or turned over cannot have taught it anything: its expectation is the
yardstick the gate holds the new outcomes to (`training.retraining.apply_gate`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from training.evaluation import bootstrap_weights
from training.retraining._gate import Calibration

MIN_REPORTED = 5  # per-drug rows from fewer episodes are not reported


def overall_calibration(
    frame: pd.DataFrame, *, n_bootstrap: int, seed: int
) -> Calibration:
    """Observed against expected responders (the champion's calibrated
    probabilities) over all new episodes.

    The standard error comes from a bootstrap over drug x tumour type clusters:
    a DRUP cohort (tumour type x biomarker x drug) shares a random effect, so its
    outcomes move together and the Poisson-binomial error (independent
    outcomes) would be too small.
    """
    y = frame["responded"].to_numpy(dtype=float)
    p = frame["champion_calibrated"].to_numpy(dtype=float)
    clusters = (frame["drug"] + " | " + frame["tumour_type"]).to_numpy()
    se = None
    if len(frame) and n_bootstrap:
        samples = np.concatenate([
            (W * (y - p)).sum(1) / W.sum(1)
            for W in bootstrap_weights(clusters, n_bootstrap=n_bootstrap, seed=seed)
        ])  # fmt: skip
        se = float(np.std(samples, ddof=1))
    return Calibration("all drugs", len(y), int(y.sum()), float(p.sum()), se)


def drug_calibrations(frame: pd.DataFrame) -> tuple[Calibration, ...]:
    """Per drug with >= `MIN_REPORTED` new episodes: observed against expected
    responders, with a standard error that allows for cohort effects and for the
    drift of whole drugs.

    A DRUP cohort's outcomes share a random effect, so a drug's count of
    responders varies more than independent draws (Poisson-binomial) allow. With
    V_c the sum of p (1 - p) over the drug's episodes of tumour type c, a shift u_c
    of that cohort's log-odds moves its expected count by about V_c u_c, and a
    shift u of the whole drug's log-odds (its new sites, its new case mix) by
    about V u, V = sum_c V_c; so Var(observed - expected) = V + tau^2 sum_c V_c^2
    + omega^2 V^2, tau^2 and omega^2 the variances of the shifts. Both come from
    the other drugs (`cohort_variance`, `drug_variance`): a drug whose outcomes all
    moved (turned over, say) cannot widen its own allowance, as a cluster-robust
    error over its own tumour types did (it counts a shift shared by every type as
    noise).
    """
    clusters = _clusters(frame)
    counts = frame["drug"].value_counts()
    reported = sorted(str(d) for d, n in counts.items() if n >= MIN_REPORTED)
    rows = []
    for drug in reported:
        own = clusters["drug"] == drug
        tau2 = cohort_variance(clusters.loc[~own, "R"], clusters.loc[~own, "V"])
        others = clusters[~own & clusters["drug"].isin(reported)]
        omega2 = drug_variance(others, tau2)
        drug_calibration = _calibration(str(drug), clusters[own], tau2, omega2)
        rest = None
        if own.sum() > 1:
            # The tumour type that departs most in the drug's direction.
            types = clusters[own]
            sign = np.sign(drug_calibration.difference) or 1.0
            largest = int(np.argmax(types["R"].to_numpy() * sign))
            name = f"without {types['tumour_type'].iloc[largest]}"
            rest = _calibration(name, types.drop(types.index[largest]), tau2, omega2)
        rows.append(replace(drug_calibration, rest=rest))
    return tuple(rows)


def _calibration(
    name: str, clusters: pd.DataFrame, tau2: float, omega2: float
) -> Calibration:
    """Observed against expected over ``clusters`` (one drug's tumour types),
    with independent outcomes', cohort effects' and the drug's drift variance."""
    n = int(clusters["n"].sum())
    V = clusters["V"]
    variance = V.sum() + tau2 * (V**2).sum() + omega2 * V.sum() ** 2
    se = float(np.sqrt(variance)) / n
    observed = round(float(clusters["observed"].sum()))
    return Calibration(name, n, observed, float(clusters["E"].sum()), se or None)


def drug_variance(clusters: pd.DataFrame, tau2: float) -> float:
    """The variance omega^2 of whole drugs' log-odds shifts, by the method of
    moments over the drugs in ``clusters``: a drug's residual R_d has E[R_d^2] =
    V_d + tau^2 sum_c V_c^2 + omega^2 V_d^2. Zero when the drugs' residuals are
    no larger than their cohorts' give."""
    per_drug = clusters.assign(V2=clusters["V"] ** 2).groupby("drug")[["R", "V", "V2"]]
    sums = per_drug.sum()
    weight = float((sums["V"] ** 2).sum())
    if weight <= 0:
        return 0.0
    excess = sums["R"] ** 2 - sums["V"] - tau2 * sums["V2"]
    return max(0.0, float(excess.sum()) / weight)


def cohort_variance(residuals: pd.Series, variances: pd.Series) -> float:
    """The variance tau^2 of cohorts' log-odds shifts around the champion's
    probabilities, by the method of moments: a cluster's residual R_c (observed
    minus expected responders) has E[R_c^2] = V_c + tau^2 V_c^2, V_c its sum of
    p (1 - p). Zero when the residuals are no larger than independent draws give.
    """
    weight = float((variances**2).sum())
    if weight <= 0:
        return 0.0
    return max(0.0, float((residuals**2 - variances).sum()) / weight)


def _clusters(frame: pd.DataFrame) -> pd.DataFrame:
    """Per drug x tumour type (the nearest to a DRUP cohort the profiles tell):
    responders observed and expected (E), the residual sum R, the binomial
    variance sum V and the episodes n."""
    p = frame["champion_calibrated"].to_numpy(dtype=float)
    y = frame["responded"].to_numpy(dtype=float)
    parts = pd.DataFrame({
        "drug": frame["drug"].to_numpy(),
        "tumour_type": frame["tumour_type"].to_numpy(),
        "observed": y, "E": p, "R": y - p, "V": p * (1 - p), "n": 1,
    })  # fmt: skip
    columns = ["observed", "E", "R", "V", "n"]
    return parts.groupby(["drug", "tumour_type"], as_index=False)[columns].sum()
