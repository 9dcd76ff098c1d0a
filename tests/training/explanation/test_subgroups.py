import numpy as np
import pandas as pd
import pytest

from models import MIN_CELL, Condition, SubgroupRule, wilson_interval
from training.fitting import discover_subgroups, rule_carriers
from training.fitting._subgroups import (
    _Carriers,
    _held_out,
    best_rules,
    candidate_rules,
    describe,
    select,
)


def planted(
    n: int = 600, *, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Carriers of A, B and two noise features; A and not B respond (0.8 vs 0.1).
    Returns the carriers, outcomes and the true probabilities plus a little noise
    (what a good model's out-of-fold predictions look like)."""
    rng = np.random.default_rng(seed)
    carriers = pd.DataFrame(
        {
            name: rng.random(n) < share
            for name, share in {"A": 0.3, "B": 0.4, "C": 0.5, "D": 0.2}.items()
        }
    )
    truth = np.where(carriers["A"] & ~carriers["B"], 0.8, 0.1)
    responded = (rng.random(n) < truth).astype(int)
    return carriers, responded, truth + rng.normal(0, 0.05, n)


A_NOT_B = (Condition(feature="A", present=True), Condition(feature="B", present=False))


def test_the_planted_rule_comes_first_with_its_observed_counts() -> None:
    carriers, responded, predicted = planted()
    rules = discover_subgroups(carriers, responded, predicted)
    best = rules[0]
    assert set(best.conditions) == set(A_NOT_B)
    assert best.rule in ("A and not B", "not B and A")
    inside = (carriers["A"] & ~carriers["B"]).to_numpy()
    assert best.n_selected == inside.sum()
    assert best.responders_selected == responded[inside].sum()
    assert best.rate == pytest.approx(responded[inside].mean())
    low, high = wilson_interval(responded[inside].sum(), inside.sum())
    assert best.rate_ci == pytest.approx((float(low), float(high)))
    assert best.n_outside == (~inside).sum()
    assert best.rate_outside == pytest.approx(responded[~inside].mean())
    # Every rule is enriched, selects enough episodes, and the list is ranked.
    overall = responded.mean()
    assert all(r.rate > overall and r.n_selected >= 10 for r in rules)
    lower = [r.rate_ci[0] for r in rules]
    assert lower == sorted(lower, reverse=True)
    # Noise features only split the predictions' noise: never a rule of their own.
    assert not any(c.feature in ("C", "D") for r in rules for c in r.conditions)


def test_held_out_folds_find_the_planted_rule_again() -> None:
    carriers, responded, predicted = planted()
    folds = np.random.default_rng(2).integers(0, 5, len(responded))
    best = discover_subgroups(carriers, responded, predicted, folds=folds)[0]
    assert set(best.conditions) == set(A_NOT_B)
    assert best.folds_found == 5
    # Found in every fold, so every episode it selects was judged held out once.
    assert best.n_held_out == best.n_selected
    assert best.rate_held_out == pytest.approx(best.rate)


def test_without_folds_nothing_is_claimed_held_out() -> None:
    carriers, responded, predicted = planted()
    rules = discover_subgroups(carriers, responded, predicted)
    assert all(r.folds_found is None and r.rate_held_out is None for r in rules)


def test_rules_selecting_too_few_or_not_enriched_are_dropped() -> None:
    carriers, responded, _ = planted()
    small = carriers["A"] & carriers["B"] & carriers["C"] & carriers["D"]
    assert 0 < small.sum() < 10
    candidates = [
        tuple(Condition(feature=f, present=True) for f in "ABCD"),  # too small
        (Condition(feature="B", present=True),),  # B responds less than the rest
        A_NOT_B,
    ]
    kept = best_rules(carriers, responded, candidates)
    assert [set(r.conditions) for r in kept] == [set(A_NOT_B)]


def test_equivalent_rules_keep_the_shortest() -> None:
    carriers, responded, _ = planted()
    carriers["A copy"] = carriers["A"]
    longer = (*A_NOT_B, Condition(feature="A copy", present=True))
    kept = best_rules(carriers, responded, [longer, A_NOT_B])
    assert [r.conditions for r in kept] == [A_NOT_B]


def test_constant_predictions_give_no_tree_rules() -> None:
    carriers, responded, _ = planted()
    flat = np.full(len(responded), 0.3)
    assert candidate_rules(carriers, flat) == []
    singles = candidate_rules(carriers, flat, features=["C"])
    assert [describe(r) for r in singles] == ["C", "not C"]


def test_unscored_episodes_are_left_out_of_the_tree_but_counted() -> None:
    carriers, responded, predicted = planted()
    predicted[::3] = np.nan
    best = discover_subgroups(carriers, responded, predicted)[0]
    assert set(best.conditions) == set(A_NOT_B)
    assert best.n_selected + best.n_outside == len(responded)


def test_select_and_describe() -> None:
    carriers = pd.DataFrame({"A": [True, True, False], "B": [False, True, False]})
    assert select(carriers, A_NOT_B).tolist() == [True, False, False]
    assert describe(A_NOT_B) == "A and not B"


def test_rules_only_use_the_models_top_features_and_their_cut_offs() -> None:
    carriers = pd.DataFrame(
        {
            name: [True, False]
            for name in ("A", "B", "C", "tmb mut per mb >= 10", "tmb mut per mb >= 20")
        }
    )
    kept = rule_carriers(carriers, ["tmb mut per mb", "B", "A"], k=2)
    assert list(kept.columns) == ["B", "tmb mut per mb >= 10", "tmb mut per mb >= 20"]


def _small_counts() -> tuple[pd.DataFrame, np.ndarray]:
    """200 episodes, the first 40 responders (rate 0.2); one-feature rules with
    a count under 5 inside or outside them, and one without."""
    responded = (np.arange(200) < 40).astype(int)

    def carried(*ranges: range) -> np.ndarray:
        column = np.zeros(200, dtype=bool)
        for r in ranges:
            column[list(r)] = True
        return column

    carriers = pd.DataFrame({
        "few non-responders": carried(range(17), range(40, 43)),  # 17 and 3
        "few responders": carried(range(4), range(40, 46)),  # 4 and 6
        "few responders outside": carried(range(37), range(40, 80)),  # 3 out
        "ok": carried(range(20), range(40, 60)),  # 20 and 20
    })  # fmt: skip
    return carriers, responded


def _counts_at_least_min_cell(rule: SubgroupRule, responded: np.ndarray) -> bool:
    inside, outside = (
        rule.responders_selected,
        int(responded.sum()) - (rule.responders_selected),
    )
    return (
        min(inside, rule.n_selected - inside, outside, rule.n_outside - outside)
        >= MIN_CELL
    )


def test_rules_with_a_count_under_min_cell_inside_or_outside_are_dropped() -> None:
    carriers, responded = _small_counts()
    candidates = [(Condition(feature=str(f), present=True),) for f in carriers]
    kept = best_rules(carriers, responded, candidates)
    assert [r.rule for r in kept] == ["ok"]
    assert kept[0].rate_outside == pytest.approx(20 / 160)


def test_no_published_count_is_under_min_cell() -> None:
    carriers, responded, predicted = planted(300, seed=3)
    folds = np.random.default_rng(2).integers(0, 5, len(responded))
    rules = discover_subgroups(
        carriers, responded, predicted, folds=folds, features=list(carriers)
    )
    assert rules
    for rule in rules:
        assert _counts_at_least_min_cell(rule, responded)
        assert rule.n_held_out is None or rule.n_held_out >= MIN_CELL


@pytest.mark.parametrize(
    ("held_out", "n_held_out", "rate_held_out"),
    [
        ([0, 1, 40], None, None),  # 3 episodes: neither n nor rate
        ([0, 1, 2, 3, 40, 41], 6, None),  # 4 responders: n only
        ([0, 1, 40, 41, 42, 43, 44], 7, None),  # 2 responders
        ([*range(5), *range(40, 45)], 10, 0.5),  # 5 and 5: both
    ],
)
def test_held_out_counts_under_min_cell_are_not_stored(
    held_out: list[int], n_held_out: int | None, rate_held_out: float | None
) -> None:
    carriers, responded = _small_counts()
    ok = ((Condition(feature="ok", present=True),),)
    rules = best_rules(carriers, responded, ok)
    folds = np.ones(len(responded), dtype=int)
    folds[held_out] = 0

    def search(rows: np.ndarray) -> list[SubgroupRule]:
        # The rule is found only when fold 0 is held out.
        return list(rules) if not rows[held_out[0]] else []

    (rule,) = _held_out(rules, _Carriers.of(carriers), responded, folds, search)
    assert rule.folds_found == 1
    assert rule.n_held_out == n_held_out
    assert rule.rate_held_out == (
        None if rate_held_out is None else pytest.approx(rate_held_out)
    )
