"""Judge a model honestly: splits, baselines fitted on the same folds, metrics with
bootstrap intervals, measured uncertainty and the evaluation report."""

from training.evaluation._baselines import fit_baselines
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
from training.evaluation._held_out_shap import (
    DrugFolds,
    HeldOutShap,
    feature_groups,
    fold_design,
    group_membership,
    held_out_shap,
    ranking_stability,
    shap_ranking,
)
from training.evaluation._metrics import (
    decision_curve,
    net_benefit,
    reliability_curve,
    score_episodes,
)
from training.evaluation._panel import PanelRow, load_panel, run_panel
from training.evaluation._plots import curves_png
from training.evaluation._protocol import (
    Evaluation,
    auroc_table,
    evaluate_folds,
    evaluate_origins,
)
from training.evaluation._ranking import paired_auroc, ranking_metrics
from training.evaluation._report import (
    REPORT_CSS,
    format_estimate,
    html_table,
    plain,
    plotted_drugs,
    write_report,
)
from training.evaluation._splits import (
    SPLITS,
    TRAIN_ONLY,
    cohort_folds,
    cross_study_folds,
    grouped_folds,
    leave_cohort_out_folds,
    prospective_origins,
    split_origins,
    temporal_folds,
    tumour_type_folds,
)
from training.evaluation._summary import run_metrics
from training.evaluation._uncertainty import held_out_uncertainty, summarise_uncertainty

__all__ = [
    "ASSOCIATIONS",
    "REPORT_CSS",
    "SPLITS",
    "TRAIN_ONLY",
    "Association",
    "DrugFolds",
    "Evaluation",
    "HeldOutShap",
    "PanelRow",
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
    "cohort_folds",
    "cross_study_folds",
    "curves_png",
    "decision_curve",
    "evaluate_folds",
    "evaluate_origins",
    "feature_groups",
    "fit_baselines",
    "fold_design",
    "format_estimate",
    "group_membership",
    "grouped_folds",
    "held_out_shap",
    "held_out_uncertainty",
    "html_table",
    "leave_cohort_out_folds",
    "load_panel",
    "net_benefit",
    "paired_auroc",
    "percentile_interval",
    "plain",
    "plotted_drugs",
    "prospective_origins",
    "ranking_metrics",
    "ranking_stability",
    "reliability_curve",
    "run_metrics",
    "run_panel",
    "score_episodes",
    "shap_ranking",
    "split_origins",
    "summarise_uncertainty",
    "temporal_folds",
    "tumour_type_folds",
    "write_report",
]
