"""A drug's subgroup rules judged held out and against a placebo.

The rules are those the search finds on all the drug's episodes; their rates
are in-sample (found and judged on the same episodes: optimistic). Each rule
gets the held-out counts of the nested search (:mod:`._nested`) pooled over the
folds where it found the same rule: the held-out rate with its 95% Wilson
interval, and the held-out rate outside the rule. The placebo repeats the
nested search with the outcomes permuted within the drug
(``permutations`` times, seeded); a permutation's score is the largest held-out
lift (rate inside minus outside) of any rule it found. A rule's placebo rate is
the share of permutations scoring at least its own held-out lift; the rule is a
finding when its held-out rates are shown, its lift is positive and its placebo
rate is at most `MAX_PLACEBO_RATE` (of 5 permutations: none reached it).

Besides the rules, :func:`check_top_rule` judges the search itself: each fold's
top rule counted on its fold, whichever rule it is (no need for the folds to
agree), against the same figure on each permutation.

No count under `MIN_CELL`: the held-out n (inside, outside) only from `MIN_CELL`
episodes, a rate (and its interval and the lift) only with `MIN_CELL`
responders and `MIN_CELL` non-responders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models import MIN_CELL, SubgroupRule, wilson_interval
from training.config import Config
from training.evaluation import DrugFolds
from training.explanation._nested import (
    HeldOutCounts,
    KeyOf,
    RuleKey,
    nested_search,
    pool_held_out,
    pool_top_rules,
)

PLACEBO_PERMUTATIONS = 5
MAX_PLACEBO_RATE = 0.05


class HeldOutRate(BaseModel):
    """Held-out counts shown as rates (none under `MIN_CELL`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    folds: int = Field(ge=0, description="Outer folds counted.")
    n: int | None = Field(ge=0, description="Episodes selected (None under 5).")
    rate: float | None = Field(ge=0, le=1)
    rate_ci: tuple[float, float] | None = Field(description="95% Wilson interval.")
    n_outside: int | None = Field(ge=0)
    rate_outside: float | None = Field(ge=0, le=1)
    lift: float | None = Field(description="rate - rate_outside.")


def held_out_rate(counts: HeldOutCounts) -> HeldOutRate:
    """``counts`` as rates: n from `MIN_CELL` episodes, a rate (interval, lift)
    only with `MIN_CELL` responders and `MIN_CELL` non-responders."""
    inside = _shown(counts.events, counts.n)
    outside = _shown(counts.events_outside, counts.n_outside)
    low, high = wilson_interval(counts.events, counts.n)
    return HeldOutRate(
        folds=counts.folds,
        n=counts.n if counts.n >= MIN_CELL else None,
        rate=counts.events / counts.n if inside else None,
        rate_ci=(float(low), float(high)) if inside else None,
        n_outside=counts.n_outside if counts.n_outside >= MIN_CELL else None,
        rate_outside=counts.events_outside / counts.n_outside if outside else None,
        lift=counts.lift() if inside and outside else None,
    )


class CheckedRule(BaseModel):
    """A subgroup rule, its held-out rates (the headline) and its placebo rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_sample: SubgroupRule = Field(
        description="Found and judged on all the drug's episodes (optimistic)."
    )
    folds_found: int = Field(
        ge=0, description="Outer folds whose nested search found the same rule."
    )
    n_held_out: int | None = Field(
        ge=0, description="Held-out episodes it selects in those folds (None under 5)."
    )
    rate_held_out: float | None = Field(ge=0, le=1)
    rate_held_out_ci: tuple[float, float] | None = Field(
        description="95% Wilson interval of rate_held_out."
    )
    n_outside_held_out: int | None = Field(ge=0)
    rate_outside_held_out: float | None = Field(ge=0, le=1)
    lift_held_out: float | None = Field(
        description="rate_held_out - rate_outside_held_out."
    )
    placebo_rate: float | None = Field(
        ge=0, le=1,
        description="Share of placebo permutations whose best held-out lift "
        "reached lift_held_out (None: no lift to compare).",
    )  # fmt: skip
    finding: bool = Field(
        description="Lift shown, positive, and placebo_rate <= MAX_PLACEBO_RATE."
    )

    @property
    def rule(self) -> str:
        """The readable rule."""
        return self.in_sample.rule


class TopRuleCheck(BaseModel):
    """The search judged as a whole: each fold's top rule, held out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    held_out: HeldOutRate
    placebo_rate: float | None = Field(
        ge=0, le=1,
        description="Share of permutations whose top rules reached this lift.",
    )  # fmt: skip
    beats_placebo: bool


@dataclass(frozen=True)
class Placebo:
    """Per permutation of the outcomes: the best held-out lift of any rule the
    nested search found, and the lift of each fold's top rule pooled (NaN: no
    rule with a lift)."""

    best_lift: tuple[float, ...]
    top_rule_lift: tuple[float, ...]


def run_placebo(
    folds: DrugFolds,
    responded: np.ndarray,
    *,
    config: Config,
    key: KeyOf,
    permutations: int = PLACEBO_PERMUTATIONS,
) -> Placebo:
    """The nested search on ``permutations`` seeded permutations of the outcomes."""
    rng = np.random.default_rng(config.training.seed)
    best, top = [], []
    for _ in range(permutations):
        shuffled = rng.permutation(responded)
        searches = nested_search(folds, shuffled, config=config)
        lifts = [
            lift for counts in pool_held_out(searches, shuffled, key=key).values()
            if (lift := counts.lift()) is not None
        ]  # fmt: skip
        best.append(max(lifts) if lifts else float("nan"))
        top_lift = pool_top_rules(searches, shuffled).lift()
        top.append(float("nan") if top_lift is None else top_lift)
    return Placebo(best_lift=tuple(best), top_rule_lift=tuple(top))


def check_top_rule(counts: HeldOutCounts, placebo: Placebo) -> TopRuleCheck:
    """Each fold's top rule pooled (:func:`._nested.pool_top_rules`) against the
    same figure on the permutations."""
    rate = held_out_rate(counts)
    placebo_rate = _placebo_rate(rate.lift, placebo.top_rule_lift)
    return TopRuleCheck(
        held_out=rate, placebo_rate=placebo_rate,
        beats_placebo=_beats(rate.lift, placebo_rate),
    )  # fmt: skip


def check_rules(
    rules: Sequence[SubgroupRule],
    held_out: dict[RuleKey, HeldOutCounts],
    *,
    key: KeyOf,
    placebo: Sequence[float],
) -> tuple[CheckedRule, ...]:
    """Each rule with its held-out counts and placebo rate (module docstring);
    findings first, then by the held-out interval's lower bound."""
    checked = [
        _check(rule, held_out.get(key(rule.conditions), HeldOutCounts()), placebo)
        for rule in rules
    ]
    return tuple(
        sorted(
            checked,
            key=lambda r: (
                not r.finding,
                -(r.rate_held_out_ci[0] if r.rate_held_out_ci else -1.0),
            ),
        )
    )


def _check(
    rule: SubgroupRule, counts: HeldOutCounts, placebo: Sequence[float]
) -> CheckedRule:
    rate = held_out_rate(counts)
    placebo_rate = _placebo_rate(rate.lift, placebo)
    return CheckedRule(
        in_sample=rule, folds_found=rate.folds, n_held_out=rate.n,
        rate_held_out=rate.rate, rate_held_out_ci=rate.rate_ci,
        n_outside_held_out=rate.n_outside, rate_outside_held_out=rate.rate_outside,
        lift_held_out=rate.lift, placebo_rate=placebo_rate,
        finding=_beats(rate.lift, placebo_rate),
    )  # fmt: skip


def _placebo_rate(lift: float | None, placebo: Sequence[float]) -> float | None:
    # NaN (a permutation with no lift) never reaches a lift.
    if lift is None or not len(placebo):
        return None
    return float(np.mean(np.asarray(placebo, dtype=float) >= lift))


def _beats(lift: float | None, placebo_rate: float | None) -> bool:
    return (
        lift is not None and lift > 0 and placebo_rate is not None
        and placebo_rate <= MAX_PLACEBO_RATE
    )  # fmt: skip


def _shown(events: int, n: int) -> bool:
    return min(events, n - events) >= MIN_CELL
