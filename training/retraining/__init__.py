"""Retrain when data grow: drift report, a challenger compared with the champion on the
episodes it never saw, and the promotion gate."""

from training.retraining._drift import drift_report
from training.retraining._drift_tracking import log_drift
from training.retraining._gate import (
    DrugComparison,
    Estimate,
    GateResult,
    HoldOutMetrics,
    apply_gate,
    refuse,
)
from training.retraining._holdout import expected_auroc, kind_chosen_without
from training.retraining._retrain import RetrainResult, retrain

__all__ = [
    "DrugComparison",
    "Estimate",
    "GateResult",
    "HoldOutMetrics",
    "RetrainResult",
    "apply_gate",
    "drift_report",
    "expected_auroc",
    "kind_chosen_without",
    "log_drift",
    "refuse",
    "retrain",
]
