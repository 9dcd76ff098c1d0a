"""The bundle's per-drug explanation summaries (``explanations.json``), at train time.

Per drug: its episodes, responders and response rate; for every binary feature
column (and numeric biomarker at a clinical cut-off, see `CUT_OFFS`) carried by
at least `MIN_CARRIERS` of its episodes, the carriers and the responders among
them (rarer cells are not stored); the top features by mean
|SHAP| (log-odds) of the served model on the drug's own training episodes, since
the cross-validation's boosters are not kept (``rediscover explain`` ranks
held-out SHAP values instead); and candidate responder subgroups found on the
out-of-fold predictions of the served model (:mod:`._subgroups`). Aggregates
only: no sample id and no profile is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from features import DRUG_PREFIX
from models import (
    MIN_CELL,
    Carriers,
    DrugExplanation,
    ExplanationSet,
    FeatureImportance,
    ResponderModel,
)
from training.data import Cohort
from training.fitting._cross_validation import CrossValidation
from training.fitting._subgroups import RULE_FEATURES, discover_subgroups, rule_carriers

MIN_CARRIERS = MIN_CELL  # fewer carriers of a feature: the cell is not stored
TOP_FEATURES = 10
MAX_SHAP_EPISODES = 250  # episodes whose SHAP values rank a drug's features
# Numeric biomarkers become rule features at clinical cut-offs: TMB-high >= 10
# mut/Mb (FDA, pembrolizumab 2020), very high >= 20 (Goodman et al. Mol Cancer
# Ther 16:2598, 2017), HRD-high >= 42 (Myriad genomic instability score).
CUT_OFFS: tuple[tuple[str, float], ...] = (
    ("tmb mut per mb", 10.0),
    ("tmb mut per mb", 20.0),
    ("hrd score", 42.0),
)


def binary_columns(X: np.ndarray) -> np.ndarray:
    """Whether each column holds only 0 and 1 (NaN: not measured, counts as 0)."""
    values = np.nan_to_num(X, nan=0.0)
    return ((values == 0) | (values == 1)).all(axis=0)


def carrier_frame(
    X: np.ndarray, names: Sequence[str], *, min_carriers: int = MIN_CARRIERS
) -> pd.DataFrame:
    """Boolean frame (True: the row carries it) of the binary columns, and of the
    numeric biomarkers at their `CUT_OFFS` (``tmb mut per mb >= 10``; not measured
    counts as below), that at least ``min_carriers`` rows of ``X`` carry."""
    carried = pd.DataFrame(X == 1, columns=list(names)).loc[:, binary_columns(X)]
    column = {n: i for i, n in enumerate(names)}
    for name, cut in CUT_OFFS:
        if name in column:
            with np.errstate(invalid="ignore"):  # NaN compares False
                carried[f"{name} >= {cut:g}"] = X[:, column[name]] >= cut
    return carried.loc[:, carried.sum(axis=0) >= min_carriers]


def carrier_counts(
    carriers: pd.DataFrame, responded: np.ndarray
) -> dict[str, Carriers]:
    """Per column of ``carriers``: its carriers and the responders among them."""
    n = carriers.to_numpy().sum(axis=0)
    events = carriers.to_numpy()[np.asarray(responded) == 1].sum(axis=0)
    return {
        str(f): Carriers(n=int(k), responders=int(e))
        for f, k, e in zip(carriers.columns, n, events, strict=True)
    }


def top_features(
    contributions: np.ndarray, names: Sequence[str], *, k: int = TOP_FEATURES
) -> tuple[FeatureImportance, ...]:
    """The ``k`` features with the largest nonzero mean |SHAP| (base value and
    the pooled model's drug-identity columns left out)."""
    if not len(names) or not len(contributions):  # served by rate or biomarker
        return ()
    strength = np.abs(contributions[:, : len(names)]).mean(axis=0)
    order = [
        i for i in np.argsort(-strength, kind="stable")
        if strength[i] > 0 and not names[i].startswith(DRUG_PREFIX)
    ]  # fmt: skip
    return tuple(
        FeatureImportance(feature=names[i], mean_abs_shap=float(strength[i]))
        for i in order[:k]
    )


def summarise_drug(
    carriers: pd.DataFrame,
    responded: np.ndarray,
    predicted: np.ndarray,
    *,
    folds: np.ndarray,
    importance: tuple[FeatureImportance, ...],
    seed: int,
) -> DrugExplanation:
    """One drug's summary from its episodes' carriers, outcomes, out-of-fold
    predictions and folds, and its feature importances (most important first;
    the first `TOP_FEATURES` are stored, the first `RULE_FEATURES` make rules)."""
    n, events = len(responded), int(np.sum(responded))
    ranked = [f.feature for f in importance]
    subgroups = discover_subgroups(
        rule_carriers(carriers, ranked), responded, predicted, folds=folds,
        features=ranked[:TOP_FEATURES], seed=seed,
    )  # fmt: skip
    return DrugExplanation(
        n=n,
        responders=events,
        rate=events / n if n else 0.0,
        top_features=importance[:TOP_FEATURES],
        carriers=carrier_counts(carriers, responded),
        subgroups=subgroups,
    )


def summarise_explanations(
    model: ResponderModel,
    cohort: Cohort,
    cv: CrossValidation,
    *,
    seed: int,
    n_jobs: int = 1,
) -> ExplanationSet:
    """Every drug's summary for the bundle, from the cohort it was trained on and
    the cross-validation that chose its models."""
    profiles = list(cohort.profiles)
    episodes = served_episodes(model, cohort, cv)
    X = model.vectorizer.transform(profiles)
    names = model.metadata.feature_names

    def summarise(item: tuple[str, pd.DataFrame]) -> DrugExplanation:
        drug, group = item
        rows = cohort.rows(group["sample_id"])
        # TreeSHAP costs most of a drug's time: a seeded sample of episodes
        # ranks the top features as well as all of them.
        some = np.random.default_rng(seed).permutation(rows)[:MAX_SHAP_EPISODES]
        design = model.design([profiles[r] for r in some], drugs=[drug], X=X[some])
        contributions = model.explain([], design=design)[drug]
        return summarise_drug(
            carrier_frame(X[rows], names),
            group["responded"].to_numpy(),
            group["predicted"].to_numpy(),
            folds=group["fold"].to_numpy(),
            importance=top_features(
                contributions, model.feature_names(drug), k=RULE_FEATURES
            ),
            seed=seed,
        )

    groups = [(str(d), g) for d, g in episodes.groupby("drug", sort=True)]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        summaries = tqdm(
            pool.map(summarise, groups), total=len(groups), desc="explanations"
        )
        return ExplanationSet(
            drugs=dict(zip([d for d, _ in groups], summaries, strict=True))
        )


def served_episodes(
    model: ResponderModel, cohort: Cohort, cv: CrossValidation
) -> pd.DataFrame:
    """The model's drugs' episodes with their fold and the out-of-fold
    probability of the model serving the drug (``predicted``; NaN: unscored)."""
    treatments = cohort.treatments[cohort.treatments["drug"].isin(model.drugs)]
    served = {d: i.served_by for d, i in model.metadata.drugs.items()}
    oof = cv.oof[["sample_id", "drug", "fold"]].assign(predicted=cv.predictions(served))
    frame = treatments[["sample_id", "drug", "responded"]].merge(
        oof, on=["sample_id", "drug"], how="left", validate="one_to_one"
    )
    frame["fold"] = frame["fold"].fillna(-1).astype(int)
    return frame


def top_shap_features(
    model: ResponderModel, cohort: Cohort, *, k: int = 5
) -> dict[str, list[tuple[str, float]]]:
    """Per drug, the k features with the largest mean |SHAP| over its episodes."""
    treatments = cohort.treatments
    treated = treatments[treatments["drug"].isin(list(model.metadata.drugs))]
    strength = _mean_abs_shap(model, cohort, treated)
    top = {}
    for drug, values in strength.items():
        names = model.feature_names(drug)
        order = np.argsort(-values)[:k]
        top[drug] = [(names[i], float(values[i])) for i in order]
    return top


def _mean_abs_shap(
    model: ResponderModel, cohort: Cohort, treated: pd.DataFrame, *, chunk: int = 200
) -> dict[str, np.ndarray]:
    # One pass explains every drug for a chunk of profiles; explaining each drug's
    # profiles separately would explain all drugs each time (quadratic in drugs).
    ids = list(dict.fromkeys(treated["sample_id"]))
    drugs_of = treated.groupby("sample_id")["drug"].agg(list)
    totals: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), chunk):
        batch = ids[start : start + chunk]
        contributions = model.explain([cohort.profile[s] for s in batch])
        for row, sample_id in enumerate(batch):
            for drug in drugs_of[sample_id]:
                values = np.abs(contributions[drug][row, :-1]).astype(float)
                totals[drug] = totals.get(drug, 0.0) + values
    counts = treated.groupby("drug").size()
    return {drug: totals[drug] / counts[drug] for drug in sorted(totals)}
