"""The nested subgroup search and its placebo, on a cohort with a planted rule."""

from dataclasses import dataclass

import numpy as np
import pytest

from features import load_drug_knowledge
from models import Condition, SubgroupRule
from tests.training.conftest import small_config
from tests.training.explanation.planted import braf_not_colorectal
from training.config import Config
from training.evaluation import DrugFolds, feature_groups, fold_design
from training.explanation._findings import (
    Placebo,
    check_rules,
    check_top_rule,
    run_placebo,
)
from training.explanation._nested import (
    FoldRules,
    HeldOutCounts,
    KeyOf,
    RuleKey,
    key_by_group,
    nested_search,
    pool_held_out,
    pool_top_rules,
)
from training.fitting import assign_folds


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, dict]:
    cohort = braf_not_colorectal(300, seed=2)
    config = small_config(tmp_path_factory.mktemp("nested"), min_samples=50)
    folds = assign_folds(cohort.treatments, n_splits=3, seed=0)
    drugs = list(cohort.drugs)
    laid_out = fold_design(
        cohort, config=config, drugs=drugs, knowledge=load_drug_knowledge(),
        folds=folds,
    )  # fmt: skip
    return config, {drug: laid_out.drug(drug) for drug in drugs}


def _outcomes(folds: DrugFolds) -> np.ndarray:
    return folds.episodes["responded"].to_numpy()


@dataclass(frozen=True)
class _Searched:
    # One drug's nested search, its held-out counts and a 3-permutation placebo.
    y: np.ndarray
    key: KeyOf
    searches: list[FoldRules]
    held_out: dict[RuleKey, HeldOutCounts]
    placebo: Placebo


def _searched(design: tuple[Config, dict], drug: str) -> _Searched:
    config, drugs = design
    folds = drugs[drug]
    y = _outcomes(folds)
    key = key_by_group(feature_groups(folds.X, folds.names))
    searches = nested_search(folds, y, config=config)
    return _Searched(
        y, key, searches, pool_held_out(searches, y, key=key),
        run_placebo(folds, y, config=config, key=key, permutations=3),
    )  # fmt: skip


def test_a_folds_outcomes_never_shape_the_rules_scored_on_it(
    design: tuple[Config, dict],
) -> None:
    config, drugs = design
    folds = drugs["braf inhibitor"]
    y = _outcomes(folds)
    before = {s.fold: s for s in nested_search(folds, y, config=config)}
    fold_of = folds.episodes["fold"].to_numpy()
    flipped = np.where(fold_of == 0, 1 - y, y)  # fold 0's outcomes inverted
    after = {s.fold: s for s in nested_search(folds, flipped, config=config)}
    assert before[0].rules and after[0].rules == before[0].rules
    assert after[0].ranked == before[0].ranked
    assert (after[0].selected == before[0].selected).all()
    # The other folds train on fold 0: their ranking does see the change.
    assert after[1].ranked != before[1].ranked
    assert after[2].ranked != before[2].ranked


def test_the_planted_rule_is_a_finding_at_its_planted_rate(
    design: tuple[Config, dict],
) -> None:
    found = _searched(design, "braf inhibitor")
    y, key, held_out, placebo = found.y, found.key, found.held_out, found.placebo
    planted = (
        Condition(feature="hotspot BRAF V600", present=True),
        Condition(feature="tumour type: colorectal", present=False),
    )
    counts = held_out[key(planted)]
    assert counts.folds == 3  # every fold's search finds it
    assert counts.events / counts.n == pytest.approx(0.85, abs=0.1)
    rule = _rule(planted, n=counts.n, events=counts.events, total=len(y))
    (checked,) = check_rules([rule], held_out, key=key, placebo=placebo.best_lift)
    assert checked.finding and checked.placebo_rate == 0
    assert checked.lift_held_out is not None and checked.lift_held_out > 0.5
    # The search as a whole: each fold's top rule is the planted one.
    top = check_top_rule(pool_top_rules(found.searches, y), placebo)
    assert top.beats_placebo and top.held_out.folds == 3
    assert top.held_out.rate == pytest.approx(0.85, abs=0.1)


def test_on_pure_noise_the_placebo_matches_the_search_and_nothing_is_found(
    design: tuple[Config, dict],
) -> None:
    found = _searched(design, "placebo")
    lifts = [c.lift() for c in found.held_out.values() if c.lift() is not None]
    placebo = found.placebo
    # The best rule on noise does no better held out than rules on permuted noise.
    assert lifts and max(lifts) <= np.nanmax(placebo.best_lift)
    assert max(lifts) < 0.25
    top = check_top_rule(pool_top_rules(found.searches, found.y), placebo)
    assert not top.beats_placebo


def _rule(
    conditions: tuple[Condition, ...], *, n: int, events: int, total: int
) -> SubgroupRule:
    return SubgroupRule(
        rule="r", conditions=conditions, n_selected=n, responders_selected=events,
        rate=events / n, rate_ci=(0.0, 1.0), n_outside=total - n, rate_outside=0.1,
    )  # fmt: skip


KEY = key_by_group({})
ONE = (Condition(feature="a", present=True),)


@pytest.mark.parametrize(
    ("counts", "placebo", "rate", "finding"),
    [
        # Lift 0.5 - 0.1 = 0.4; no permutation reached it.
        (HeldOutCounts(3, 40, 20, 100, 10), (0.1, 0.39, float("nan")), 0.0, True),
        # One of two permutations reached it: chance does as well.
        (HeldOutCounts(3, 40, 20, 100, 10), (0.1, 0.4), 0.5, False),
        # A lift below zero is never a finding, even above every permutation's.
        (HeldOutCounts(3, 40, 6, 100, 30), (-0.5,), 0.0, False),
    ],
)
def test_a_rule_is_a_finding_only_when_it_beats_the_placebo(
    counts: HeldOutCounts, placebo: tuple[float, ...], rate: float, finding: bool
) -> None:
    (checked,) = check_rules(
        [_rule(ONE, n=50, events=25, total=200)], {KEY(ONE): counts}, key=KEY,
        placebo=placebo,
    )  # fmt: skip
    assert checked.placebo_rate == rate and checked.finding is finding
    assert checked.rate_held_out == counts.events / counts.n
    low, high = checked.rate_held_out_ci or (0.0, 0.0)
    assert low < checked.rate_held_out < high


def test_held_out_counts_under_min_cell_are_not_shown_nor_found() -> None:
    # 4 non-responders inside: no rate, no lift, no finding (no count under 5).
    counts = HeldOutCounts(2, 30, 26, 100, 10)
    (checked,) = check_rules(
        [_rule(ONE, n=50, events=25, total=200)], {KEY(ONE): counts}, key=KEY,
        placebo=(0.0,),
    )  # fmt: skip
    assert checked.n_held_out == 30
    assert checked.rate_held_out is None and checked.rate_held_out_ci is None
    assert checked.lift_held_out is None and checked.placebo_rate is None
    assert not checked.finding
    (never,) = check_rules(
        [_rule(ONE, n=50, events=25, total=200)], {}, key=KEY, placebo=(0.0,)
    )
    assert never.folds_found == 0 and never.n_held_out is None and not never.finding
