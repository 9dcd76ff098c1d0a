"""Global SHAP rankings per drug on held-out folds, and their stability across folds.

Each drug's booster is trained per grouped fold (vectorizer fitted on the fold's
training samples, as in cross-validation) and explained with TreeSHAP on the samples
it did not see. Columns that are identical on the drug's samples encode one event
twice (``fusion BCR``, ``fusion ABL1`` and ``fusion BCR-ABL1``; the genes of one
amplicon; a tumour type and its lineage): the booster cannot tell them apart and
splits credit between them at random, so they are ranked as one group, whose SHAP
value is the sum of its members' (SHAP values are additive).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.stats import kendalltau, spearmanr

from features import MATCH_FEATURE_NAMES, DrugKnowledge, ProfileVectorizer, encode_pairs
from training.config import Config
from training.data import Cohort
from training.fitting import (
    LabelledRows,
    assign_folds,
    fit_booster,
    fit_rates,
    fold_vectorizers,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldOutShap:
    """One drug's TreeSHAP attributions on held-out folds, per feature group.

    ``groups`` has one row per feature group, largest ``mean_abs_shap`` first
    (mean |SHAP| in log-odds, pooled over every held-out episode), with
    ``carrier_shap`` (mean signed SHAP over held-out carriers of the group;
    positive: carrying it raises the predicted response), ``n_carriers`` (held-out
    carriers) and ``response_difference`` (responder rate of all the drug's
    carriers minus non-carriers: is there a signal in the data to find?).
    ``fold_mean_abs`` has the same rows and one column per fold (NaN for a fold
    that could not be fitted); ``members`` maps each group to its columns.
    ``flagged_by`` maps a group to the knowledge-flag groups (target match, match
    class, ...) set on at least 90% of its carriers: the drug's knowledge encodes
    that biomarker, and the booster may learn it from the flag instead.
    """

    drug: str
    groups: pd.DataFrame
    fold_mean_abs: pd.DataFrame
    members: dict[str, tuple[str, ...]]
    flagged_by: dict[str, tuple[str, ...]]

    def group_of(self, feature: str) -> str | None:
        """The group label holding a vectorizer column name, or None."""
        return next((g for g, m in self.members.items() if feature in m), None)


def _ranks(importance: pd.Series) -> pd.Series:
    # Ties share the best rank; groups no model used get no rank.
    return importance.where(importance > 0).rank(ascending=False, method="min")


@dataclass(frozen=True)
class _Fold:
    X: np.ndarray
    columns: dict[str, int]


@dataclass(frozen=True)
class DrugFolds:
    """One drug's episodes laid out as its own booster reads them: profile
    features, then the drug's target-match flags; its tumour-type rates (the
    offset) are fitted per fold."""

    episodes: pd.DataFrame  # sample_id, responded, fold
    tumour_types: np.ndarray  # canonical, per episode
    X: np.ndarray  # full encoding (only to name, group and count columns)
    names: list[str]
    folded: list[tuple[np.ndarray, dict[str, int]]]  # per fold: matrix, columns

    def fit_fold(
        self, fold: int, *, config: Config
    ) -> tuple[np.ndarray, xgb.Booster, xgb.DMatrix] | None:
        """Fit the drug's booster without ``fold`` (offset included); return the
        held-out mask, the booster and its held-out matrix, or None when the fold
        has nothing to score or nothing to learn from."""
        y = self.episodes["responded"].to_numpy()
        held = self.episodes["fold"].to_numpy() == fold
        if not held.any() or len(np.unique(y[~held])) < 2:
            return None
        booster, rows = self.fit_rows(y, self.folded[fold][0], ~held, config=config)
        return held, booster, rows.take(held).matrix()

    def fit_rows(
        self, y: np.ndarray, X: np.ndarray, rows: np.ndarray, *, config: Config
    ) -> tuple[xgb.Booster, LabelledRows]:
        """The drug's booster fitted on the episodes ``rows`` selects (outcomes
        ``y``, matrix ``X``), its offset the tumour-type rates fitted on them;
        and every episode's rows with that offset."""
        rates = fit_rates(self.tumour_types[rows], y[rows])
        labelled = LabelledRows(X, y, rates.margin(list(self.tumour_types)))
        booster = fit_booster(
            labelled.take(rows), params=config.xgboost, seed=config.training.seed
        )
        return booster, labelled


@dataclass(frozen=True)
class FoldDesign:
    """A cohort's episodes of some drugs, laid out for held-out explanation.

    ``encodings`` holds one vectorizer per fold, fitted on the other folds and
    applied to every profile; ``X``/``names`` come from a vectorizer fitted on
    every profile, only to name, group and count columns (never to score).
    """

    cohort: Cohort
    treatments: pd.DataFrame
    fold_of: np.ndarray  # per profile: its held-out fold, -1 train only
    encodings: list[_Fold]
    X: np.ndarray
    names: list[str]
    knowledge: DrugKnowledge

    def drug(self, drug: str) -> DrugFolds:
        """One drug's episodes and matrices, as its booster reads them."""
        mine = self.treatments[self.treatments["drug"] == drug]
        episodes = mine[["sample_id", "responded"]].reset_index(drop=True)
        rows = self.cohort.rows(episodes["sample_id"])
        episodes["fold"] = self.fold_of[rows].astype(int)
        profiles = [self.cohort.profiles[r] for r in rows]
        flags = encode_pairs(
            np.zeros((len(rows), 0)), profiles, [drug] * len(rows),
            drug_vocabulary=(), knowledge=self.knowledge,
        )  # fmt: skip
        match = {n: i for i, n in enumerate(MATCH_FEATURE_NAMES)}
        folded = [
            (
                np.hstack([e.X[rows], flags]),
                {**e.columns, **{n: len(e.columns) + i for n, i in match.items()}},
            )
            for e in self.encodings
        ]
        return DrugFolds(
            episodes=episodes,
            tumour_types=self.cohort.tumour_type.iloc[rows].to_numpy(),
            X=np.hstack([self.X[rows], flags]),
            names=[*self.names, *MATCH_FEATURE_NAMES],
            folded=folded,
        )


def fold_design(
    cohort: Cohort,
    *,
    config: Config,
    drugs: Sequence[str],
    knowledge: DrugKnowledge,
    folds: pd.Series | None = None,
) -> FoldDesign:
    """Folds (grouped stratified k-fold by default, as in training), per-fold
    encodings and the full encoding of ``cohort`` restricted to ``drugs``."""
    profiles = list(cohort.profiles)
    treatments = cohort.treatments[cohort.treatments["drug"].isin(drugs)]
    if folds is None:
        folds = assign_folds(
            treatments, n_splits=config.training.cv_folds, seed=config.training.seed
        )
    ids = [p.sample_id for p in profiles]
    fold_of = folds.reindex(ids).fillna(-1).to_numpy()
    min_count = config.features.min_count
    full = ProfileVectorizer(min_count=min_count).fit(profiles)
    vectorizers = fold_vectorizers(
        profiles, fold_of, n_folds=int(fold_of.max()) + 1, min_count=min_count
    )
    return FoldDesign(
        cohort=cohort,
        treatments=treatments,
        fold_of=fold_of,
        encodings=[_Fold(v.transform(profiles), _columns(v)) for v in vectorizers],
        X=full.transform(profiles),
        names=list(full.get_feature_names_out()),
        knowledge=knowledge,
    )


def held_out_shap(
    cohort: Cohort,
    *,
    config: Config,
    drugs: Sequence[str],
    knowledge: DrugKnowledge,
    folds: pd.Series | None = None,
) -> dict[str, HeldOutShap]:
    """Per drug, TreeSHAP on held-out grouped folds, aggregated per feature group.

    ``folds`` maps sample id -> held-out fold (-1: train only), as in
    :func:`training.fitting.cross_validate_cohort`; by default grouped stratified k-fold
    over the given drugs' episodes.
    """
    design = fold_design(
        cohort, config=config, drugs=drugs, knowledge=knowledge, folds=folds
    )

    def explain(drug: str) -> HeldOutShap:
        return _explain_drug(drug, design.drug(drug), config=config)

    with ThreadPoolExecutor(max_workers=config.training.n_jobs) as pool:
        return dict(zip(drugs, pool.map(explain, drugs), strict=True))


def _columns(vectorizer: ProfileVectorizer) -> dict[str, int]:
    return {n: i for i, n in enumerate(vectorizer.get_feature_names_out())}


def feature_groups(X: np.ndarray, names: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Columns with identical values on every row, as ``label -> member names``.

    The label joins the members with `` = `` (``amplification CDK12 = amplification
    ERBB2 = amplification MED24``); a column equal to no other is its own group.
    """
    by_values: dict[bytes, list[str]] = {}
    for column, name in enumerate(names):
        values = np.nan_to_num(X[:, column], nan=-1.0)
        by_values.setdefault(values.tobytes(), []).append(name)
    groups = (tuple(sorted(members)) for members in by_values.values())
    return {" = ".join(members): members for members in groups}


def _explain_drug(drug: str, folds: DrugFolds, *, config: Config) -> HeldOutShap:
    X_full, names = folds.X, folds.names
    y = folds.episodes["responded"].to_numpy()
    fold_of = folds.episodes["fold"].to_numpy()
    members = feature_groups(X_full, names)
    labels = list(members)
    full_column = {n: i for i, n in enumerate(names)}
    carries = np.column_stack(
        [
            (X_full[:, [full_column[m] for m in ms]] == 1).any(axis=1)
            for ms in members.values()
        ]
    )
    abs_sum = np.full((len(labels), len(folds.folded)), np.nan)
    n_held = np.zeros(len(folds.folded))
    carrier_sum = np.zeros(len(labels))
    for fold, (_, columns) in enumerate(folds.folded):
        fitted = folds.fit_fold(fold, config=config)
        if fitted is None:
            logger.info("%s: fold %d has nothing to learn from or score", drug, fold)
            continue
        held, booster, held_X = fitted
        contributions = booster.predict(held_X, pred_contribs=True)[:, :-1]
        grouped = contributions @ group_membership(columns, members)
        abs_sum[:, fold] = np.abs(grouped).sum(axis=0)
        n_held[fold] = held.sum()
        carrier_sum += (grouped * carries[held]).sum(axis=0)
    scored = np.isin(fold_of, np.flatnonzero(n_held))
    n_carriers = carries[scored].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        carrier_mean = np.where(n_carriers > 0, carrier_sum / n_carriers, np.nan)
    index = pd.Index(labels, name="feature")
    groups = pd.DataFrame(
        {
            "mean_abs_shap": np.nansum(abs_sum, axis=1) / max(n_held.sum(), 1),
            "carrier_shap": carrier_mean,
            "n_carriers": n_carriers,
            "response_difference": _rate_difference(carries, y),
        },
        index=index,
    ).sort_values("mean_abs_shap", ascending=False, kind="mergesort")
    fold_mean_abs = pd.DataFrame(
        abs_sum / np.where(n_held > 0, n_held, np.nan), index=index
    )
    return HeldOutShap(
        drug=drug, groups=groups, fold_mean_abs=fold_mean_abs.loc[groups.index],
        members=members, flagged_by=_flagged_by(carries, members),
    )  # fmt: skip


def _flagged_by(
    carries: np.ndarray, members: dict[str, tuple[str, ...]], *, cover: float = 0.9
) -> dict[str, tuple[str, ...]]:
    labels = list(members)
    flags = [
        i
        for i, ms in enumerate(members.values())
        if set(ms) & set(MATCH_FEATURE_NAMES) and not set(ms) - set(MATCH_FEATURE_NAMES)
    ]
    n_carriers = carries.sum(axis=0)[:, None]
    both = carries.T.astype(np.int64) @ carries[:, flags].astype(np.int64)
    covered = (n_carriers > 0) & (both >= cover * n_carriers)
    covered[flags, np.arange(len(flags))] = False  # a flag does not encode itself
    return {
        labels[g]: tuple(labels[flags[j]] for j in np.flatnonzero(row))
        for g, row in enumerate(covered)
        if row.any()
    }


def _rate_difference(carries: np.ndarray, y: np.ndarray) -> np.ndarray:
    n_carrying = carries.sum(axis=0)
    n_not = len(y) - n_carrying
    with np.errstate(invalid="ignore", divide="ignore"):
        carrying = (carries * y[:, None]).sum(axis=0) / n_carrying
        not_carrying = ((~carries) * y[:, None]).sum(axis=0) / n_not
    return np.where((n_carrying > 0) & (n_not > 0), carrying - not_carrying, np.nan)


def group_membership(
    columns: dict[str, int], members: dict[str, tuple[str, ...]]
) -> np.ndarray:
    # (fold columns x groups) 0/1 matrix; a fold's vocabulary is a subset of the
    # full one (its training profiles are a subset), so every column has a group.
    out = np.zeros((len(columns), len(members)))
    for group, names in enumerate(members.values()):
        for name in names:
            if name in columns:
                out[columns[name], group] = 1.0
    return out


def shap_ranking(result: HeldOutShap, *, top_k: int) -> pd.DataFrame:
    """The drug's global held-out ranking, with per-fold ranks and top-k frequency.

    One row per feature group, largest mean |SHAP| first: the columns of
    ``result.groups`` plus ``rank`` (1 = largest; NaN for groups no model used),
    ``top_k_share`` (share of fitted folds where the group is in that fold's top-k)
    and ``rank_fold_<k>``.
    """
    fold_ranks = result.fold_mean_abs.dropna(axis=1, how="all").apply(_ranks)
    table = result.groups.assign(
        rank=_ranks(result.groups["mean_abs_shap"]),
        top_k_share=(fold_ranks <= top_k).mean(axis=1),
    )
    return table.join(fold_ranks.add_prefix("rank_fold_")).reset_index()


def ranking_stability(result: HeldOutShap, *, top_k: int) -> dict[str, float]:
    """How much the folds agree on the drug's ranking.

    Mean over pairs of scored folds of the Spearman and Kendall correlations of
    mean |SHAP| (over groups any fold's model used; unused groups would only add
    ties) and of the Jaccard overlap of their top-k sets.
    """
    importance = result.fold_mean_abs.dropna(axis=1, how="all")
    importance = importance[(importance > 0).any(axis=1)]
    pairs = list(combinations(importance.columns, 2))
    if not pairs or len(importance) < 3:
        nan = float("nan")
        return {"spearman": nan, "kendall": nan, "jaccard_top_k": nan, "n_folds": 0}
    top = {f: set(importance[f].nlargest(top_k).index) for f in importance.columns}
    return {
        "spearman": float(
            np.mean(
                [spearmanr(importance[a], importance[b]).statistic for a, b in pairs]
            )
        ),
        "kendall": float(
            np.mean(
                [kendalltau(importance[a], importance[b]).statistic for a, b in pairs]
            )
        ),
        "jaccard_top_k": float(
            np.mean([len(top[a] & top[b]) / len(top[a] | top[b]) for a, b in pairs])
        ),
        "n_folds": len(importance.columns),
    }
