"""Responder subgroups: short rules over binary features, judged on outcomes.

Candidate rules come from a shallow regression tree fitted to a drug's
cross-validated (out-of-fold) predicted probabilities, so a rule describes what
the model learned rather than the noise of one fold: every node of the tree is a
conjunction such as ``hotspot BRAF V600 and not tumour type: colorectal``. The
tree's split features, and any features the caller names (e.g. the model's top
SHAP features), also give one-feature rules ("X", "not X"). Each rule is then
judged on the observed outcomes: episodes selected, responders, the response
rate with its 95% Wilson interval, and the rate outside it. Rules selecting the
same episodes are one rule (the shortest is kept); the best are the enriched
ones (rate above the drug's) with the highest lower bound.

No count under `MIN_CELL` (5) is published: a rule is kept only if the episodes
it selects, and those it leaves out, each hold at least `MIN_CELL` responders and
`MIN_CELL` non-responders (the drug's totals are published, so a small count
outside would follow from the counts inside: such rules are dropped rather than
their ``rate_outside`` blanked). Held out, ``n_held_out`` is stored only from
`MIN_CELL` episodes, and ``rate_held_out`` only when they hold at least
`MIN_CELL` responders and `MIN_CELL` non-responders.

Found and judged on the same episodes, the rates are optimistic (selection
bias). Given the folds, each rule is also checked out of sample: in fold k, the
search is run on the other folds only; when it finds the same rule there, the
rule's selection in fold k counts towards ``n_held_out`` and ``rate_held_out``.
(The out-of-fold predictions of the other folds come from models that saw fold
k's outcomes, so this is cross-fitting, not a fully nested split; ``rediscover
explain`` runs the nested search, :mod:`training.explanation._nested`.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeRegressor

from models import MIN_CELL, Condition, SubgroupRule, wilson_interval

MIN_SELECTED = 10  # fewest episodes a rule (and a tree leaf) may select
MAX_RULES = 5
MAX_DEPTH = 3
MIN_VARIANCE_SHARE = 0.01  # of the predictions' variance a tree split must explain
RULE_FEATURES = 30  # a drug's most important features that rules may use

Conditions = tuple[Condition, ...]
Search = Callable[[np.ndarray], list[SubgroupRule]]  # episode mask -> best rules


@dataclass(frozen=True)
class _Carriers:
    # The carriers frame as a boolean matrix: a rule's selection is a few column
    # lookups, not pandas indexing (the search judges hundreds of rules a drug).
    matrix: np.ndarray
    column: dict[str, int]

    @classmethod
    def of(cls, carriers: pd.DataFrame | _Carriers) -> _Carriers:
        if isinstance(carriers, _Carriers):
            return carriers
        names = [str(c) for c in carriers.columns]
        return cls(carriers.to_numpy(dtype=bool), {n: i for i, n in enumerate(names)})

    def select(self, conditions: Conditions) -> np.ndarray:
        selected = np.ones(len(self.matrix), dtype=bool)
        for c in conditions:
            selected &= self.matrix[:, self.column[c.feature]] == c.present
        return selected

    def rows(self, rows: np.ndarray) -> _Carriers:
        return _Carriers(self.matrix[rows], self.column)


def describe(conditions: Conditions) -> str:
    """The readable rule: ``hotspot BRAF V600 and not tumour type: colorectal``."""
    return " and ".join(
        c.feature if c.present else f"not {c.feature}" for c in conditions
    )


def rule_carriers(
    carriers: pd.DataFrame, ranked: Sequence[str], *, k: int = RULE_FEATURES
) -> pd.DataFrame:
    """The columns of ``carriers`` among the ``k`` first of ``ranked`` features
    (most important first), with their cut-offs (``tmb mut per mb >= 10``).

    The predictions only vary with the features the model uses, so the tree
    needs no others; and a narrow tree is fast enough to refit per fold.
    """
    wanted = set(ranked[:k])
    return carriers.loc[
        :, [c for c in carriers.columns if str(c).split(" >= ")[0] in wanted]
    ]


def select(carriers: pd.DataFrame, conditions: Conditions) -> np.ndarray:
    """Which episodes (rows of the boolean ``carriers`` frame) a rule selects."""
    return _Carriers.of(carriers).select(conditions)


def _tree_rules(
    carriers: _Carriers,
    predicted: np.ndarray,
    *,
    max_depth: int,
    min_selected: int,
    seed: int,
) -> list[Conditions]:
    scored = np.isfinite(predicted)
    X = carriers.matrix[scored]
    # Only columns that can leave min_selected episodes on both sides can split.
    carried = X.sum(axis=0)
    usable = np.flatnonzero(
        (carried >= min_selected) & (len(X) - carried >= min_selected)
    )
    if not len(usable) or len(X) < 2 * min_selected:
        return []
    target = predicted[scored]
    tree = DecisionTreeRegressor(
        max_depth=max_depth,
        min_samples_leaf=min_selected,
        # A split must explain a share of the predictions' variance, or a
        # deep node only splits the predictions' noise.
        min_impurity_decrease=MIN_VARIANCE_SHARE * float(target.var()),
        random_state=seed,
    ).fit(X[:, usable].astype(np.float32), target)
    names = {i: n for n, i in carriers.column.items()}
    structure = tree.tree_
    rules: list[Conditions] = []
    stack: list[tuple[int, Conditions]] = [(0, ())]
    while stack:
        node, path = stack.pop()
        if path:
            rules.append(path)
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            continue
        feature = names[int(usable[structure.feature[node]])]
        # Binary columns split at 0.5: the left child holds the non-carriers.
        stack.append((right, (*path, Condition(feature=feature, present=True))))
        stack.append((left, (*path, Condition(feature=feature, present=False))))
    return rules


def candidate_rules(
    carriers: pd.DataFrame | _Carriers,
    predicted: np.ndarray,
    *,
    features: Sequence[str] = (),
    max_depth: int = MAX_DEPTH,
    min_selected: int = MIN_SELECTED,
    seed: int = 0,
) -> list[Conditions]:
    """Tree paths, then "X" and "not X" for the tree's features and ``features``."""
    carriers = _Carriers.of(carriers)
    paths = _tree_rules(
        carriers, predicted, max_depth=max_depth, min_selected=min_selected, seed=seed
    )
    used = {c.feature for path in paths for c in path}
    singles = dict.fromkeys([*sorted(used), *features])
    return paths + [
        (Condition(feature=f, present=present),)
        for f in singles
        if f in carriers.column
        for present in (True, False)
    ]


def _rules(
    conditions: Sequence[Conditions], selected: np.ndarray, responded: np.ndarray
) -> list[SubgroupRule]:
    # ``selected``: one row per rule, one column per episode.
    n = selected.sum(axis=1)
    events = (selected & (responded == 1)).sum(axis=1)
    n_out, events_out = selected.shape[1] - n, responded.sum() - events
    low, high = wilson_interval(events, n)
    return [
        SubgroupRule(
            rule=describe(c),
            conditions=c,
            n_selected=int(n[i]),
            responders_selected=int(events[i]),
            rate=float(events[i] / n[i]) if n[i] else 0.0,
            rate_ci=(float(low[i]), float(high[i])),
            n_outside=int(n_out[i]),
            rate_outside=float(events_out[i] / n_out[i]) if n_out[i] else None,
        )
        for i, c in enumerate(conditions)
    ]


def best_rules(
    carriers: pd.DataFrame | _Carriers,
    responded: np.ndarray,
    candidates: Sequence[Conditions],
    *,
    max_rules: int = MAX_RULES,
    min_selected: int = MIN_SELECTED,
) -> list[SubgroupRule]:
    """The enriched rules selecting enough episodes, highest lower bound first.

    A rule is kept only if inside and outside it there are at least `MIN_CELL`
    responders and `MIN_CELL` non-responders (no published count under 5).

    Of rules selecting the same episodes only the one with fewest conditions is
    kept; a rule adding conditions to a shorter kept rule must beat that rule's
    rate with its interval's lower bound; ties in the lower bound go to the
    shorter, then the larger rule.
    """
    carriers, responded = _Carriers.of(carriers), np.asarray(responded)
    distinct: dict[bytes, tuple[Conditions, np.ndarray]] = {}
    for candidate in sorted(candidates, key=len):
        mask = carriers.select(candidate)
        distinct.setdefault(mask.tobytes(), (candidate, mask))
    if not distinct:
        return []
    conditions = [c for c, _ in distinct.values()]
    selected = np.array([m for _, m in distinct.values()])
    n = selected.sum(axis=1)
    events = (selected & (responded == 1)).sum(axis=1)
    overall = responded.mean() if len(responded) else 0.0
    n_out, events_out = len(responded) - n, int(responded.sum()) - events
    enriched = (
        (n >= min_selected)
        & (events > overall * n)
        # No count under MIN_CELL: responders and non-responders, inside the
        # rule and outside it (the drug's totals are published).
        & (np.minimum(events, n - events) >= MIN_CELL)
        & (np.minimum(events_out, n_out - events_out) >= MIN_CELL)
    )
    keep = np.flatnonzero(enriched)
    kept = _rules([conditions[i] for i in keep], selected[keep], responded)
    kept = [r for r in kept if not _no_better_than_shorter(r, kept)]
    kept.sort(key=lambda r: (-r.rate_ci[0], len(r.conditions), -r.n_selected))
    return kept[:max_rules]


def _no_better_than_shorter(rule: SubgroupRule, rules: Sequence[SubgroupRule]) -> bool:
    # A rule adding conditions to a shorter kept rule must beat its rate with its
    # interval's lower bound; otherwise the shorter rule says the same.
    clauses = set(rule.conditions)
    return any(
        set(other.conditions) < clauses and rule.rate_ci[0] <= other.rate
        for other in rules
    )


def discover_subgroups(
    carriers: pd.DataFrame,
    responded: np.ndarray,
    predicted: np.ndarray,
    *,
    folds: np.ndarray | None = None,
    features: Sequence[str] = (),
    max_rules: int = MAX_RULES,
    min_selected: int = MIN_SELECTED,
    max_depth: int = MAX_DEPTH,
    seed: int = 0,
) -> tuple[SubgroupRule, ...]:
    """A drug's best candidate responder subgroups.

    Parameters
    ----------
    carriers
        One row per episode of the drug, one boolean column per binary feature
        (True: carries it).
    responded
        Observed outcome per episode (0/1).
    predicted
        Out-of-fold predicted probability per episode (NaN: not scored).
    folds
        Held-out fold per episode (-1: never held out); when given, each rule
        also gets ``folds_found``, ``n_held_out`` and ``rate_held_out``.
    features
        Features to offer as one-feature rules besides the tree's.
    """
    table, responded = _Carriers.of(carriers), np.asarray(responded)

    def search(rows: np.ndarray) -> list[SubgroupRule]:
        part = table.rows(rows)
        found = candidate_rules(
            part, predicted[rows], features=features, max_depth=max_depth,
            min_selected=min_selected, seed=seed,
        )  # fmt: skip
        return best_rules(
            part, responded[rows], found, max_rules=max_rules,
            min_selected=min_selected,
        )  # fmt: skip

    rules = search(np.ones(len(carriers), dtype=bool))
    if folds is None:
        return tuple(rules)
    return tuple(_held_out(rules, table, responded, folds, search))


def _held_out(
    rules: Sequence[SubgroupRule],
    carriers: _Carriers,
    responded: np.ndarray,
    folds: np.ndarray,
    search: Search,
) -> list[SubgroupRule]:
    found = {frozenset(r.conditions): [0, 0, 0] for r in rules}  # folds, n, events
    for fold in sorted(int(f) for f in np.unique(folds) if f >= 0):
        held = folds == fold
        for rule in search(~held):
            counts = found.get(frozenset(rule.conditions))
            if counts is None:
                continue
            selected = held & carriers.select(rule.conditions)
            counts[0] += 1
            counts[1] += int(selected.sum())
            counts[2] += int(responded[selected].sum())
    out = []
    for rule in rules:
        n_folds, n, events = found[frozenset(rule.conditions)]
        # No count under MIN_CELL: n from MIN_CELL episodes; the rate (which
        # with n gives the responders) only with MIN_CELL of each outcome.
        shown = min(events, n - events) >= MIN_CELL
        out.append(
            rule.model_copy(
                update={
                    "folds_found": n_folds,
                    "n_held_out": n if n >= MIN_CELL else None,
                    "rate_held_out": events / n if shown else None,
                }
            )
        )
    return out
