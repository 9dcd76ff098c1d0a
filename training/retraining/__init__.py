"""Retrain when data grow: drift report, a challenger compared with the champion on the
episodes it never saw, and the promotion gate."""

from training.retraining._assess import Assessment, assess
from training.retraining._drift import drift_report
from training.retraining._drift_tracking import log_drift
from training.retraining._gate import (
    Calibration,
    DrugComparison,
    Estimate,
    GateResult,
    HoldOutMetrics,
    RateChange,
    apply_gate,
    refuse,
)
from training.retraining._holdout import (
    expected_auroc,
    kind_chosen_without,
    stratified_auroc,
)
from training.retraining._retrain import RetrainResult, retrain

__all__ = [
    "Assessment",
    "Calibration",
    "DrugComparison",
    "Estimate",
    "GateResult",
    "HoldOutMetrics",
    "RateChange",
    "RetrainResult",
    "apply_gate",
    "assess",
    "drift_report",
    "expected_auroc",
    "kind_chosen_without",
    "log_drift",
    "refuse",
    "retrain",
    "stratified_auroc",
]
