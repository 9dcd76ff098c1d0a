"""Subgroup rules searched without the fold they are scored on (nested).

For each outer fold k, on the training folds only (every episode not in k):
fold k's vectorizer (fitted without k's profiles, :class:`DrugFolds`), inner
out-of-fold predictions (one booster per other outer fold, its tumour-type
offset fitted on its own training rows), the feature ranking by mean |SHAP| of a
booster fitted on the training folds, and carrier columns counted on the
training rows; :func:`training.fitting.discover_subgroups` searches there and
every rule it finds is counted on fold k. Fold k's outcomes enter nothing but
that count, so pooled over the folds the held-out rate is an honest estimate of
what the search's rules select.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import Condition, SubgroupRule
from training.config import Config
from training.evaluation import DrugFolds, feature_groups, group_membership
from training.fitting import (
    MIN_SELECTED,
    TOP_FEATURES,
    carrier_frame,
    discover_subgroups,
    rule_carriers,
)
from training.fitting._subgroups import select

MIN_HELD_OUT = MIN_SELECTED  # fewest held-out episodes in and out for a lift

RuleKey = frozenset[tuple[str, bool]]
KeyOf = Callable[[Sequence[Condition]], RuleKey]


@dataclass(frozen=True)
class FoldRules:
    """The rules the search found on one outer fold's training episodes.

    ``held`` marks the fold's episodes; ``selected`` (rules x episodes) which
    episodes each rule selects, read from the fold's own carrier columns;
    ``ranked`` the features by mean |SHAP| on the training folds.
    """

    fold: int
    held: np.ndarray
    rules: tuple[SubgroupRule, ...]
    selected: np.ndarray
    ranked: tuple[str, ...]


@dataclass(frozen=True)
class HeldOutCounts:
    """A rule's episodes in the held-out folds where the search found it."""

    folds: int = 0
    n: int = 0
    events: int = 0
    n_outside: int = 0
    events_outside: int = 0

    def __add__(self, other: HeldOutCounts) -> HeldOutCounts:
        return HeldOutCounts(
            self.folds + other.folds, self.n + other.n, self.events + other.events,
            self.n_outside + other.n_outside,
            self.events_outside + other.events_outside,
        )  # fmt: skip

    def lift(self) -> float | None:
        """Held-out rate inside minus outside (None under `MIN_HELD_OUT` either
        side: a rate of a handful of episodes says nothing)."""
        if min(self.n, self.n_outside) < MIN_HELD_OUT:
            return None
        return self.events / self.n - self.events_outside / self.n_outside


def nested_search(
    folds: DrugFolds, responded: np.ndarray, *, config: Config
) -> list[FoldRules]:
    """Per outer fold, the rules found on its training folds (module docstring);
    ``responded`` may be permuted (a placebo) in place of the episodes' outcomes."""
    fold_of = folds.episodes["fold"].to_numpy()
    searches = []
    for fold in sorted(int(f) for f in np.unique(fold_of) if f >= 0):
        held = fold_of == fold
        if len(np.unique(responded[~held])) < 2:
            continue
        searches.append(_search_fold(folds, responded, fold, held, config=config))
    return searches


def _search_fold(
    folds: DrugFolds,
    y: np.ndarray,
    fold: int,
    held: np.ndarray,
    *,
    config: Config,
) -> FoldRules:
    X, columns = folds.folded[fold]
    names = sorted(columns, key=columns.__getitem__)
    train = ~held
    ranked = _ranking(folds, y, X, columns, train, config=config)
    carriers = rule_carriers(carrier_frame(X[train], names), ranked)
    predicted = _inner_predictions(folds, y, X, train, config=config)
    rules = discover_subgroups(
        carriers, y[train], predicted[train], features=ranked[:TOP_FEATURES],
        seed=config.training.seed,
    )  # fmt: skip
    every = _carried(X, names, carriers.columns)
    selected = np.array([select(every, r.conditions) for r in rules])
    return FoldRules(
        fold=fold, held=held, rules=tuple(rules), selected=selected,
        ranked=tuple(ranked),
    )  # fmt: skip


def _inner_predictions(
    folds: DrugFolds, y: np.ndarray, X: np.ndarray, train: np.ndarray, *, config: Config
) -> np.ndarray:
    # Out-of-fold over the training folds, each other outer fold an inner fold.
    fold_of = folds.episodes["fold"].to_numpy()
    predicted = np.full(len(y), np.nan)
    for inner in np.unique(fold_of[train & (fold_of >= 0)]):
        scored = fold_of == inner
        fit_rows = train & ~scored
        if len(np.unique(y[fit_rows])) < 2:
            continue
        booster, labelled = folds.fit_rows(y, X, fit_rows, config=config)
        predicted[scored] = booster.predict(labelled.take(scored).matrix())
    return predicted


def _ranking(
    folds: DrugFolds,
    y: np.ndarray,
    X: np.ndarray,
    columns: dict[str, int],
    train: np.ndarray,
    *,
    config: Config,
) -> list[str]:
    # Feature groups by mean |SHAP| on the training rows, largest first; each
    # group named by its first member (columns identical on those rows are one).
    booster, labelled = folds.fit_rows(y, X, train, config=config)
    contributions = booster.predict(labelled.take(train).matrix(), pred_contribs=True)[
        :, :-1
    ]
    names = sorted(columns, key=columns.__getitem__)
    members = feature_groups(X[train], names)
    strength = np.abs(contributions @ group_membership(columns, members)).mean(axis=0)
    order = np.argsort(-strength, kind="stable")
    groups = list(members.values())
    return [groups[i][0] for i in order if strength[i] > 0]


def _carried(X: np.ndarray, names: Sequence[str], wanted: pd.Index) -> pd.DataFrame:
    # The carrier columns chosen on the training rows, on every row: a binary
    # column's 1s, or a numeric one at its cut-off (``tmb mut per mb >= 10``).
    column = {n: i for i, n in enumerate(names)}
    carried = {}
    for name in wanted:
        feature, _, cut = str(name).partition(" >= ")
        values = X[:, column[feature]]
        with np.errstate(invalid="ignore"):  # NaN compares False
            carried[name] = values >= float(cut) if cut else values == 1
    return pd.DataFrame(carried, index=range(len(X)), columns=wanted, dtype=bool)


def pool_held_out(
    searches: Sequence[FoldRules], responded: np.ndarray, *, key: KeyOf
) -> dict[RuleKey, HeldOutCounts]:
    """Per rule (by ``key``), its held-out counts pooled over the folds where
    the search found it."""
    pooled: dict[RuleKey, HeldOutCounts] = {}
    for search in searches:
        seen: set[RuleKey] = set()
        for rule, selected in zip(search.rules, search.selected, strict=True):
            rule_key = key(rule.conditions)
            if rule_key in seen:
                continue
            seen.add(rule_key)
            counts = _count(search.held, selected, responded)
            pooled[rule_key] = pooled.get(rule_key, HeldOutCounts()) + counts
    return pooled


def pool_top_rules(
    searches: Sequence[FoldRules], responded: np.ndarray
) -> HeldOutCounts:
    """Each fold's top rule (the search's first) counted on its fold, whichever
    rule that is: what the search's pick does held out, with no need for the
    folds to agree on one rule."""
    pooled = HeldOutCounts()
    for search in searches:
        if search.rules:
            pooled += _count(search.held, search.selected[0], responded)
    return pooled


def _count(
    held: np.ndarray, selected: np.ndarray, responded: np.ndarray
) -> HeldOutCounts:
    inside, outside = held & selected, held & ~selected
    return HeldOutCounts(
        1, int(inside.sum()), int(responded[inside].sum()),
        int(outside.sum()), int(responded[outside].sum()),
    )  # fmt: skip


def key_by_group(members: dict[str, tuple[str, ...]]) -> KeyOf:
    """Rules as sets of (feature group, present): a fold may name a group by
    another of its identical columns (``fusion BCR`` for ``fusion ABL1``)."""
    group_of = {m: g for g, ms in members.items() for m in ms}

    def key(conditions: Sequence[Condition]) -> RuleKey:
        return frozenset(
            (group_of.get(c.feature, c.feature), c.present) for c in conditions
        )

    return key
