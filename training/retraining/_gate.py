"""The promotion gate: may a retrained challenger replace the champion?

A pure function of metrics (`apply_gate`): `compare_holdout` measures
champion and challenger on the same episodes, the episodes the champion never
saw, and the gate checks them against the thresholds in ``mlflow.yml``
(``gate:``, `training.config.GateConfig`). Every check is reported, passed or not, so a
refusal says all of what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.config import GateConfig

Interval = tuple[float, float]
# Margins are inclusive; differences of rounded metrics should not fail by 1e-17.
_TOLERANCE = 1e-9
DRUG_ALPHA = 0.05  # family-wise error of calling some drug degraded by chance


@dataclass(frozen=True)
class Estimate:
    """A metric on the hold-out and its grouped-bootstrap 95% interval."""

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
    delta_ci: Interval | None = None  # paired bootstrap 95% interval
    # One-sided bootstrap p-value of "the challenger is not worse": the share of
    # resamples where its AUROC is at least the champion's.
    p_value: float | None = None

    @property
    def delta(self) -> float | None:
        """Challenger minus champion, or None when either is undefined."""
        if self.champion is None or self.challenger is None:
            return None
        return self.challenger - self.champion


@dataclass(frozen=True)
class HoldOutMetrics:
    """Champion and challenger on the same hold-out episodes (see
    `compare_holdout`); deltas are challenger minus champion."""

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
        _consistency(metrics, settings),
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
    return _at_least(
        "holdout_auroc", m.auroc_delta.value, -s.auroc_margin,
        f"hold-out AUROC challenger {m.auroc_challenger} vs champion "
        f"{m.auroc_champion}: difference {m.auroc_delta}; may fall at most "
        f"{s.auroc_margin} below",
    )  # fmt: skip


def _holdout_brier(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    delta = m.brier_delta.value
    check = _at_least(
        "holdout_brier", None if delta is None else -delta, -s.brier_margin,
        f"hold-out Brier challenger {m.brier_challenger} vs champion "
        f"{m.brier_champion}: difference {m.brier_delta}; may rise at most "
        f"{s.brier_margin}",
    )  # fmt: skip
    # Report the difference as measured (higher Brier = worse), not negated.
    return GateCheck(check.name, delta, s.brier_margin, check.passed, check.message)


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
    level = DRUG_ALPHA / len(eligible)
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
        f"bootstrap p < {DRUG_ALPHA}/{len(eligible)}"
    )
    return GateCheck("drug_auroc", worst.delta, threshold, not degraded, message)


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cv_auroc(m: HoldOutMetrics, s: GateConfig) -> GateCheck:
    delta = None
    if m.cv_auroc_champion is not None and m.cv_auroc_challenger is not None:
        delta = m.cv_auroc_challenger - m.cv_auroc_champion
    champion, challenger = (
        Estimate(m.cv_auroc_champion),
        Estimate(m.cv_auroc_challenger),
    )
    return _at_least(
        "cv_auroc", delta, -s.cv_auroc_margin,
        f"median per-drug CV AUROC challenger {challenger} vs champion {champion}; "
        f"may fall at most {s.cv_auroc_margin}",
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
