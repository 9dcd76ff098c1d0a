"""Baselines scored on the model's folds, each fitted inside the training fold.

- ``rule``: the matching rule in use today, treat every biomarker-matched sample
  (1 = matched, 0 = not; `features.DrugKnowledge.match`); nothing is fitted.
- ``biomarker``: the drug's known biomarker alone, a score not a probability
  (TMB for a checkpoint inhibitor, else the best DRUP matching class;
  `features.DrugKnowledge.biomarker_score`); nothing is fitted.
- ``rate``: the drug's response rate in the training fold (the training fold's
  overall rate for a drug it does not hold).
- ``rate_shrunk``: the drug's rate per tumour type, shrunk towards the drug's
  rate by beta-binomial empirical Bayes (`training.fitting.fit_rates`, the
  offset the boosters start from); a tumour type the
  training fold lacks gets the drug's rate.
- ``logistic``: L2-regularised logistic regression on the fold's own
  `features.ProfileVectorizer` features (median-imputed with missing indicators,
  standardised, C = 0.01, not tuned), one per drug with enough training data by
  the per-drug model's rule (`training.fitting.trainable_drugs`); other drugs get
  ``rate_shrunk`` (column ``logistic_fitted`` says which).

Within a drug the raw rate is constant per fold, so its per-drug AUROC carries no
ranking; it even tends below 0.5, because a fold holding more responders leaves
fewer in its training folds (a lower predicted rate for a richer fold).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from features import DrugKnowledge, Profile, canonical_tumour_type
from training.config import TrainingConfig
from training.fitting import (
    fit_rates,
    fold_matrices,
    shrunk_rates,
    trainable_drugs,
)

BASELINES: tuple[str, ...] = (
    "rule", "biomarker", "rate", "rate_shrunk", "logistic"
)  # fmt: skip
COHORT_BASELINES: tuple[str, ...] = ("cohort_rate", "evidence", "combined")
# Fixed, not tuned per fold: of 0.003-0.1, 0.01 gave 25 random GDSC drugs the best
# held-out AUROC and a calibration slope near 1 (a choice made on that data).
LOGISTIC_C = 0.01


def matching_rule(
    oof: pd.DataFrame, profiles: Sequence[Profile], knowledge: DrugKnowledge
) -> np.ndarray:
    """The baseline in use today: treat every biomarker-matched patient (1 or 0)."""
    by_id = {p.sample_id: p for p in profiles}
    pairs = zip(oof["sample_id"], oof["drug"], strict=True)
    return np.array(
        [knowledge.match(by_id[s], d) is not None for s, d in pairs], dtype=float
    )


def known_biomarker(
    oof: pd.DataFrame, profiles: Sequence[Profile], knowledge: DrugKnowledge
) -> np.ndarray:
    """The drug's known biomarker alone (`features.DrugKnowledge.biomarker_score`):
    TMB for a checkpoint inhibitor, the matching class otherwise; nothing fitted."""
    by_id = {p.sample_id: p for p in profiles}
    pairs = zip(oof["sample_id"], oof["drug"], strict=True)
    return np.array([knowledge.biomarker_score(by_id[s], d) for s, d in pairs])


def fit_baselines(
    oof: pd.DataFrame,
    profiles: Sequence[Profile],
    *,
    folds: pd.Series,
    knowledge: DrugKnowledge,
    settings: TrainingConfig,
    min_count: int,
    cohorts: pd.Series | None = None,
) -> pd.DataFrame:
    """Out-of-fold predictions of every baseline, aligned to the rows of ``oof``.

    Parameters
    ----------
    oof
        Episodes (``sample_id``, ``drug``, ``responded``), e.g.
        `CrossValidation.oof`.
    folds
        Sample id -> held-out fold, -1 = train only (as for the model).
    min_count
        The vectorizer's ``min_count`` (the model's feature config).
    cohorts
        Each row's ``cohort_id``, aligned to ``oof``; given, the
        `COHORT_BASELINES` are fitted too.

    Returns
    -------
    pd.DataFrame
        One column per name in `BASELINES` (and `COHORT_BASELINES`; NaN on rows
        never held out) and ``logistic_fitted`` (whether the row's logistic model
        was fitted).
    """
    types = {p.sample_id: canonical_tumour_type(p.tumour_type) for p in profiles}
    frame = oof[["sample_id", "drug", "responded"]].assign(
        tumour_type=oof["sample_id"].map(types),
        fold=folds.reindex(oof["sample_id"]).fillna(-1).astype(int).to_numpy(),
    )
    frame.index = oof.index
    out = pd.DataFrame(np.nan, index=oof.index, columns=list(BASELINES))
    fold = frame["fold"].to_numpy()
    out.loc[fold >= 0, "rule"] = matching_rule(oof[fold >= 0], profiles, knowledge)
    out.loc[fold >= 0, "biomarker"] = known_biomarker(
        oof[fold >= 0], profiles, knowledge
    )
    fold_of = folds.reindex([p.sample_id for p in profiles]).fillna(-1).to_numpy()
    matrices = fold_matrices(
        profiles, fold_of, n_folds=int(fold_of.max()) + 1, min_count=min_count
    )
    row_of = pd.Series(np.arange(len(profiles)), index=[p.sample_id for p in profiles])
    rows = row_of[frame["sample_id"]].to_numpy()
    for k, X in enumerate(matrices):
        test = fold == k
        if not test.any():
            continue
        rates = _rates(frame[~test], frame[test])
        out.loc[test, ["rate", "rate_shrunk"]] = rates.to_numpy()
        Z = _standardised(X, fit_rows=fold_of != k)
        drugs = trainable_drugs(frame[~test], settings=settings)
        logistic = _logistic(Z, rows, frame, fold == k, drugs=drugs, settings=settings)
        out.loc[test, "logistic"] = logistic[test]
    out["logistic_fitted"] = out["logistic"].notna()
    out["logistic"] = out["logistic"].fillna(out["rate_shrunk"])
    if cohorts is not None:
        classes = _evidence_classes(oof, profiles, knowledge)
        frame = frame.assign(cohort=cohorts.to_numpy(), evidence=classes)
        for k in np.unique(fold[fold >= 0]):
            test = fold == k
            out.loc[test, list(COHORT_BASELINES)] = _cohort_rates(
                frame[~test], frame[test]
            )
    return out


def _evidence_classes(
    oof: pd.DataFrame, profiles: Sequence[Profile], knowledge: DrugKnowledge
) -> np.ndarray:
    # The best matching class (1-4) of each episode, 0 when unmatched.
    by_id = {p.sample_id: p for p in profiles}
    pairs = zip(oof["sample_id"], oof["drug"], strict=True)
    matches = (knowledge.match(by_id[s], d) for s, d in pairs)
    return np.array([0 if m is None else m.matching_class for m in matches])


def _cohort_rates(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """``cohort_rate``, ``evidence`` and ``combined`` for the test rows."""
    overall = float(train["responded"].mean())
    evidence = test["evidence"].map(train.groupby("evidence")["responded"].mean())
    return np.c_[
        _shrunk_within(train, test, within="drug"),
        evidence.fillna(overall).to_numpy(),
        _shrunk_within(train, test, within="evidence"),
    ]


def _shrunk_within(
    train: pd.DataFrame, test: pd.DataFrame, *, within: str
) -> np.ndarray:
    # Per level of ``within``: each cohort's rate shrunk towards the level's rate
    # (a cohort without training episodes gets the level's rate; a level without
    # any, the training fold's overall rate).
    out = pd.Series(float(train["responded"].mean()), index=test.index)
    trained = train.groupby(within)
    for level, group in test.groupby(within):
        if level not in trained.groups:
            continue
        counts = (
            trained.get_group(level).groupby("cohort")["responded"].agg(["sum", "size"])
        )
        table = shrunk_rates(counts["sum"].to_numpy(), counts["size"].to_numpy())
        posterior = pd.Series(table.posterior, index=counts.index)
        out[group.index] = group["cohort"].map(posterior).fillna(table.mean)
    return out.to_numpy()


def _rates(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    overall = float(train["responded"].mean())
    rate = test["drug"].map(train.groupby("drug")["responded"].mean())
    shrunk = pd.Series(overall, index=test.index)
    trained = train.groupby("drug")
    for drug, group in test.groupby("drug"):
        if drug not in trained.groups:
            continue
        seen = trained.get_group(drug)
        rates = fit_rates(seen["tumour_type"].tolist(), seen["responded"].to_numpy())
        shrunk[group.index] = rates.rate(group["tumour_type"].tolist())
    return pd.DataFrame({"rate": rate.fillna(overall), "rate_shrunk": shrunk})


def _standardised(X: np.ndarray, *, fit_rows: np.ndarray) -> np.ndarray:
    """Median-imputed (with missing indicators) and standardised features, both
    fitted on the fold's training profiles."""
    steps = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    return np.asarray(steps.fit(X[fit_rows]).transform(X))


def _logistic(
    Z: np.ndarray,
    rows: np.ndarray,
    frame: pd.DataFrame,
    test: np.ndarray,
    *,
    drugs: Sequence[str],
    settings: TrainingConfig,
) -> np.ndarray:
    """Each drug's held-out probabilities, NaN where no model was fitted."""
    y = frame["responded"].to_numpy()
    positions = frame.reset_index(drop=True).groupby("drug").indices
    tasks = [d for d in drugs if test[positions[d]].any()]

    def fit_predict(drug: str) -> tuple[np.ndarray, np.ndarray]:
        mine = np.asarray(positions[drug])
        train, held_out = mine[~test[mine]], mine[test[mine]]
        model = LogisticRegression(C=LOGISTIC_C, max_iter=5000)
        model.fit(Z[rows[train]], y[train])
        return held_out, model.predict_proba(Z[rows[held_out]])[:, 1]

    predicted = np.full(len(y), np.nan)
    # Small problems: BLAS threads would only contend with the drugs' threads.
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=settings.n_jobs) as pool,
    ):
        for held_out, probability in pool.map(fit_predict, tasks):
            predicted[held_out] = probability
    return predicted
