"""Each drug's response rate per tumour type, shrunk across tumour types: the
offset its boosters start from, the rate a drug without genomic signal is served
by, and a baseline of the evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import lineage_of
from models import MIN_CELL, TumourTypeRates


def episode_rates(
    drug: np.ndarray, tumour_type: np.ndarray, y: np.ndarray, *, fit: np.ndarray
) -> tuple[dict[str, TumourTypeRates], np.ndarray]:
    """Each drug's rates fitted on the episodes ``fit`` selects, and every
    episode's rate from them (a drug with no fitted episode gets the fitted
    episodes' overall rate)."""
    rates = {
        str(d): fit_rates(tumour_type[mine], y[mine])
        for d in np.unique(drug)
        if (mine := (drug == d) & fit).any()
    }
    overall = float(y[fit].mean()) if fit.any() else 0.5
    out = np.full(len(y), overall)
    for d, table in rates.items():
        mine = drug == d
        out[mine] = table.rate(list(tumour_type[mine]))
    return rates, out


def fit_rates(tumour_types: Sequence[str], responded: np.ndarray) -> TumourTypeRates:
    """A drug's :class:`models.TumourTypeRates` from its episodes' canonical tumour
    types and outcomes: beta-binomial empirical Bayes over the types, and over
    their lineages for the types not listed, listing the groups with at least
    `models.MIN_CELL` episodes (so no rate rests on fewer than `MIN_CELL`
    patients; the others fall back to the lineage's, then the pooled rate)."""
    types = pd.Series(list(tumour_types), dtype=object)
    y = np.asarray(responded)
    lineages = types.map(lambda t: lineage_of(t) or "")
    pooled, by_type = _listed(types, y)
    known = lineages.ne("").to_numpy()
    _, by_lineage = _listed(lineages[known], y[known])
    return TumourTypeRates(pooled=pooled, rates=by_type, lineages=by_lineage)


def _listed(groups: pd.Series, y: np.ndarray) -> tuple[float, dict[str, float]]:
    # The prior mean, and the shrunk rate of each group with >= MIN_CELL episodes.
    counts = (
        pd.DataFrame({"group": groups.to_numpy(), "y": y})
        .groupby("group")["y"]
        .agg(["sum", "size"])
    )
    if counts.empty:
        return float(y.mean()) if len(y) else 0.5, {}
    table = shrunk_rates(counts["sum"].to_numpy(), counts["size"].to_numpy())
    listed = counts["size"].to_numpy() >= MIN_CELL
    rates = {
        str(g): float(r)
        for g, r, keep in zip(counts.index, table.posterior, listed, strict=True)
        if keep
    }
    return table.mean, rates


@dataclass(frozen=True)
class ShrunkRates:
    """Posterior mean rate per group, and the prior (pooled) mean and strength."""

    posterior: np.ndarray
    mean: float
    concentration: float  # a + b of the beta prior; inf = complete pooling


def shrunk_rates(events: np.ndarray, totals: np.ndarray) -> ShrunkRates:
    """Beta-binomial empirical Bayes rates of several groups (method of moments).

    The prior mean is the pooled rate m = sum(events) / sum(totals), so a group
    with no data gets exactly the pooled rate. The intra-class correlation rho =
    1 / (a + b + 1) comes from the binomial-weighted between-group dispersion
    (Kleinman 1973): E[sum n_i (p_i - m)^2] = m (1 - m) [(k - 1) + rho (N -
    sum n_i^2 / N)]; rho <= 0 pools completely, rho >= 1 leaves the raw rates.
    Posterior mean of group i: (a + y_i) / (a + b + n_i) with a + b = 1/rho - 1.
    """
    events, totals = np.asarray(events, float), np.asarray(totals, float)
    n = totals.sum()
    mean = events.sum() / n
    spread = n - (totals**2).sum() / n
    if mean in (0.0, 1.0) or spread <= 0:
        return ShrunkRates(np.full(len(totals), mean), float(mean), np.inf)
    dispersion = (totals * (events / totals - mean) ** 2).sum() / (mean * (1 - mean))
    rho = (dispersion - (len(totals) - 1)) / spread
    if rho <= 0:
        return ShrunkRates(np.full(len(totals), mean), float(mean), np.inf)
    concentration = 1 / min(rho, 1 - 1e-9) - 1
    posterior = (concentration * mean + events) / (concentration + totals)
    return ShrunkRates(posterior, float(mean), float(concentration))
