"""The promotion gate on hand-made metrics: each check passes and fails where its
threshold says, and a refusal names every reason."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.config import GateConfig
from training.retraining import (
    DrugComparison,
    Estimate,
    HoldOutMetrics,
    apply_gate,
    expected_auroc,
    kind_chosen_without,
    refuse,
)

SETTINGS = GateConfig()


def metrics(**changes: object) -> HoldOutMetrics:
    """A hold-out where the challenger is as good as the champion everywhere."""
    good = HoldOutMetrics(
        n=400,
        events=140,
        auroc_champion=Estimate(0.70, (0.65, 0.75)),
        auroc_challenger=Estimate(0.71, (0.66, 0.76)),
        auroc_delta=Estimate(0.01, (-0.02, 0.04)),
        brier_champion=Estimate(0.20),
        brier_challenger=Estimate(0.199),
        brier_delta=Estimate(-0.001),
        drugs=(
            DrugComparison("a", 80, 30, 0.72, 0.74, (-0.05, 0.09), 0.7),
            DrugComparison("b", 40, 12, 0.60, 0.58, (-0.12, 0.08), 0.4),
            # too few episodes to be checked, however clearly worse
            DrugComparison("tiny", 10, 3, 0.9, 0.2, (-0.9, -0.5), 0.0),
        ),
        consistency_auroc=Estimate(0.66, (0.60, 0.71)),
        consistency_expected=0.68,
        cv_auroc_champion=0.67,
        cv_auroc_challenger=0.68,
    )
    return dataclasses.replace(good, **changes)  # type: ignore[arg-type]


def failed(result_metrics: HoldOutMetrics) -> set[str]:
    return {c.name for c in apply_gate(result_metrics, settings=SETTINGS).checks
            if not c.passed}  # fmt: skip


def test_an_equal_challenger_passes_every_check() -> None:
    result = apply_gate(metrics(), settings=SETTINGS)
    assert result.passed and result.reasons == ()
    assert [c.name for c in result.checks] == [
        "new_episodes", "new_events", "holdout_auroc", "holdout_brier",
        "drug_auroc", "cv_auroc", "data_consistency",
    ]  # fmt: skip
    drug = next(c for c in result.checks if c.name == "drug_auroc")
    assert drug.value == pytest.approx(-0.02)  # b; "tiny" is below 30 episodes
    assert "2 drugs with >= 30" in drug.message


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"n": 49, "events": 20}, "new_episodes"),
        ({"events": 9}, "new_events"),
        ({"events": 391}, "new_events"),
        ({"auroc_delta": Estimate(-0.031)}, "holdout_auroc"),
        ({"auroc_delta": Estimate(None)}, "holdout_auroc"),
        ({"brier_delta": Estimate(0.011)}, "holdout_brier"),
        ({"cv_auroc_challenger": 0.639}, "cv_auroc"),
        ({"consistency_auroc": Estimate(0.579)}, "data_consistency"),
        ({"consistency_auroc": Estimate(0.57, (0.50, 0.679))}, "data_consistency"),
        ({"consistency_expected": None}, "data_consistency"),
    ],
)
def test_each_check_fails_beyond_its_threshold(
    changes: dict[str, object], check: str
) -> None:
    assert failed(metrics(**changes)) == {check}


def test_margins_are_inclusive() -> None:
    edge = metrics(
        n=50, events=10,
        auroc_delta=Estimate(-0.03), brier_delta=Estimate(0.01),
        cv_auroc_challenger=0.64, consistency_auroc=Estimate(0.58),
    )  # fmt: skip
    assert failed(edge) == set()


def test_a_drug_fails_only_when_clearly_degraded() -> None:
    steady = DrugComparison("a", 80, 30, 0.72, 0.74, (-0.05, 0.09), 0.7)
    drop = DrugComparison("b", 40, 12, 0.70, 0.54, (-0.30, -0.06), 0.01)
    result = apply_gate(metrics(drugs=(steady, drop)), settings=SETTINGS)
    assert not result.passed
    (reason,) = result.reasons
    assert "degraded: b 0.700 -> 0.540 (n=40, difference -0.160 [" in reason
    assert "p=0.010" in reason and "p < 0.05/2" in reason
    # Significant at 5% for one drug, but not after Bonferroni over ten.
    many = (steady,) * 9 + (dataclasses.replace(drop, p_value=0.02),)
    assert apply_gate(metrics(drugs=many), settings=SETTINGS).passed
    # A significant drop within the margin passes too.
    small = DrugComparison("b", 40, 12, 0.70, 0.61, (-0.15, -0.01), 0.001)
    assert apply_gate(metrics(drugs=(small,)), settings=SETTINGS).passed


def test_consistency_fails_only_below_the_interval_too() -> None:
    # 0.12 below the expectation, but the interval reaches it: not evidence enough.
    wide = metrics(consistency_auroc=Estimate(0.56, (0.45, 0.69)))
    assert apply_gate(wide, settings=SETTINGS).passed


def test_no_drug_with_enough_data_is_not_a_failure() -> None:
    result = apply_gate(
        metrics(drugs=(DrugComparison("a", 29, 10, 0.9, 0.1, (-0.9, -0.6), 0.0),)),
        settings=SETTINGS,
    )
    check = next(c for c in result.checks if c.name == "drug_auroc")
    assert check.passed and check.value is None and "not checked" in check.message


def test_a_shuffled_batch_fails_for_the_right_reason() -> None:
    # Both models score noise at chance; only the champion's drop from its own
    # cross-validated AUROC gives the corruption away.
    shuffled = metrics(
        auroc_champion=Estimate(0.51), auroc_challenger=Estimate(0.50),
        auroc_delta=Estimate(-0.01),
        consistency_auroc=Estimate(0.50, (0.44, 0.56)),
    )  # fmt: skip
    result = apply_gate(shuffled, settings=SETTINGS)
    assert not result.passed
    (reason,) = result.reasons
    assert "shuffled" in reason and "0.500" in reason


def test_thresholds_come_from_the_settings() -> None:
    strict = SETTINGS.model_copy(update={"auroc_margin": 0.0})
    worse = metrics(auroc_delta=Estimate(-0.001))
    assert apply_gate(worse, settings=SETTINGS).passed
    assert not apply_gate(worse, settings=strict).passed


def test_refuse_is_a_failed_gate_with_its_reason() -> None:
    result = refuse("champion_data", "cohort version abc not found")
    assert not result.passed
    assert result.reasons == ("cohort version abc not found",)


def test_expected_auroc_is_what_outcomes_drawn_from_p_give() -> None:
    p = np.random.default_rng(0).beta(1, 2, size=300)
    draws = np.random.default_rng(1).random((400, 300)) < p
    simulated = np.mean([roc_auc_score(y, p) for y in draws])
    assert expected_auroc(p) == pytest.approx(simulated, abs=0.005)
    assert expected_auroc(np.full(10, 0.3)) == pytest.approx(0.5)  # all tied
    assert expected_auroc(np.array([0.0, 0.0])) is None  # no responder expected


def test_the_compared_model_kind_is_chosen_without_the_hold_out() -> None:
    # On the episodes the champion saw, per-drug is better for "a"; on the new
    # ones pooled would win. Choosing on all episodes would pick pooled for "a".
    oof = pd.DataFrame(
        {
            "drug": ["a"] * 6 + ["b"] * 2,
            "responded": [1, 0, 1, 1, 1, 0, 1, 0],
            "per_drug": [0.9, 0.1, 0.8, 0.0, 0.0, 1.0, 0.6, 0.4],
            "pooled": [0.6, 0.4, 0.6, 1.0, 1.0, 0.0, np.nan, np.nan],
        }
    )
    held_out = np.array([False, False, False, True, True, True, False, True])
    kind = kind_chosen_without(
        oof, held_out, served_by={"a": "pooled", "b": "per-drug", "c": "pooled"}
    )
    assert kind == {"a": "per-drug", "b": "per-drug", "c": "pooled"}
