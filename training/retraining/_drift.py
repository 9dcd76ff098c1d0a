"""Drift: how new data differ from the data a model was trained on.

Aggregates only: prevalences, proportions and rates, never a sample.

Small counts. Tumour types and drugs partition the samples (episodes, for drugs),
and the totals are reported, so a single blanked cell could be recovered by
subtraction. Instead, a tumour type or drug seen in 1 to ``min_count - 1`` samples
(episodes) on EITHER side is pooled into one "other tumour types" / "other drugs"
row, so no named category shows a count under ``min_count`` (0 is shown: it
describes no one). The "other" row may itself be small, but it names no category;
its response rate, and that over all drugs, are blanked when resting on fewer than
``min_count`` episodes. Headline statistics (TVD, chi-square, PSI) are computed on
the pooled table. Lineage features (``lineage: skin``) also partition the samples,
so a lineage holding a pooled tumour type is left out of the prevalence table.
Other features do not partition the samples: one seen in fewer than ``min_count``
samples on both sides is left out, and a cell from fewer than ``min_count``
samples on one side is blanked (NaN), with the differences and tests derived from
it. Per-drug response rates are shown as they are: a drug's responder count among
at least ``min_count`` episodes is an ordinary aggregate, even when small.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, false_discovery_control, norm

from features import Profile, ProfileVectorizer, canonical_tumour_type, lineage_of
from models import wilson_interval
from training.data import Cohort

OTHER_TUMOUR_TYPES = "other tumour types"
OTHER_DRUGS = "other drugs"
ALL_DRUGS = "all drugs"
# PSI of a proportion of exactly 0 is infinite; floor proportions at this.
_PSI_FLOOR = 1e-4
_SIGNIFICANT_Q = 0.05


@dataclass(frozen=True)
class DriftReport:
    """Drift of `current` from `reference`, as made by `drift_report`.

    Attributes
    ----------
    prevalence
        Per profile feature (named as `ProfileVectorizer` names them): prevalence
        in each cohort, difference (current - reference), two-proportion p-value,
        Benjamini-Hochberg q-value and population stability index (PSI).
    tumour_types
        Per tumour type: samples and proportion in each cohort, difference; types
        small on either side pooled into "other tumour types".
    response
        All drugs, then per drug: episodes, response rate with Wilson 95% interval
        in each cohort, difference and two-proportion p-value; drugs small on
        either side pooled into "other drugs".
    changes
        Drugs and tumour types present in only one cohort (``new`` or ``gone``;
        never ``gone`` for a report made with ``new_only=True``).
    statistics
        Headline numbers, see `summary`.
    """

    prevalence: pd.DataFrame
    tumour_types: pd.DataFrame
    response: pd.DataFrame
    changes: pd.DataFrame
    statistics: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Headline numbers named ``drift_*``, suitable as MLflow metrics."""
        return dict(self.statistics)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The report's tables by name (``prevalence``, ``tumour_types``, ...)."""
        return {
            "prevalence": self.prevalence,
            "tumour_types": self.tumour_types,
            "response": self.response,
            "changes": self.changes,
        }

    def to_dict(self) -> dict[str, Any]:
        """Summary and tables as JSON-ready data (NaN as None)."""
        tables = {
            name: table.astype(object).where(table.notna(), None).to_dict("records")
            for name, table in self.tables().items()
        }
        summary = {k: None if np.isnan(v) else v for k, v in self.statistics.items()}
        return {"summary": summary, "tables": tables}


def drift_report(
    reference: Cohort,
    current: Cohort,
    *,
    min_count: int = 5,
    new_only: bool = False,
) -> DriftReport:
    """Compare the cohort a model was trained on with new data.

    Parameters
    ----------
    reference
        The data the model (e.g. the champion) was trained on.
    current
        The new data, e.g. the latest version of a cohort store.
    min_count
        Fewest samples (episodes, for drugs) a category needs to be reported on
        its own; smaller ones are pooled or suppressed.
    new_only
        Compare `reference` with only the part of `current` it does not hold
        (samples and episodes it lacks) rather than with all of `current`. That
        part is a batch, not a cohort: drugs and tumour types it lacks are not
        "gone", so none is reported as such and the ``drift_n_gone_*`` statistics
        are NaN (not logged as metrics).
    """
    if min_count < 1:
        raise ValueError(f"min_count must be a positive integer; got {min_count}")
    if not reference.profiles:
        raise ValueError("the reference cohort holds no profiles to compare with")
    new = _new_part(reference, current)
    if new_only:
        current = new
    prevalence = prevalence_shift(
        reference.profiles, current.profiles, min_count=min_count
    )
    types, type_stats = tumour_type_mix(
        reference.profiles, current.profiles, min_count=min_count
    )
    response = response_shift(
        reference.treatments, current.treatments, min_count=min_count
    )
    changes = category_changes(
        reference, current, min_count=min_count, gone=not new_only
    )
    statistics = {
        "drift_n_reference_samples": float(len(reference.profiles)),
        "drift_n_current_samples": float(len(current.profiles)),
        "drift_n_reference_episodes": float(len(reference.treatments)),
        "drift_n_current_episodes": float(len(current.treatments)),
        "drift_n_new_samples": float(len(new.profiles)),
        "drift_n_new_episodes": float(len(new.treatments)),
        **_prevalence_summary(prevalence),
        **type_stats,
        **_response_summary(response),
        **_change_counts(reference, current, gone=not new_only),
    }
    return DriftReport(prevalence, types, response, changes, statistics)


def prevalence_shift(
    reference: Iterable[Profile], current: Iterable[Profile], *, min_count: int
) -> pd.DataFrame:
    """Per-feature prevalence in each set of profiles and tests of the change.

    Lineages holding a tumour type that `tumour_type_mix` pools are left out: with
    the named types' counts they would give the pooled type's count away."""
    reference, current = list(reference), list(current)
    vectorizer = ProfileVectorizer(min_count=1).fit([*reference, *current])
    types = pd.DataFrame(
        {"n_reference": _type_counts(reference), "n_current": _type_counts(current)}
    ).fillna(0)
    pooled = {lineage_of(t) for t in types.index[_small(types, min_count)]}
    lineages = [x for x in vectorizer.lineages_ if x not in pooled]
    names = [*vectorizer.events_, *(f"lineage: {x}" for x in lineages)]
    if "msi_high" in vectorizer.numeric_:
        names.append("msi high")
    a = _carriers(reference, vectorizer, names)
    b = _carriers(current, vectorizer, names)
    keep = (a >= min_count) | (b >= min_count)
    table = _proportion_table(a[keep], len(reference), b[keep], len(current))
    table.insert(0, "feature", np.asarray(names, dtype=object)[keep])
    _suppress(table, a[keep], b[keep], min_count=min_count)
    table = table.drop(columns=["n_reference", "n_current"])
    order = table["difference"].abs().sort_values(ascending=False, kind="stable")
    return table.loc[order.index].reset_index(drop=True)


def tumour_type_mix(
    reference: Iterable[Profile], current: Iterable[Profile], *, min_count: int
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Samples and proportions per tumour type, and the mix's TVD, chi-square
    p-value and PSI. Types seen in 1 to min_count - 1 samples on either side are
    pooled into one "other tumour types" row (shown even if small)."""
    counts = pd.DataFrame(
        {"n_reference": _type_counts(reference), "n_current": _type_counts(current)}
    ).fillna(0)
    counts = _pooled(counts, min_count=min_count, other=OTHER_TUMOUR_TYPES)
    totals = counts.sum()
    shares = counts / totals.where(totals > 0)
    shift = shares["n_current"] - shares["n_reference"]
    statistics = {
        "drift_tumour_type_tvd": float(0.5 * shift.abs().sum(min_count=1)),
        "drift_tumour_type_p_value": _chi_square_p(counts.to_numpy()),
        "drift_tumour_type_psi": float(
            _psi_terms(shares["n_reference"], shares["n_current"]).sum(min_count=1)
        ),
    }
    table = counts.assign(
        proportion_reference=shares["n_reference"],
        proportion_current=shares["n_current"],
        difference=shift,
    )
    table = table.rename_axis("tumour_type").reset_index()
    return table.sort_values(
        "tumour_type", kind="stable", ignore_index=True
    ), statistics


def response_shift(
    reference: pd.DataFrame, current: pd.DataFrame, *, min_count: int
) -> pd.DataFrame:
    """Response rate over all drugs and per drug in each treatment table. Drugs
    given in 1 to min_count - 1 episodes on either side are pooled into one
    "other drugs" row, whose rates (like those over all drugs) are blanked on
    fewer than min_count episodes."""
    n = pd.DataFrame(
        {
            "n_reference": reference.groupby("drug").size(),
            "n_current": current.groupby("drug").size(),
        }
    ).fillna(0)
    k = pd.DataFrame(
        {
            "n_reference": reference.groupby("drug")["responded"].sum(),
            "n_current": current.groupby("drug")["responded"].sum(),
        }
    ).fillna(0)
    label = _pooled_labels(n, min_count=min_count, other=OTHER_DRUGS)
    n, k = n.groupby(label).sum(), k.groupby(label).sum()
    n.loc[ALL_DRUGS], k.loc[ALL_DRUGS] = n.sum(), k.sum()
    order = _drug_order(n.index)
    n, k = n.loc[order], k.loc[order]
    table = _proportion_table(
        k["n_reference"].to_numpy(), n["n_reference"].to_numpy(),
        k["n_current"].to_numpy(), n["n_current"].to_numpy(), rates=True,
    )  # fmt: skip
    table.insert(0, "drug", order)
    _suppress(table, n["n_reference"], n["n_current"], min_count=min_count)
    return table.drop(columns=["q_value", "psi"])


def category_changes(
    reference: Cohort, current: Cohort, *, min_count: int, gone: bool = True
) -> pd.DataFrame:
    """Drugs and tumour types in only one cohort, if seen in at least `min_count`
    samples (episodes, for drugs) there. With ``gone=False`` (for a `current`
    that is a batch of new data, not a whole cohort) only the ``new`` ones."""
    rows = []
    for kind, before, after in _category_counts(reference, current):
        for name in sorted(after.keys() - before.keys()):
            if after[name] >= min_count:
                rows.append({"kind": kind, "name": name, "status": "new",
                             "n": after[name]})  # fmt: skip
        for name in sorted(before.keys() - after.keys()) if gone else []:
            if before[name] >= min_count:
                rows.append({"kind": kind, "name": name, "status": "gone",
                             "n": before[name]})  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "name", "status", "n"])


def _new_part(reference: Cohort, current: Cohort) -> Cohort:
    """The samples and episodes of `current` that `reference` does not hold."""
    seen = _episode_keys(reference.treatments)
    treatments = current.treatments[~_episode_keys(current.treatments).isin(seen)]
    known = {p.sample_id for p in reference.profiles} - set(treatments["sample_id"])
    profiles = tuple(p for p in current.profiles if p.sample_id not in known)
    return Cohort(profiles=profiles, treatments=treatments)


def _episode_keys(treatments: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(treatments[["sample_id", "drug"]])


def _carriers(
    profiles: list[Profile], vectorizer: ProfileVectorizer, names: list[str]
) -> np.ndarray:
    if not profiles:
        return np.zeros(len(names))
    columns = [vectorizer.feature_names_.index(name) for name in names]
    X = vectorizer.transform(profiles)[:, columns]
    return (np.nan_to_num(X) > 0).sum(axis=0).astype(float)


def _proportion_table(
    a: np.ndarray, n_a: Any, b: np.ndarray, n_b: Any, *, rates: bool = False
) -> pd.DataFrame:
    """Proportions a/n_a and b/n_b, their difference, test, q-value and PSI."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n_a, n_b = np.broadcast_to(n_a, a.shape), np.broadcast_to(n_b, b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q = a / n_a, b / n_b
    p_value = _two_proportion_p(a, n_a, b, n_b)
    tested = ~np.isnan(p_value)
    q_value = np.full_like(p_value, np.nan)
    if tested.any():
        q_value[tested] = false_discovery_control(p_value[tested])
    name = "rate" if rates else "prevalence"
    table = pd.DataFrame({"n_reference": n_a, f"{name}_reference": p})
    if rates:
        table["ci_low_reference"], table["ci_high_reference"] = wilson_interval(a, n_a)
    table["n_current"], table[f"{name}_current"] = n_b, q
    if rates:
        table["ci_low_current"], table["ci_high_current"] = wilson_interval(b, n_b)
    table["difference"] = q - p
    table["p_value"], table["q_value"] = p_value, q_value
    table["psi"] = _psi_terms(p, q) + _psi_terms(1 - p, 1 - q)
    return table


def _suppress(
    table: pd.DataFrame, n_reference: Any, n_current: Any, *, min_count: int
) -> None:
    """Blank, in place, each side's cells that rest on 1 to min_count - 1 samples,
    and everything derived from both sides in those rows."""
    derived = [c for c in ("difference", "p_value", "q_value", "psi") if c in table]
    for side, counts in (("reference", n_reference), ("current", n_current)):
        small = _is_small(counts, min_count)
        columns = [c for c in table.columns if c.endswith(f"_{side}")]
        table.loc[small, [*columns, *derived]] = np.nan


def _two_proportion_p(
    a: np.ndarray, n_a: np.ndarray, b: np.ndarray, n_b: np.ndarray
) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test (NaN if a side is
    empty; 1 if both proportions are 0 or both 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a + b) / (n_a + n_b)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        z = np.where(se > 0, (b / n_b - a / n_a) / se, 0.0)
    p_value = 2 * norm.sf(np.abs(z))
    return np.where((n_a > 0) & (n_b > 0), p_value, np.nan)


def _psi_terms(p: Any, q: Any) -> Any:
    """Terms (q - p) ln(q / p) of the population stability index; summed over the
    bins of a distribution they give its PSI."""
    p, q = np.clip(p, _PSI_FLOOR, None), np.clip(q, _PSI_FLOOR, None)
    return (q - p) * np.log(q / p)


def _chi_square_p(counts: np.ndarray) -> float:
    """p-value of the chi-square test of homogeneity of a categories x 2 table."""
    table = counts[counts.sum(axis=1) > 0]
    if len(table) < 2 or (table.sum(axis=0) == 0).any():
        return float("nan")
    return float(chi2_contingency(table.T).pvalue)


def _type_counts(profiles: Iterable[Profile]) -> pd.Series:
    counts = Counter(canonical_tumour_type(p.tumour_type) for p in profiles)
    return pd.Series(counts, dtype=float)


def _small(counts: pd.DataFrame, min_count: int) -> np.ndarray:
    """Categories (rows) seen in 1 to min_count - 1 samples on either side."""
    return np.asarray(_is_small(counts, min_count).any(axis=1), dtype=bool)


def _pooled_labels(counts: pd.DataFrame, *, min_count: int, other: str) -> pd.Series:
    small = _small(counts, min_count)
    return pd.Series(np.where(small, other, counts.index), index=counts.index)


def _pooled(counts: pd.DataFrame, *, min_count: int, other: str) -> pd.DataFrame:
    return counts.groupby(
        _pooled_labels(counts, min_count=min_count, other=other)
    ).sum()


def _is_small(counts: Any, min_count: int) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    return (values > 0) & (values < min_count)


def _drug_order(index: pd.Index) -> list[str]:
    drugs = sorted(d for d in index if d not in (ALL_DRUGS, OTHER_DRUGS))
    return [ALL_DRUGS, *drugs, *([OTHER_DRUGS] if OTHER_DRUGS in index else [])]


def _prevalence_summary(table: pd.DataFrame) -> dict[str, float]:
    shown = table.dropna(subset=["difference"])
    return {
        "drift_max_prevalence_shift": _max_abs(shown["difference"]),
        "drift_max_psi": _max_abs(shown["psi"]),
        "drift_n_features_shifted": float((shown["q_value"] < _SIGNIFICANT_Q).sum()),
    }


def _response_summary(table: pd.DataFrame) -> dict[str, float]:
    overall = table.iloc[0]
    drugs = table[~table["drug"].isin([ALL_DRUGS, OTHER_DRUGS])]
    return {
        "drift_response_rate_reference": float(overall["rate_reference"]),
        "drift_response_rate_current": float(overall["rate_current"]),
        "drift_response_rate_delta": float(overall["difference"]),
        "drift_response_rate_p_value": float(overall["p_value"]),
        "drift_max_drug_response_delta": _max_abs(drugs["difference"]),
    }


def _category_counts(
    reference: Cohort, current: Cohort
) -> list[tuple[str, Counter[str], Counter[str]]]:
    def types(cohort: Cohort) -> Counter[str]:
        return Counter(canonical_tumour_type(p.tumour_type) for p in cohort.profiles)

    def drugs(cohort: Cohort) -> Counter[str]:
        return Counter(cohort.treatments["drug"])

    return [
        ("drug", drugs(reference), drugs(current)),
        ("tumour type", types(reference), types(current)),
    ]


def _change_counts(
    reference: Cohort, current: Cohort, *, gone: bool = True
) -> dict[str, float]:
    """Numbers of new and (NaN unless `gone`) gone drugs and tumour types."""
    out = {}
    for kind, before, after in _category_counts(reference, current):
        name = kind.replace(" ", "_") + "s"
        n_gone = len(before.keys() - after.keys()) if gone else float("nan")
        out[f"drift_n_new_{name}"] = float(len(after.keys() - before.keys()))
        out[f"drift_n_gone_{name}"] = float(n_gone)
    return out


def _max_abs(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.abs().max()) if len(values) else float("nan")
