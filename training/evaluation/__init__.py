"""Evaluation the field trusts (DESIGN.md section 4): honest splits, baselines on
the same folds, metrics with grouped-bootstrap intervals, and a report.

Splits (`grouped_folds`, `tumour_type_folds`, `temporal_folds`,
`cross_study_folds`) give the folds; `evaluate_folds` cross-validates the model
and fits every baseline (`fit_baselines`) inside the training folds, then scores
the held-out episodes (`score_predictions`); `write_report` writes the JSON and
HTML, `log_evaluation` logs them to MLflow.
"""

from training.evaluation._baselines import (
    BASELINES,
    ShrunkRates,
    fit_baselines,
    shrunk_rates,
)
from training.evaluation._biology import (
    ASSOCIATIONS,
    Association,
    association_table,
    check_associations,
)
from training.evaluation._bootstrap import (
    auprc,
    auroc,
    bootstrap,
    bootstrap_weights,
    brier,
    calibration_intercept,
    calibration_slope,
    percentile_interval,
)
from training.evaluation._metrics import (
    THRESHOLDS,
    decision_curve,
    net_benefit,
    reliability_curve,
    score_episodes,
)
from training.evaluation._mlflow import log_evaluation, run_metrics
from training.evaluation._protocol import (
    Evaluation,
    auroc_table,
    evaluate_folds,
    prediction_frame,
    score_predictions,
)
from training.evaluation._report import plotted_drugs, render_html, write_report
from training.evaluation._splits import (
    SPLITS,
    TRAIN_ONLY,
    Split,
    cross_study_folds,
    grouped_folds,
    temporal_folds,
    tumour_type_folds,
)

__all__ = [
    "ASSOCIATIONS",
    "BASELINES",
    "SPLITS",
    "THRESHOLDS",
    "TRAIN_ONLY",
    "Association",
    "Evaluation",
    "ShrunkRates",
    "Split",
    "association_table",
    "auprc",
    "auroc",
    "auroc_table",
    "bootstrap",
    "bootstrap_weights",
    "brier",
    "calibration_intercept",
    "calibration_slope",
    "check_associations",
    "cross_study_folds",
    "decision_curve",
    "evaluate_folds",
    "fit_baselines",
    "grouped_folds",
    "log_evaluation",
    "net_benefit",
    "percentile_interval",
    "plotted_drugs",
    "prediction_frame",
    "reliability_curve",
    "render_html",
    "run_metrics",
    "score_episodes",
    "score_predictions",
    "shrunk_rates",
    "temporal_folds",
    "tumour_type_folds",
    "write_report",
]
