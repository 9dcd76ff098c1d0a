"""Cross-validation of per-drug and pooled models on shared folds, and the one
decision it feeds: which model kind serves each drug."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from features import DrugKnowledge
from models import CvMetrics, ServedBy, logit
from training.config import Config, PooledConfig, TrainingConfig, XGBoostConfig
from training.data import Cohort
from training.fitting._biomarker import biomarker_scores, cross_validate_biomarker
from training.fitting._boosters import (
    Episodes,
    cross_validate,
    fold_matrices,
    trainable_drugs,
)
from training.fitting._folds import assign_folds, score_out_of_fold
from training.fitting._plan import FitPlan
from training.fitting._pooled import cross_validate_pooled, pair_block
from training.fitting._rates import episode_rates


def pooled_wanted(
    treatments: pd.DataFrame, *, pooled: PooledConfig, min_samples: int
) -> bool:
    """Whether to train the pooled model (``auto``: most drugs have little data)."""
    if pooled.enabled != "auto":
        return pooled.enabled == "always"
    return bool(treatments.groupby("drug").size().median() < min_samples)


# The out-of-fold column of each model kind, simplest first.
COLUMNS: dict[ServedBy, str] = {
    "rate": "rate",
    "biomarker": "biomarker",
    "per-drug": "per_drug",
    "pooled": "pooled",
}


def lowest_brier(briers: Mapping[ServedBy, float]) -> ServedBy:
    """The kind with the lowest Brier score, ties going to the simpler (the first
    in `COLUMNS` order)."""
    order = list(COLUMNS)
    return min(briers, key=lambda kind: (briers[kind], order.index(kind)))


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold probabilities of every model kind, one row per episode."""

    # sample_id, drug, responded, fold (-1: never held out), and per kind its
    # probability (NaN: not fitted): rate (the drug's shrunk rate in the tumour
    # type, which the boosters start from), biomarker (its known biomarker
    # alone), per_drug, pooled
    oof: pd.DataFrame
    cv_rate: dict[str, CvMetrics]
    cv_per_drug: dict[str, CvMetrics]
    cv_pooled: dict[str, CvMetrics]
    cv_biomarker: dict[str, CvMetrics] = field(default_factory=dict)

    @property
    def by_kind(self) -> dict[ServedBy, dict[str, CvMetrics]]:
        """Per model kind, the metrics of each drug it scored."""
        return {
            "rate": self.cv_rate, "biomarker": self.cv_biomarker,
            "per-drug": self.cv_per_drug, "pooled": self.cv_pooled,
        }  # fmt: skip

    def scores(self, drug: str) -> dict[ServedBy, CvMetrics]:
        """The drug's metrics per model kind that scored it."""
        return {kind: m[drug] for kind, m in self.by_kind.items() if drug in m}

    @cached_property
    def served(self) -> dict[str, ServedBy]:
        """Per drug, the model kind that serves it: the lowest cross-validated
        Brier score (a proper score, defined even where a drug's held-out episodes
        are all one outcome), ties going to the simpler kind. ``rate`` serves a
        drug whose boosters did not beat its tumour-type rate: no genomic signal
        was learned for it; ``biomarker`` one whose boosters did not beat its
        known biomarker alone."""
        return {
            drug: lowest_brier({k: m.brier for k, m in self.scores(drug).items()})
            for drug in sorted(set().union(*self.by_kind.values()))
        }

    def held_out_predictions(self) -> pd.Series:
        """Each held-out episode's out-of-fold probability from the model kind
        chosen for its drug without its fold: the lowest Brier score (as
        :attr:`served`) on the other folds' held-out episodes, so the choice never
        sees the outcomes it is judged on. (Those episodes' predictions come from
        models that trained on this fold: the choice is cross-fitted, not fully
        nested.) With one held-out fold only (a temporal hold-out) there is no
        other fold, and the choice is :attr:`served`, made on that fold itself.
        NaN where never scored."""
        held_out = self.oof[self.oof["fold"] >= 0]
        folds = held_out["fold"].unique()
        if len(folds) < 2:
            return self.predictions()
        out = pd.Series(np.nan, index=self.oof.index)
        for fold in folds:
            mine = self.oof["fold"].eq(fold)
            chosen = _lowest_brier_per_drug(held_out[held_out["fold"] != fold])
            out[mine] = self.predictions(chosen)[mine]
        return out

    def predictions(self, served: Mapping[str, str] | None = None) -> pd.Series:
        """Each episode's out-of-fold probability from the model kind serving its
        drug (``served``, by default :attr:`served`); NaN where never scored."""
        kind = self.oof["drug"].map(self.served if served is None else served)
        out = pd.Series(np.nan, index=self.oof.index)
        for name, column in COLUMNS.items():
            if column in self.oof:
                out = out.where(kind.ne(name), self.oof[column])
        return out


def _lowest_brier_per_drug(oof: pd.DataFrame) -> dict[str, ServedBy]:
    # Per drug, :func:`lowest_brier` among the kinds that scored its episodes.
    chosen = {}
    for drug, group in oof.groupby("drug"):
        y = group["responded"].to_numpy()
        briers = {
            kind: float(np.mean((y[scored] - p[scored]) ** 2))
            for kind, column in COLUMNS.items()
            if column in group
            and (scored := ~np.isnan(p := group[column].to_numpy(float))).any()
        }
        if briers:
            chosen[str(drug)] = lowest_brier(briers)
    return chosen


def cross_validate_cohort(
    cohort: Cohort, *, plan: FitPlan, folds: pd.Series | None = None
) -> CrossValidation:
    """Cross-validation of the rate, biomarker, per-drug and pooled models on the
    same folds.

    ``folds`` maps each sample id to the fold (0, 1, ...) in which it is held out,
    or -1 for samples that are only ever trained on (e.g. before a temporal cut);
    by default, grouped stratified k-fold from the config. In each fold the
    vectorizer and every drug's tumour-type rates (the boosters' offset) are
    fitted on the training episodes only; ``plan.trainer`` fits each booster.
    """
    config, knowledge, trainer = plan.config, plan.knowledge, plan.trainer
    settings = config.training
    treatments = cohort.treatments[cohort.treatments["drug"].isin(plan.drugs)]
    treatments = treatments.reset_index(drop=True)
    if folds is None:
        folds = assign_folds(treatments, n_splits=settings.cv_folds, seed=settings.seed)
    # Profiles without episodes (fold -1) are never held out.
    ids = [p.sample_id for p in cohort.profiles]
    fold_of = folds.reindex(ids).fillna(-1).to_numpy().astype(int)
    n_folds = int(fold_of.max()) + 1
    matrices = fold_matrices(
        list(cohort.profiles), fold_of, n_folds=n_folds,
        min_count=config.features.min_count,
    )  # fmt: skip
    episodes = episodes_of(cohort, treatments, fold_of=fold_of, knowledge=knowledge)
    types = cohort.tumour_type[treatments["sample_id"]].to_numpy()
    oof = treatments[["sample_id", "drug", "responded"]].assign(fold=episodes.fold)
    oof["rate"] = np.nan
    margins = []
    for k in range(n_folds):
        _, rate = episode_rates(
            episodes.drug, types, episodes.y, fit=episodes.fold != k
        )
        oof.loc[episodes.fold == k, "rate"] = rate[episodes.fold == k]
        margins.append(logit(rate))
    scores = biomarker_scores(
        cohort.profiles, episodes.rows, episodes.drug, knowledge=knowledge
    )
    oof["biomarker"] = cross_validate_biomarker(
        episodes.drug, scores, episodes.y, episodes.fold
    )
    own = trainable_drugs(treatments, settings=settings)
    oof["per_drug"] = cross_validate(
        matrices, episodes, own, margins=margins, settings=settings,
        params=config.xgboost, trainer=trainer,
    )  # fmt: skip
    oof["pooled"] = np.nan
    # Drugs too small for a model of their own (select_drugs keeps them when the
    # whole cohort wants pooling) can only be served pooled.
    if len(own) < treatments["drug"].nunique() or pooled_wanted(
        treatments, pooled=config.pooled, min_samples=settings.min_samples
    ):
        oof["pooled"] = cross_validate_pooled(
            matrices, episodes, block=pooled_block(cohort, treatments, knowledge),
            margins=margins, settings=settings, params=pooled_params(config),
            trainer=trainer,
        )  # fmt: skip
    return CrossValidation(
        oof=oof,
        **{
            f"cv_{column}": _metrics(oof, column, settings=settings)
            for column in COLUMNS.values()
        },
    )


def episodes_of(
    cohort: Cohort,
    treatments: pd.DataFrame,
    *,
    fold_of: np.ndarray,
    knowledge: DrugKnowledge,
) -> Episodes:
    """The treatments as :class:`Episodes` (``fold_of``: each profile's fold)."""
    rows = cohort.rows(treatments["sample_id"])
    drugs = treatments["drug"].tolist()
    return Episodes(
        rows=rows,
        y=treatments["responded"].to_numpy(),
        fold=fold_of[rows],
        flags=pair_block(
            list(cohort.profiles), rows, drugs, vocabulary=(), knowledge=knowledge
        ),
        drug=np.asarray(drugs, dtype=object),
    )


def pooled_block(
    cohort: Cohort, treatments: pd.DataFrame, knowledge: DrugKnowledge
) -> np.ndarray:
    """The pooled model's drug identity and target-match columns per episode."""
    return pair_block(
        list(cohort.profiles), cohort.rows(treatments["sample_id"]),
        treatments["drug"].tolist(), vocabulary=sorted(treatments["drug"].unique()),
        knowledge=knowledge,
    )  # fmt: skip


def _metrics(
    oof: pd.DataFrame, column: str, *, settings: TrainingConfig
) -> dict[str, CvMetrics]:
    scored = oof.dropna(subset=[column])
    return {
        str(drug): score_out_of_fold(
            group["responded"].to_numpy(),
            group[column].to_numpy(),
            n_bootstrap=settings.n_bootstrap,
            seed=settings.seed,
        )
        for drug, group in scored.groupby("drug")
    }


def pooled_params(config: Config) -> XGBoostConfig:
    # One booster, so it may use every worker thread the drugs would have used.
    return config.xgboost.model_copy(update={"nthread": config.training.n_jobs})
