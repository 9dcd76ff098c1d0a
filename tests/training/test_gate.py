"""The promotion gate on hand-made metrics: each check passes and fails where its
threshold says, and a refusal names every reason."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models import CvMetrics
from training.config import GateConfig
from training.fitting import CrossValidation
from training.retraining import (
    Calibration,
    DrugComparison,
    Estimate,
    HoldOutMetrics,
    RateChange,
    apply_gate,
    expected_auroc,
    kind_chosen_without,
    refuse,
    stratified_auroc,
)
from training.retraining._calibration import (
    cohort_variance,
    drug_calibrations,
    drug_variance,
    overall_calibration,
)
from training.retraining._history import drug_histories, prior_strength
from training.retraining._holdout import chance_median, drug_comparisons

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
        brier_delta=Estimate(-0.001, (-0.006, 0.004)),
        drugs=(
            DrugComparison("a", 80, 30, 0.72, 0.74, (-0.05, 0.09), 0.7, 0.70, 0.05),
            DrugComparison("b", 40, 12, 0.60, 0.58, (-0.12, 0.08), 0.4, 0.62, 0.08),
            # too few episodes to be checked, however clearly worse
            DrugComparison("tiny", 10, 3, 0.9, 0.2, (-0.9, -0.5), 0.0),
        ),
        consistency_auroc=Estimate(0.66, (0.60, 0.71)),
        consistency_expected=0.68,
        cv_auroc_champion=0.67,
        cv_auroc_challenger=0.68,
        cv_auroc_median=Estimate(0.66, (0.58, 0.72)),
        cv_auroc_median_drugs=6,
        cv_auroc_median_champion=0.67,
        # 150 responders observed, 140 expected: 0.025 above, within 0.05
        calibration=Calibration("all drugs", 400, 150, 140.0, 0.02),
        drug_calibration=(
            Calibration("a", 80, 30, 26.0, 0.05),
            Calibration("b", 40, 12, 14.0, 0.07),
            # too few episodes to be checked, however far off
            Calibration("tiny", 10, 9, 2.0, 0.12),
        ),
        response_rate=RateChange(0.33, 0.35, 1000, 400),
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
        "drug_auroc", "cv_auroc", "cv_above_chance", "data_consistency",
        "drug_consistency", "calibration", "drug_calibration", "drug_history",
        "response_rate",
    ]  # fmt: skip
    drug = next(c for c in result.checks if c.name == "drug_auroc")
    assert drug.value == pytest.approx(-0.02)  # b; "tiny" is below 30 episodes
    # The table shows the bound each margin is tested on, not the estimate.
    shown = {c.name: c.value for c in result.checks}
    assert shown["holdout_auroc"] == pytest.approx(-0.02)
    assert shown["holdout_brier"] == pytest.approx(0.004)
    assert shown["cv_above_chance"] == pytest.approx(0.58)
    assert shown["cv_auroc"] == pytest.approx(0.58 - 0.67)
    assert "2 drugs with >= 30" in drug.message


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"n": 49, "events": 20}, "new_episodes"),
        ({"events": 9}, "new_events"),
        ({"events": 391}, "new_events"),
        ({"auroc_delta": Estimate(-0.101)}, "holdout_auroc"),
        ({"auroc_delta": Estimate(None)}, "holdout_auroc"),
        # the point estimate is fine, its lower bound is not
        ({"auroc_delta": Estimate(-0.01, (-0.11, 0.04))}, "holdout_auroc"),
        ({"brier_delta": Estimate(0.011)}, "holdout_brier"),
        ({"brier_delta": Estimate(0.0, (-0.01, 0.012))}, "holdout_brier"),
        (
            {
                "cv_auroc_median": Estimate(0.56, (0.49, 0.62)),
                "cv_auroc_median_champion": 0.55,
            },
            "cv_above_chance",
        ),
        (
            {
                "cv_auroc_median": Estimate(0.47, (0.41, 0.53)),
                "cv_auroc_median_champion": 0.50,
            },
            "cv_above_chance",
        ),
        ({"cv_auroc_median": Estimate(0.6)}, "cv_above_chance"),
        # 222 of 400 (55.5%) where 140 (35%) were expected: label inflation
        (
            {"calibration": Calibration("all drugs", 400, 222, 140.0, 0.03)},
            "calibration",
        ),
        (
            {"calibration": Calibration("all drugs", 400, 70, 140.0, 0.03)},
            "calibration",
        ),
        ({"calibration": None}, "calibration"),
        ({"response_rate": RateChange(0.35, 0.555, 1000, 400)}, "response_rate"),
        ({"response_rate": RateChange(0.35, 0.18, 1000, 400)}, "response_rate"),
        ({"response_rate": None}, "response_rate"),
        # the median is fine, its lower bound falls 0.101 below the champion's
        ({"cv_auroc_median": Estimate(0.66, (0.569, 0.72))}, "cv_auroc"),
        ({"cv_auroc_median_champion": None}, "cv_auroc"),
        ({"consistency_auroc": Estimate(0.629)}, "data_consistency"),
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
        auroc_delta=Estimate(0.0, (-0.10, 0.05)),
        brier_delta=Estimate(0.0, (-0.01, 0.01)),
        cv_auroc_median=Estimate(0.66, (0.57, 0.72)), consistency_auroc=Estimate(0.63),
    )  # fmt: skip
    assert failed(edge) == set()


def test_a_drug_ranked_backwards_fails_the_drug_consistency() -> None:
    # One drug's outcomes turned over: its rate barely moves, but the champion,
    # predicting AUROC 0.70 there, now ranks its outcomes at 0.30.
    steady = DrugComparison("a", 80, 30, 0.72, 0.74, (-0.05, 0.09), 0.7, 0.70, 0.05)
    flipped = DrugComparison("b", 60, 30, 0.30, 0.45, (-0.1, 0.4), 1.0, 0.70, 0.07)
    result = apply_gate(metrics(drugs=(steady, flipped)), settings=SETTINGS)
    (reason,) = result.reasons
    assert "below: b AUROC 0.300 (SE 0.070) vs 0.700 predicted" in reason
    # 0.12 below what it predicts, with an SE of 0.08: not evidence enough.
    noisy = dataclasses.replace(flipped, champion=0.58, champion_se=0.08)
    assert apply_gate(metrics(drugs=(steady, noisy)), settings=SETTINGS).passed


def test_calibration_fails_only_beyond_its_margin_with_evidence() -> None:
    # 0.10 above expectation: beyond the 0.05 margin, but with an SE of 0.04 the
    # interval still reaches it (p of "within the margin" 0.11 > 0.025).
    noisy = Calibration("all drugs", 400, 180, 140.0, 0.04)
    assert apply_gate(metrics(calibration=noisy), settings=SETTINGS).passed
    sure = dataclasses.replace(noisy, se=0.02)
    result = apply_gate(metrics(calibration=sure), settings=SETTINGS)
    (reason,) = result.reasons
    assert "180 responders observed among 400" in reason
    assert "140.0 expected" in reason and "+0.100" in reason
    # A significant departure within the margin passes: genuine drift.
    small = Calibration("all drugs", 4000, 1500, 1400.0, 0.005)
    assert apply_gate(metrics(calibration=small), settings=SETTINGS).passed


def test_a_drug_whose_outcomes_depart_from_expectation_fails() -> None:
    # 60 responders of 80 where 26 were expected (the drug's outcomes flipped):
    # 0.43 above, SE 0.05: far beyond 0 after Bonferroni over two.
    flipped = Calibration("a", 80, 60, 26.0, 0.05)
    steady = Calibration("b", 40, 12, 14.0, 0.07)
    result = apply_gate(metrics(drug_calibration=(flipped, steady)), settings=SETTINGS)
    (reason,) = result.reasons
    assert "departed: a 60/80 observed vs 26.0 expected" in reason
    assert "p < 0.05/2/2" in reason
    # 0.13 above on a drug of 30 with an SE of 0.08: too little evidence.
    small = Calibration("c", 30, 12, 8.0, 0.08)
    assert apply_gate(metrics(drug_calibration=(small,)), settings=SETTINGS).passed


def test_the_response_rate_change_needs_its_interval_beyond_the_margin() -> None:
    # 0.12 up on 60 new episodes: the interval reaches back within 0.10.
    few = RateChange(0.35, 0.47, 1000, 60)
    assert apply_gate(metrics(response_rate=few), settings=SETTINGS).passed
    many = RateChange(0.35, 0.50, 1000, 2000)
    (reason,) = apply_gate(metrics(response_rate=many), settings=SETTINGS).reasons
    assert "response rate 0.500 in 2000 new episodes vs 0.350" in reason


def test_chance_is_not_required_when_switched_off() -> None:
    at_chance = metrics(
        cv_auroc_median=Estimate(0.47, (0.41, 0.53)), cv_auroc_median_champion=0.50
    )
    lenient = SETTINGS.model_copy(update={"require_above_chance": False})
    assert apply_gate(at_chance, settings=lenient).passed
    no_drug = metrics(cv_auroc_median=Estimate(None), cv_auroc_median_drugs=0)
    check = next(
        c for c in apply_gate(no_drug, settings=SETTINGS).checks
        if c.name == "cv_above_chance"
    )  # fmt: skip
    assert check.passed and "not checked" in check.message


def test_a_champion_at_chance_is_the_reference_for_chance() -> None:
    # The case: challenger 0.471 with an interval reaching below 0.5.
    weak = Estimate(0.53, (0.48, 0.60))
    above = metrics(cv_auroc_median=weak, cv_auroc_median_champion=0.55)
    (reason,) = apply_gate(above, settings=SETTINGS).reasons
    assert "must lie above 0.5" in reason
    # A champion whose own median is 0.46 has no ranking to lose: the
    # challenger need only lie above it ...
    at_chance = metrics(cv_auroc_median=weak, cv_auroc_median_champion=0.46)
    check = next(
        c for c in apply_gate(at_chance, settings=SETTINGS).checks
        if c.name == "cv_above_chance"
    )  # fmt: skip
    assert check.passed and check.threshold == pytest.approx(0.46)
    assert "neither model is shown to rank patients" in check.message
    # ... with its whole interval.
    below = metrics(
        cv_auroc_median=Estimate(0.471, (0.43, 0.52)), cv_auroc_median_champion=0.46
    )
    assert not apply_gate(below, settings=SETTINGS).passed


def test_stratified_auroc_counts_pairs_within_a_drug_only() -> None:
    # Drug 0 responds more often than drug 1, and the scores know only that:
    # pooled AUROC rewards it, within each drug the scores are all tied.
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=float)
    p = np.array([0.7, 0.7, 0.7, 0.7, 0.2, 0.2, 0.2, 0.2])
    drug = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    one = np.ones((1, 8))
    assert roc_auc_score(y, p) > 0.7
    assert stratified_auroc(y, p, drug, one)[0] == pytest.approx(0.5)
    # Within drugs: pair-weighted mean of each drug's AUROC (3 and 3 pairs).
    q = np.array([0.9, 0.8, 0.6, 0.7, 0.1, 0.3, 0.2, 0.05])
    expected = (3 * roc_auc_score(y[:4], q[:4]) + 3 * roc_auc_score(y[4:], q[4:])) / 6
    assert stratified_auroc(y, q, drug, one)[0] == pytest.approx(expected)
    # A resample weight of 2 counts a row twice: drug 0 then has 4 pairs.
    weights = np.array([[2, 1, 1, 1, 1, 1, 1, 1]], dtype=float)
    first = roc_auc_score(y[:4], q[:4], sample_weight=weights[0, :4])
    expected = (4 * first + 3 * roc_auc_score(y[4:], q[4:])) / 7
    assert stratified_auroc(y, q, drug, weights)[0] == pytest.approx(expected)


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
    # With the rate as a candidate too: a drug whose booster is worse than its
    # tumour-type rate on the seen episodes is compared as the rate.
    worse = pd.DataFrame(
        {"drug": ["d", "d"], "responded": [1, 0], "per_drug": [0.1, 0.9],
         "pooled": np.nan}
    )  # fmt: skip
    with_rate = pd.concat([oof, worse], ignore_index=True).assign(rate=0.5)
    kind = kind_chosen_without(
        with_rate, np.append(held_out, [False, False]),
        served_by={"a": "pooled", "b": "per-drug", "d": "per-drug"},
    )  # fmt: skip
    assert kind == {"a": "per-drug", "b": "per-drug", "d": "rate"}


def holdout(n: int, *, seed: int, inflate: float = 0.0) -> pd.DataFrame:
    """New episodes of 4 drugs x 5 tumour types whose outcomes follow the
    champion's calibrated probabilities, then ``inflate`` of the non-responders
    relabelled responders."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.1, 0.6, n)
    y = (rng.random(n) < p).astype(int)
    y[(y == 0) & (rng.random(n) < inflate)] = 1
    return pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "drug": rng.choice(["a", "b", "c", "d"], n),
            "tumour_type": rng.choice(list("vwxyz"), n),
            "responded": y,
            "champion_calibrated": p,
        }
    )


def test_calibration_in_the_large_sees_inflated_outcomes() -> None:
    genuine = overall_calibration(holdout(600, seed=0), n_bootstrap=200, seed=0)
    assert genuine.n == 600 and genuine.se is not None
    assert abs(genuine.difference) < 2.5 * genuine.se
    # The bootstrap SE is near the binomial one when outcomes are independent.
    assert genuine.se == pytest.approx(np.sqrt(0.35 * 0.65 / 600), rel=0.3)
    inflated = overall_calibration(
        holdout(600, seed=0, inflate=0.3), n_bootstrap=200, seed=0
    )
    assert inflated.difference > 0.15
    result = apply_gate(metrics(calibration=inflated), settings=SETTINGS)
    assert "calibration" in {c.name for c in result.checks if not c.passed}
    assert apply_gate(metrics(calibration=genuine), settings=SETTINGS).passed


def cohorts(*, seed: int, tau: float = 1.0) -> pd.DataFrame:
    """New episodes of 8 drugs x 6 tumour types (40 each), outcomes drawn with a
    log-odds shift per drug x tumour type (SD ``tau``) that the champion's
    probabilities do not know: DRUP's cohort effects."""
    rng = np.random.default_rng(seed)
    drugs, types = (
        np.repeat(list("abcdefgh"), 240),
        np.tile(np.repeat(list("uvwxyz"), 40), 8),
    )
    p = rng.uniform(0.15, 0.45, len(drugs))
    cohort = pd.factorize(pd.Series(drugs) + types)[0]
    logit = np.log(p / (1 - p)) + tau * rng.standard_normal(48)[cohort]
    y = (rng.random(len(p)) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"sample_id": [f"s{i}" for i in range(len(p))], "drug": drugs,
         "tumour_type": types, "responded": y, "champion_calibrated": p}
    )  # fmt: skip


def test_cohort_variance_recovers_the_cohort_effects() -> None:
    estimates = []
    for tau in (0.0, 1.0):
        frame = cohorts(seed=2, tau=tau)
        p = frame["champion_calibrated"]
        parts = frame.assign(R=frame["responded"] - p, V=p * (1 - p))
        sums = parts.groupby(["drug", "tumour_type"])[["R", "V"]].sum()
        estimates.append(cohort_variance(sums["R"], sums["V"]))
    assert estimates[0] < 0.1
    assert 0.5 < estimates[1] < 1.6


def test_a_drug_turned_over_in_every_tumour_type_fails_its_calibration() -> None:
    # Genuine batches with cohort effects of SD 1: no drug is called corrupted,
    # though independent draws (Poisson-binomial) would call several.
    for seed in range(5):
        frame = cohorts(seed=seed)
        rows = drug_calibrations(frame)
        assert [c.drug for c in rows] == list("abcdefgh")
        for c in rows:
            p = frame.loc[frame["drug"] == c.drug, "champion_calibrated"]
            assert c.expected == pytest.approx(p.sum())
            assert c.se > np.sqrt(np.sum(p * (1 - p))) / len(p)
        result = apply_gate(metrics(drug_calibration=rows), settings=SETTINGS)
        assert "drug_calibration" not in {c.name for c in result.checks if not c.passed}
    # Drug a's outcomes turned over: its error comes from the other drugs' tumour
    # types, so the shift it shares in every type is not counted as noise (a
    # cluster-robust error over its own types grew with the shift and let it pass).
    a = frame["drug"] == "a"
    before = drug_calibrations(frame)[0]
    frame.loc[a, "responded"] = 1 - frame.loc[a, "responded"]
    after = drug_calibrations(frame)
    assert after[0].se == pytest.approx(before.se)
    result = apply_gate(metrics(drug_calibration=after), settings=SETTINGS)
    (reason,) = result.reasons
    assert reason.startswith("8 drugs with >= 30 new episodes; departed: a ")
    assert "; without " in reason


def test_one_new_cohort_far_from_its_drug_is_not_a_corruption() -> None:
    # Drug a's 40 episodes in tumour type u all respond (expected ~12): a new
    # cohort with a large random effect. Significant for the drug as a whole, but
    # the rest of its tumour types follow the champion, so the gate passes.
    frame = cohorts(seed=0, tau=0.3)
    cohort = (frame["drug"] == "a") & (frame["tumour_type"] == "u")
    frame.loc[cohort, "responded"] = 1
    (a, *others) = drug_calibrations(frame)
    assert a.p_beyond(0.0) < 0.05 / 2 / 8
    assert a.rest is not None and a.rest.drug == "without u" and a.rest.n == 200
    result = apply_gate(metrics(drug_calibration=(a, *others)), settings=SETTINGS)
    assert result.passed


def test_the_challengers_median_cv_auroc_gets_an_interval() -> None:
    rng = np.random.default_rng(0)
    n = 300
    signal = rng.random(n)
    oof = pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "drug": np.repeat(["a", "b", "c"], n // 3),
            "responded": (rng.random(n) < signal).astype(int),
            "fold": rng.integers(0, 3, n),
            "rate": 0.5,
            "per_drug": signal,
            "pooled": np.nan,
        }
    )
    metric = CvMetrics(auroc=0.7, auprc=0.5, prevalence=0.5, brier=0.1)
    cv = CrossValidation(
        oof=oof, cv_rate={}, cv_per_drug=dict.fromkeys("abc", metric), cv_pooled={}
    )
    median, drugs = chance_median(
        cv, min_episodes=30, min_events=5, n_bootstrap=100, seed=0
    )
    per_drug = [
        roc_auc_score(g["responded"], g["per_drug"]) for _, g in oof.groupby("drug")
    ]
    assert drugs == ("a", "b", "c")
    assert median.value == pytest.approx(np.median(per_drug))
    assert median.ci is not None and median.ci[0] > 0.5
    # Noise: the interval reaches 0.5, so the gate refuses it.
    noise = cv.oof.assign(per_drug=rng.random(n))
    median, _ = chance_median(
        dataclasses.replace(cv, oof=noise), min_episodes=30, min_events=5,
        n_bootstrap=100, seed=0,
    )  # fmt: skip
    assert median.ci is not None and median.ci[0] < 0.5
    # Too few episodes: not checked.
    few = chance_median(cv, min_episodes=101, min_events=5, n_bootstrap=10, seed=0)
    assert few == (Estimate(None), ())


def test_drug_variance_sees_whole_drugs_moving() -> None:
    # Every tumour type of a drug shifted together (SD 1 on the log-odds): the
    # drugs' residuals exceed what their cohorts give; without it, near 0.
    estimates = []
    for omega in (0.0, 1.0):
        frame = cohorts(seed=3, tau=0.3)
        rng = np.random.default_rng(4)
        shift = dict(zip("abcdefgh", omega * rng.standard_normal(8), strict=True))
        p = frame["champion_calibrated"].to_numpy()
        logit = np.log(p / (1 - p)) + frame["drug"].map(shift).to_numpy()
        frame["responded"] = (rng.random(len(p)) < 1 / (1 + np.exp(-logit))).astype(int)
        parts = frame.assign(R=frame["responded"] - p, V=p * (1 - p))
        clusters = parts.groupby(["drug", "tumour_type"], as_index=False)[["R", "V"]]
        sums = clusters.sum()
        tau2 = cohort_variance(sums["R"], sums["V"])
        estimates.append(drug_variance(sums, tau2))
    assert estimates[0] < 0.05
    assert estimates[1] > 0.2


def histories(seed: int, *, flip: str | None = None) -> tuple[pd.DataFrame, ...]:
    """Old and new episodes of 8 drugs x 6 DRUP cohorts (20 old, 10 new each),
    each cohort with its own log-odds effect (SD 1) kept across the batches."""
    rng = np.random.default_rng(seed)
    keys = [(d, f"{d}{k}") for d in "abcdefgh" for k in range(6)]
    logit = np.log(0.35 / 0.65) + rng.standard_normal(len(keys))

    def draw(n: int) -> pd.DataFrame:
        rows = np.repeat(np.arange(len(keys)), n)
        y = rng.random(len(rows)) < 1 / (1 + np.exp(-logit[rows]))
        return pd.DataFrame(
            {"drug": [keys[r][0] for r in rows], "cohort": [keys[r][1] for r in rows],
             "responded": y.astype(int)}
        )  # fmt: skip

    old, new = draw(20), draw(10)
    if flip is not None:
        turned = new["drug"] == flip
        new.loc[turned, "responded"] = 1 - new.loc[turned, "responded"]
    return new, old


def test_a_drug_turned_over_goes_against_its_cohorts_history() -> None:
    settings = SETTINGS.model_copy(update={"drug_min_episodes": 30})
    for seed in range(5):
        rows = drug_histories(*histories(seed))
        assert [h.drug for h in rows] == list("abcdefgh")
        assert all(h.n == 60 and h.cohorts == 6 and h.phi >= 1 for h in rows)
        result = apply_gate(metrics(drug_history=rows), settings=settings)
        assert "drug_history" not in {c.name for c in result.checks if not c.passed}
    # Drug a turned over: cohorts that responded well before now do not. Its
    # allowance for drift comes from the other drugs, which it cannot widen.
    before = drug_histories(*histories(0))
    after = drug_histories(*histories(0, flip="a"))
    assert after[0].z < -3 and after[0].phi == pytest.approx(before[0].phi)
    assert after[0].p_value < 0.05 / 8 < before[0].p_value
    assert [h.z for h in after[1:]] == pytest.approx([h.z for h in before[1:]])
    result = apply_gate(metrics(drug_history=after), settings=settings)
    check = next(c for c in result.checks if c.name == "drug_history")
    assert (check.value, check.threshold) == (after[0].p_value, 0.05 / 8)
    (reason,) = result.reasons
    assert reason.startswith("8 drugs with >= 30 new episodes in cohorts")
    assert "against their history: a z=" in reason
    off = settings.model_copy(update={"check_history": False})
    assert apply_gate(metrics(drug_history=after), settings=off).passed


def test_the_history_prior_follows_the_spread_of_cohorts() -> None:
    # Cohorts with a log-odds SD of 1 spread beyond binomial noise: a prior of a
    # few dozen episodes; cohorts that share one rate: no spread, the maximum.
    _, spread = histories(0)
    counts = spread.groupby(["drug", "cohort"])["responded"]
    strength = prior_strength(pd.DataFrame({"n0": counts.size(), "y0": counts.sum()}))
    assert 2 < strength < 60
    rng = np.random.default_rng(0)
    same = spread.assign(responded=(rng.random(len(spread)) < 0.35).astype(int))
    counts = same.groupby(["drug", "cohort"])["responded"]
    flat = prior_strength(pd.DataFrame({"n0": counts.size(), "y0": counts.sum()}))
    assert flat > 5 * strength


def test_a_drugs_auroc_p_value_tests_the_margin_it_states() -> None:
    # The challenger ranks drug a 0.05 worse than the champion: significant
    # against 0, not against the margin of 0.10 the message states.
    rng = np.random.default_rng(0)
    n = 1000
    y = (rng.random(n) < 0.4).astype(int)
    champion = y + rng.normal(0, 0.6, n)
    challenger = y + rng.normal(0, 0.85, n)
    frame = pd.DataFrame(
        {"sample_id": [f"s{i}" for i in range(n)], "drug": "a", "responded": y,
         "champion": champion, "challenger": challenger,
         "champion_calibrated": 1 / (1 + np.exp(-champion))}
    )  # fmt: skip
    (zero,) = drug_comparisons(frame, n_bootstrap=200, seed=0, margin=0.0)
    (margin,) = drug_comparisons(frame, n_bootstrap=200, seed=0, margin=0.10)
    assert -0.10 < (zero.delta or 0) < 0
    assert zero.p_value is not None and zero.p_value < 0.05
    assert margin.p_value is not None and margin.p_value > 0.9
