"""``rediscover explain``: per drug, held-out SHAP values, interactions, subgroups.

Each drug's own booster is cross-validated on grouped folds exactly as in training
(vectorizer and booster fitted on the training folds, same parameters and seed,
so the held-out probabilities are :func:`training.fitting.cross_validate_cohort`'s), and
every held-out episode is explained with TreeSHAP. Columns identical on the drug's
episodes are one feature group, as in
:func:`training.evaluation._held_out_shap.feature_groups`. Interactions are
XGBoost's SHAP interaction values of a booster fitted on all the drug's episodes,
restricted to its top binary biomarkers and its common tumour types and lineages
(each column costs XGBoost one more TreeSHAP pass). Subgroup rules are found on
the held-out probabilities (:func:`training.fitting.discover_subgroups`; rates
in-sample), then judged by a nested search and a placebo (:mod:`._findings`).

Everything here stays in memory with its sample ids; :mod:`._writing` writes the
aggregates and figures only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.special import expit
from shap import Explanation
from tqdm.auto import tqdm

from features import DrugKnowledge
from models import logit
from training.config import Config
from training.data import Cohort
from training.evaluation import (
    DrugFolds,
    feature_groups,
    fold_design,
    group_membership,
    score_episodes,
)
from training.explanation._findings import (
    PLACEBO_PERMUTATIONS,
    CheckedRule,
    Placebo,
    TopRuleCheck,
    check_rules,
    check_top_rule,
    run_placebo,
)
from training.explanation._nested import (
    key_by_group,
    nested_search,
    pool_held_out,
    pool_top_rules,
)
from training.fitting import (
    MIN_SELECTED,
    LabelledRows,
    binary_columns,
    carrier_frame,
    discover_subgroups,
    fit_booster,
    rule_carriers,
)

logger = logging.getLogger(__name__)

TOP_FEATURES = 10  # offered as one-feature rules; the first 3 get dependence plots
MAX_MARKERS = 12  # biomarkers in the interaction model
MAX_CONTEXTS = 12  # tumour types and lineages in the interaction model
CONTEXT_PREFIXES = ("tumour type: ", "lineage: ")


@dataclass(frozen=True)
class Interaction:
    """SHAP interaction values of the drug's top biomarkers and contexts.

    ``groups`` names the columns of ``values`` (episodes x groups x groups, the
    pair's share counted on both sides) and ``strength`` (groups x groups, mean
    |value| of each pair, both halves summed); ``pair`` is the strongest
    biomarker x tumour type (or lineage) pair, None when no pair interacts.
    """

    groups: list[str]
    values: np.ndarray
    strength: np.ndarray
    pair: tuple[str, str] | None

    def partner(self, group: str) -> str | None:
        """The group interacting most with ``group`` (None if it is not here)."""
        if group not in self.groups:
            return None
        row = self.strength[self.groups.index(group)].copy()
        row[self.groups.index(group)] = -1.0
        best = int(np.argmax(row))
        return self.groups[best] if row[best] > 0 else None


@dataclass(frozen=True)
class DrugReport:
    """One drug's held-out explanation (in memory: ``episodes`` holds sample ids).

    ``episodes`` has one row per episode (``sample_id``, ``responded``, ``fold``,
    ``probability``: held out, NaN when never scored); ``shap`` and ``values``
    (episodes x groups) hold each group's held-out SHAP value (NaN: unscored)
    and its first member's feature value, ``base`` each episode's base value
    (the margin before any feature: the tumour-type offset plus the booster's
    bias); ``importance`` is mean |SHAP| per group over scored episodes, largest
    first, groups no model used left out. ``subgroups`` are the rules with their
    held-out and placebo rates, ``top_rule`` each fold's top rule held out,
    ``placebo`` the permutations' figures (:mod:`._findings`).
    """

    drug: str
    episodes: pd.DataFrame
    members: dict[str, tuple[str, ...]]
    shap: np.ndarray
    values: np.ndarray
    base: np.ndarray
    importance: pd.Series
    subgroups: tuple[CheckedRule, ...]
    top_rule: TopRuleCheck
    placebo: Placebo
    interaction: Interaction | None
    evaluation: dict[str, Any] | None

    @property
    def scored(self) -> np.ndarray:
        """Which episodes have a held-out prediction."""
        return self.episodes["probability"].notna().to_numpy()

    def column(self, group: str) -> int:
        """The column of ``shap`` and ``values`` holding a group."""
        return list(self.members).index(group)

    def explanation(self) -> Explanation:
        """The scored episodes' held-out SHAP values as a ``shap.Explanation``
        (log-odds; one feature per group, its first member's value as data), for
        ``shap.plots``: values plus base values add up to each held-out margin."""
        scored = self.scored
        return Explanation(
            values=self.shap[scored], base_values=self.base[scored],
            data=self.values[scored], feature_names=list(self.members),
        )  # fmt: skip


def explain_drugs(
    cohort: Cohort,
    *,
    config: Config,
    drugs: Sequence[str],
    knowledge: DrugKnowledge,
    folds: pd.Series | None = None,
    permutations: int = PLACEBO_PERMUTATIONS,
) -> list[DrugReport]:
    """Held-out explanation of each drug's own model (see the module docstring).

    ``folds`` maps sample id -> held-out fold (-1: train only); by default
    grouped stratified k-fold over the drugs' episodes, as in training.
    ``permutations``: placebo runs of the nested subgroup search per drug.
    """
    design = fold_design(
        cohort, config=config, drugs=drugs, knowledge=knowledge, folds=folds
    )

    def explain(drug: str) -> DrugReport:
        return explain_drug(
            design.drug(drug), drug=drug, config=config, permutations=permutations
        )

    with ThreadPoolExecutor(max_workers=config.training.n_jobs) as pool:
        return list(
            tqdm(
                pool.map(explain, drugs), total=len(drugs), desc="explain", unit="drug"
            )
        )


def explain_drug(
    folds: DrugFolds,
    *,
    drug: str,
    config: Config,
    permutations: int = PLACEBO_PERMUTATIONS,
) -> DrugReport:
    """One drug's report from its episodes and matrices (:class:`DrugFolds`)."""
    episodes, X, names = folds.episodes, folds.X, folds.names
    y = episodes["responded"].to_numpy()
    members = feature_groups(X, names)
    shap, base, probability = _held_out(folds, members=members, config=config)
    episodes = episodes.assign(probability=probability)
    scored = ~np.isnan(probability)
    importance = pd.Series(
        np.abs(shap[scored]).mean(axis=0) if scored.any() else 0.0, index=list(members)
    ).sort_values(ascending=False, kind="stable")
    importance = importance[importance > 0]
    column = {n: i for i, n in enumerate(names)}
    values = X[:, [column[m[0]] for m in members.values()]]
    ranked = [members[g][0] for g in importance.index]
    rules = discover_subgroups(
        rule_carriers(carrier_frame(X, names), ranked), y, probability,
        features=ranked[:TOP_FEATURES], seed=config.training.seed,
    )  # fmt: skip
    key = key_by_group(members)
    searches = nested_search(folds, y, config=config)
    placebo = run_placebo(folds, y, config=config, key=key, permutations=permutations)
    return DrugReport(
        drug=drug, episodes=episodes, members=members, shap=shap, values=values,
        base=base, importance=importance,
        subgroups=check_rules(
            rules, pool_held_out(searches, y, key=key), key=key,
            placebo=placebo.best_lift,
        ),
        top_rule=check_top_rule(pool_top_rules(searches, y), placebo),
        placebo=placebo,
        interaction=_interactions(X, y, importance, members, names, config=config),
        evaluation=_evaluation(episodes[scored], config=config),
    )  # fmt: skip


def _held_out(
    folds: DrugFolds, *, members: dict[str, tuple[str, ...]], config: Config
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(folds.episodes)
    shap = np.full((n, len(members)), np.nan)
    base, probability = np.full(n, np.nan), np.full(n, np.nan)
    for fold, (_, columns) in enumerate(folds.folded):
        fitted = folds.fit_fold(fold, config=config)
        if fitted is None:  # as in cross-validation
            continue
        held, booster, matrix = fitted
        contributions = booster.predict(matrix, pred_contribs=True)
        shap[held] = contributions[:, :-1] @ group_membership(columns, members)
        base[held] = contributions[:, -1]
        probability[held] = expit(contributions.sum(axis=1))
    return shap, base, probability


def _interactions(
    X: np.ndarray,
    y: np.ndarray,
    importance: pd.Series,
    members: dict[str, tuple[str, ...]],
    names: list[str],
    *,
    config: Config,
) -> Interaction | None:
    column = {n: i for i, n in enumerate(names)}
    binary = binary_columns(X)
    first = {g: column[m[0]] for g, m in members.items()}
    markers = [
        g for g in importance.index
        if not _is_context(members[g]) and binary[first[g]]
    ][:MAX_MARKERS]  # fmt: skip
    carried = {g: int((X[:, first[g]] == 1).sum()) for g in members}
    contexts = sorted(
        (g for g in members if _is_context(members[g])
         and MIN_SELECTED <= carried[g] <= len(y) - MIN_SELECTED),
        key=lambda g: -carried[g],
    )[:MAX_CONTEXTS]  # fmt: skip
    if not markers or not contexts:
        return None
    groups = markers + contexts
    design = X[:, [first[g] for g in groups]]
    # A descriptive model of marker x context: tumour types are features here, so
    # it starts from the drug's overall rate, not from the tumour-type offset.
    rows = LabelledRows(design, y, np.full(len(y), logit(y.mean())))
    booster = fit_booster(rows, params=config.xgboost, seed=config.training.seed)
    values = booster.predict(
        xgb.DMatrix(design, missing=np.nan), pred_interactions=True
    )[:, :-1, :-1]
    strength = 2 * np.abs(values).mean(axis=0)
    cross = strength[: len(markers), len(markers) :]
    i, j = np.unravel_index(int(np.argmax(cross)), cross.shape)
    pair = (markers[i], contexts[j]) if cross[i, j] > 0 else None
    return Interaction(groups=groups, values=values, strength=strength, pair=pair)


def _is_context(members: Sequence[str]) -> bool:
    return any(m.startswith(CONTEXT_PREFIXES) for m in members)


def _evaluation(scored: pd.DataFrame, *, config: Config) -> dict[str, Any] | None:
    y = scored["responded"]
    if not 0 < y.sum() < len(y):
        return None
    return score_episodes(
        scored.rename(columns={"probability": "model"}), ["model"],
        decisions=frozenset(), n_bootstrap=config.training.n_bootstrap,
        seed=config.training.seed, curves=True,
    )  # fmt: skip
