"""The promotion gate: may a retrained challenger replace the champion?

A pure function of metrics (`apply_gate`): `compare_holdout` measures
champion and challenger on the same episodes, the episodes the champion never
saw, and the gate checks them against the thresholds in ``mlflow.yml``
(``gate:``, `training.config.GateConfig`). Every check is reported, passed or not, so a
refusal says all of what was wrong.

Two kinds of check. Model checks compare the challenger with the champion, each
a non-inferiority test on the bound of an interval, not on the point estimate.
Data checks ask whether the new outcomes are believable at all: the challenger's
out-of-fold predictions were trained on the same batch, so a batch with inflated,
deflated or shuffled outcomes can make it look as good as the champion. They
compare the new outcomes with the champion's calibrated probabilities
(calibration-in-the-large overall and per drug, the AUROC those probabilities
predict) and with the old response rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import norm

from training.config import GateConfig

Interval = tuple[float, float]
# Margins are inclusive; differences of rounded metrics should not fail by 1e-17.
_TOLERANCE = 1e-9
CHANCE = 0.5


@dataclass(frozen=True)
class Estimate:
    """A metric on the hold-out and its grouped-bootstrap ``1 - alpha`` interval
    (95% by default, `training.config.GateConfig.alpha`)."""

    value: float | None
    ci: Interval | None = None

    def __str__(self) -> str:
        if self.value is None:
            return "n/a"
        if self.ci is None:
            return f"{self.value:.3f}"
        return f"{self.value:.3f} [{self.ci[0]:.3f}, {self.ci[1]:.3f}]"


@dataclass(frozen=True)
class DrugComparison:
    """One drug's hold-out AUROC under champion and challenger."""

    drug: str
    n: int
    events: int
    champion: float | None
    challenger: float | None
    delta_ci: Interval | None = None  # paired bootstrap 1 - alpha interval
    # One-sided bootstrap p-value of "the challenger falls no more than the
    # margin" (``gate.drug_auroc_margin``): the share of resamples where its AUROC
    # is at least the champion's minus the margin.
    p_value: float | None = None
    # The AUROC the champion's calibrated probabilities predict on this drug's
    # new episodes (`training.retraining.expected_auroc`), and the bootstrap
    # standard error of the champion's AUROC there.
    expected: float | None = None
    champion_se: float | None = None

    @property
    def delta(self) -> float | None:
        """Challenger minus champion, or None when either is undefined."""
        if self.champion is None or self.challenger is None:
            return None
        return self.challenger - self.champion


@dataclass(frozen=True)
class Calibration:
    """Observed against expected responders on the new episodes of one drug (or
    all drugs): expected is the sum of the champion's calibrated probabilities."""

    drug: str
    n: int
    observed: int
    expected: float
    # Standard error of (observed - expected) / n: a bootstrap over drug x tumour
    # type clusters for all drugs; for a drug, independent outcomes plus cohort
    # effects (`training.retraining._calibration.drug_calibrations`).
    se: float | None
    # For a drug: the same without the tumour type that departs most in the drug's
    # direction (one new cohort), None when the drug has a single tumour type.
    rest: Calibration | None = None

    @property
    def difference(self) -> float:
        """(observed - expected) / n: above 0, more responders than expected."""
        return (self.observed - self.expected) / self.n if self.n else 0.0

    def p_beyond(self, margin: float) -> float | None:
        """One-sided p-value of "the difference lies within +-``margin``"."""
        if not self.se:
            return None
        return float(norm.sf((abs(self.difference) - margin) / self.se))


@dataclass(frozen=True)
class History:
    """One drug's new outcomes against its cohorts' history in the champion's
    training data (`training.retraining._history`): z below 0 when they go
    against it, as outcomes turned over do."""

    drug: str
    n: int  # new episodes in cohorts the champion's training data holds
    cohorts: int
    z: float  # concordance with the history, standardised
    phi: float  # the other drugs' mean z^2 (at least 1): the batch's drift
    p_value: float  # one-sided: Phi(z / sqrt(phi))


@dataclass(frozen=True)
class RateChange:
    """The drift report's response rate: the champion's training episodes against
    the new ones (`training.retraining.drift_report`, ``new_only=True``)."""

    reference: float
    new: float
    n_reference: int
    n_new: int

    @property
    def difference(self) -> float:
        return self.new - self.reference

    @property
    def se(self) -> float:
        """Standard error of the difference of two independent proportions."""
        a = self.reference * (1 - self.reference) / max(self.n_reference, 1)
        b = self.new * (1 - self.new) / max(self.n_new, 1)
        return float((a + b) ** 0.5)


@dataclass(frozen=True)
class HoldOutMetrics:
    """Champion and challenger on the same hold-out episodes (see
    `compare_holdout`); deltas are challenger minus champion. The AUROCs are
    within-drug (stratified): only responder / non-responder pairs given the same
    drug count, so a model is not rewarded for knowing drugs' base rates."""

    n: int
    events: int
    auroc_champion: Estimate
    auroc_challenger: Estimate
    auroc_delta: Estimate
    brier_champion: Estimate
    brier_challenger: Estimate
    brier_delta: Estimate
    drugs: tuple[DrugComparison, ...]
    # The champion's AUROC with its calibrated probabilities, and the AUROC those
    # probabilities should reach if the new outcomes follow them
    # (`training.retraining.expected_auroc`).
    consistency_auroc: Estimate
    consistency_expected: float | None
    # Median per-drug CV AUROC over the drugs both models have.
    cv_auroc_champion: float | None
    cv_auroc_challenger: float | None
    # The challenger's median per-drug CV AUROC over the drugs with enough
    # episodes of each outcome (their number), with a grouped bootstrap interval.
    cv_auroc_median: Estimate = Estimate(None)
    cv_auroc_median_drugs: int = 0
    # The champion's median per-drug CV AUROC over the same drugs (its own CV).
    cv_auroc_median_champion: float | None = None
    # Calibration-in-the-large of the champion: all drugs, then per drug.
    calibration: Calibration | None = None
    drug_calibration: tuple[Calibration, ...] = ()
    # Per drug: its new outcomes against its cohorts' history.
    drug_history: tuple[History, ...] = ()
    response_rate: RateChange | None = None


@dataclass(frozen=True)
class GateCheck:
    """One check of the gate: the value measured against its threshold."""

    name: str
    value: float | None
    threshold: float
    passed: bool
    message: str


@dataclass(frozen=True)
class GateResult:
    """Every check; the gate passes when all of them do."""

    passed: bool
    checks: tuple[GateCheck, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The messages of the failed checks."""
        return tuple(c.message for c in self.checks if not c.passed)


def apply_gate(metrics: HoldOutMetrics, *, settings: GateConfig) -> GateResult:
    """Run every check on ``metrics``; see `GateConfig` for the thresholds."""
    checks = (
        _new_episodes(metrics, settings),
        _new_events(metrics, settings),
        _holdout_auroc(metrics, settings),
        _holdout_brier(metrics, settings),
        _drug_auroc(metrics, settings),
        _cv_auroc(metrics, settings),
        _above_chance(metrics, settings),
        _consistency(metrics, settings),
        _drug_consistency(metrics, settings),
        _calibration(metrics, settings),
        _drug_calibration(metrics, settings),
        _drug_history(metrics, settings),
        _response_rate(metrics, settings),
    )
    return GateResult(passed=all(c.passed for c in checks), checks=checks)


def refuse(name: str, reason: str) -> GateResult:
    """A gate that failed before anything could be measured (e.g. the champion's
    training data cannot be found): one failed check saying why."""
    check = GateCheck(
        name=name, value=None, threshold=0.0, passed=False, message=reason
    )
    return GateResult(passed=False, checks=(check,))


def _at_least(
    name: str, value: float | None, threshold: float, message: str
) -> GateCheck:
    if value is None:
        message = f"cannot be computed on this hold-out: {message}"
    passed = value is not None and value >= threshold - _TOLERANCE
    return GateCheck(name, value, threshold, passed, message)


def _new_episodes(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    return _at_least(
        "new_episodes", m.n, s.min_new_episodes,
        f"{m.n} new episodes the champion never saw; need >= {s.min_new_episodes}",
    )  # fmt: skip


def _new_events(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    fewer = min(m.events, m.n - m.events)
    return _at_least(
        "new_events", fewer, s.min_new_events,
        f"{m.events} responders and {m.n - m.events} non-responders among them; "
        f"need >= {s.min_new_events} of each",
    )  # fmt: skip


def _holdout_auroc(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    # Non-inferiority: the lower bound of the difference, not its estimate.
    delta = m.auroc_delta
    bound = delta.value if delta.ci is None else delta.ci[0]
    check = _at_least(
        "holdout_auroc", bound, -s.auroc_margin,
        f"within-drug hold-out AUROC challenger {m.auroc_challenger} vs champion "
        f"{m.auroc_champion}: difference {delta}; its lower {_level(s)} bound may "
        f"fall at most {s.auroc_margin} below 0",
    )  # fmt: skip
    # The value shown is the bound the margin is tested on.
    return check


def _holdout_brier(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    delta = m.brier_delta
    bound = delta.value if delta.ci is None else delta.ci[1]
    check = _at_least(
        "holdout_brier", None if bound is None else -bound, -s.brier_margin,
        f"hold-out Brier challenger {m.brier_challenger} vs champion "
        f"{m.brier_champion}: difference {delta}; its upper {_level(s)} bound may "
        f"rise at most {s.brier_margin} above 0",
    )  # fmt: skip
    # Report the bound as measured (higher Brier = worse), not negated.
    return GateCheck(check.name, bound, s.brier_margin, check.passed, check.message)


def _level(s: GateConfig) -> str:
    return f"{1 - s.alpha:.0%}"


def _drug_auroc(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    eligible = [
        d
        for d in m.drugs
        if d.n >= s.drug_min_episodes
        and min(d.events, d.n - d.events) >= s.drug_min_events
        and d.delta is not None
    ]
    rule = (
        f"drugs with >= {s.drug_min_episodes} new episodes and >= "
        f"{s.drug_min_events} of each outcome"
    )
    threshold = -s.drug_auroc_margin
    if not eligible:
        return GateCheck("drug_auroc", None, threshold, True, f"no {rule}: not checked")
    # Bonferroni: with many drugs, one would drop "significantly" by chance alone.
    level = s.alpha / len(eligible)
    worst = min(eligible, key=lambda d: d.delta or 0.0)
    degraded = [
        d
        for d in eligible
        if (d.delta or 0.0) < threshold - _TOLERANCE
        and (d.p_value is None or d.p_value < level)
    ]
    detail = ", ".join(
        f"{d.drug} {d.champion:.3f} -> {d.challenger:.3f} (n={d.n}, difference "
        f"{Estimate(d.delta, d.delta_ci)}, p={_p(d.p_value)})"
        for d in degraded or [worst]
    )
    message = (
        f"{len(eligible)} {rule}; {'degraded' if degraded else 'worst'}: {detail}; "
        f"a drug fails when it falls more than {s.drug_auroc_margin} with "
        f"bootstrap p < {s.alpha}/{len(eligible)}"
    )
    return GateCheck("drug_auroc", worst.delta, threshold, not degraded, message)


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cv_auroc(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    """Non-inferiority of the challenger's median per-drug CV AUROC: the lower
    bound of its interval against the champion's median over the same drugs."""
    median, champion = m.cv_auroc_median, m.cv_auroc_median_champion
    bound = median.value if median.ci is None else median.ci[0]
    delta = None if bound is None or champion is None else bound - champion
    return _at_least(
        "cv_auroc", delta, -s.cv_auroc_margin,
        f"median per-drug CV AUROC over {m.cv_auroc_median_drugs} drugs: "
        f"challenger {median} vs champion {Estimate(champion)}; the challenger's "
        f"lower {_level(s)} bound may fall at most {s.cv_auroc_margin} below the "
        "champion's",
    )  # fmt: skip


def _consistency(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    observed, expected = m.consistency_auroc, m.consistency_expected
    message = (
        f"the champion ranks the new outcomes at AUROC {observed}; its calibrated "
        f"probabilities predict {Estimate(expected)} on these episodes; more than "
        f"{s.consistency_margin} below, with the interval below too, suggests "
        "corrupted or shuffled outcomes"
    )
    if observed.value is None or expected is None:
        return _at_least("data_consistency", None, -s.consistency_margin, message)
    delta = observed.value - expected
    clearly_below = delta < -s.consistency_margin - _TOLERANCE and (
        observed.ci is None or observed.ci[1] < expected
    )
    return GateCheck(
        "data_consistency", delta, -s.consistency_margin, not clearly_below, message
    )


def _above_chance(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    """The challenger's median per-drug CV AUROC must lie above chance with its
    whole interval, or, where the champion's own median over the same drugs is not
    above chance, above the champion's: a champion that ranks patients within a
    drug no better than chance has nothing to lose to an equal challenger, and
    requiring chance of the challenger alone would keep it forever."""
    median = m.cv_auroc_median
    rule = (
        f"drugs with >= {s.drug_min_episodes} episodes and >= {s.drug_min_events} "
        "of each outcome"
    )
    if not s.require_above_chance:
        return GateCheck(
            "cv_above_chance",
            median.value,
            CHANCE,
            True,
            "not required (gate.require_above_chance: false)",
        )
    if not m.cv_auroc_median_drugs:
        return GateCheck(
            "cv_above_chance", None, CHANCE, True, f"no {rule}: not checked"
        )
    champion = m.cv_auroc_median_champion
    reference = CHANCE if champion is None else min(CHANCE, champion)
    bound = None if median.ci is None else median.ci[0]
    passed = bound is not None and bound > reference
    against = (
        f"above {CHANCE}"
        if reference == CHANCE
        else f"above the champion's {reference:.3f} (its own median is not above "
        f"{CHANCE}: neither model is shown to rank patients within a drug better "
        "than chance)"
    )
    message = (
        f"the challenger's median per-drug CV AUROC over {m.cv_auroc_median_drugs} "
        f"{rule} is {median}; its {_level(s)} interval must lie {against}"
    )
    # The value shown is the lower bound, the number that must exceed the reference.
    return GateCheck("cv_above_chance", bound, reference, passed, message)


def _drug_consistency(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    """A drug whose new outcomes the champion ranks far worse than its own
    probabilities predict: e.g. that drug's outcomes turned over, which leaves its
    response rate near 0.5 unchanged but reverses the ranking."""
    eligible = [
        d
        for d in m.drugs
        if d.n >= s.drug_min_episodes
        and min(d.events, d.n - d.events) >= s.drug_min_events
        and d.champion is not None
        and d.expected is not None
        and d.champion_se
    ]
    rule = (
        f"drugs with >= {s.drug_min_episodes} new episodes and >= "
        f"{s.drug_min_events} of each outcome"
    )
    threshold = -s.consistency_margin
    if not eligible:
        return GateCheck("drug_consistency", None, threshold, True,
                         f"no {rule}: not checked")  # fmt: skip
    level = s.alpha / 2 / len(eligible)
    gaps = {d.drug: (d.champion or 0.0) - (d.expected or 0.0) for d in eligible}
    p_values = {
        d.drug: float(norm.cdf((gaps[d.drug] - threshold) / (d.champion_se or 1.0)))
        for d in eligible
    }
    below = [d for d in eligible if p_values[d.drug] < level]
    worst = min(eligible, key=lambda d: gaps[d.drug])
    detail = ", ".join(
        f"{d.drug} AUROC {d.champion:.3f} (SE {d.champion_se:.3f}) vs "
        f"{d.expected:.3f} predicted (n={d.n}, p={_p(p_values[d.drug])})"
        for d in below or [worst]
    )
    message = (
        f"{len(eligible)} {rule}; {'below' if below else 'furthest below'}: "
        f"{detail}; a drug fails when the champion's AUROC on its new outcomes is "
        f"more than {s.consistency_margin} below what its probabilities predict, "
        f"with p < {s.alpha}/2/{len(eligible)}"
    )
    return GateCheck("drug_consistency", gaps[worst.drug], threshold,
                     not below, message)  # fmt: skip


def _calibration(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    c = m.calibration
    if c is None or not c.n:
        return GateCheck(
            "calibration",
            None,
            s.calibration_margin,
            False,
            "no new episodes the champion scores: cannot be computed",
        )
    p = c.p_beyond(s.calibration_margin)
    # Two-sided at alpha: the interval of the difference lies beyond the margin.
    departs = p is not None and p < s.alpha / 2
    message = (
        f"{c.observed} responders observed among {c.n} new episodes, "
        f"{c.expected:.1f} expected from the champion's calibrated probabilities: "
        f"difference {_share(c)} of the episodes; fails when it departs by more "
        f"than {s.calibration_margin} with p < {s.alpha}/2 (p={_p(p)}): inflated "
        "or deflated outcomes"
    )
    return GateCheck(
        "calibration", c.difference, s.calibration_margin, not departs, message
    )


def _share(c: Calibration) -> str:
    if c.se is None:
        return f"{c.difference:+.3f}"
    return f"{c.difference:+.3f} (SE {c.se:.3f})"


def _drug_calibration(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    """A drug whose new outcomes depart from the champion's expectation beyond
    what cohort effects allow (Bonferroni over the drugs), and still depart at
    level alpha without its most departing tumour type: one new DRUP cohort far
    from the drug's rate is what its random effect predicts, a corruption of the
    drug's outcomes moves all its tumour types."""
    rule = f"drugs with >= {s.drug_min_episodes} new episodes"
    eligible = [c for c in m.drug_calibration if c.n >= s.drug_min_episodes]
    threshold = s.drug_calibration_margin
    if not eligible:
        return GateCheck(
            "drug_calibration", None, threshold, True, f"no {rule}: not checked"
        )
    level = s.alpha / 2 / len(eligible)
    p_values = {c.drug: c.p_beyond(threshold) for c in eligible}
    departed = [
        c
        for c in eligible
        if (p_values[c.drug] or 1.0) < level and _beyond_one_cohort(c, s)
    ]
    worst = max(eligible, key=lambda c: abs(c.difference))
    detail = ", ".join(
        f"{c.drug} {c.observed}/{c.n} observed vs {c.expected:.1f} expected "
        f"({_share(c)}, p={_p(p_values[c.drug])}{_rest(c, threshold)})"
        for c in departed or [worst]
    )
    message = (
        f"{len(eligible)} {rule}; {'departed' if departed else 'furthest'}: "
        f"{detail}; a drug fails when its observed rate departs from the "
        f"champion's expectation by more than {threshold} with p < "
        f"{s.alpha}/2/{len(eligible)}, and without its most departing tumour type "
        f"with p < {s.alpha}/2"
    )
    return GateCheck(
        "drug_calibration", worst.difference, threshold, not departed, message
    )


def _beyond_one_cohort(c: Calibration, s: GateConfig) -> bool:
    rest = c.rest
    if rest is None:
        return True
    p = rest.p_beyond(s.drug_calibration_margin)
    same_way = rest.difference * c.difference > 0
    return same_way and p is not None and p < s.alpha / 2


def _rest(c: Calibration, margin: float) -> str:
    if c.rest is None:
        return ""
    return f"; {c.rest.drug}: {c.rest.difference:+.3f}, p={_p(c.rest.p_beyond(margin))}"


def _drug_history(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    """A drug whose new outcomes go against its cohorts' history beyond the
    drift the other drugs show (one-sided, Bonferroni over the drugs): cohorts
    that responded well before respond badly now and the other way round, as
    when the drug's outcomes were turned over."""
    rule = (
        f"drugs with >= {s.drug_min_episodes} new episodes in cohorts the "
        "champion's training data holds"
    )
    eligible = [h for h in m.drug_history if h.n >= s.drug_min_episodes]
    if not s.check_history:
        return GateCheck("drug_history", None, s.alpha, True,
                         "not required (gate.check_history: false)")  # fmt: skip
    if not eligible:
        return GateCheck("drug_history", None, s.alpha, True, f"no {rule}: not checked")
    level = s.alpha / len(eligible)
    against = [h for h in eligible if h.p_value < level]
    worst = min(eligible, key=lambda h: h.p_value)
    detail = ", ".join(
        f"{h.drug} z={h.z:+.2f} over {h.cohorts} cohorts (n={h.n}; drift of the "
        f"other drugs phi={h.phi:.2f}; p={_p(h.p_value)})"
        for h in against or [worst]
    )
    found = "against their history" if against else "least concordant"
    message = (
        f"{len(eligible)} {rule}; {found}: "
        f"{detail}; a drug fails when its new outcomes go against its cohorts' "
        f"earlier rates with p < {s.alpha}/{len(eligible)}, its z scaled by the "
        "other drugs' drift"
    )
    # The value shown is the smallest p-value, the threshold its Bonferroni level.
    return GateCheck("drug_history", worst.p_value, level, not against, message)


def _response_rate(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    r = m.response_rate
    threshold = s.response_rate_margin
    if r is None:
        return GateCheck(
            "response_rate",
            None,
            threshold,
            False,
            "the drift report has no response rate: cannot be computed",
        )
    bound = abs(r.difference) - norm.ppf(1 - s.alpha / 2) * r.se
    message = (
        f"response rate {r.new:.3f} in {r.n_new} new episodes vs {r.reference:.3f} "
        f"in the champion's {r.n_reference}: change {r.difference:+.3f} (SE "
        f"{r.se:.3f}); fails when its {_level(s)} interval lies more than "
        f"{threshold} from 0"
    )
    return GateCheck(
        "response_rate",
        r.difference,
        threshold,
        bool(bound <= threshold + _TOLERANCE),
        message,
    )
