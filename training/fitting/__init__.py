"""Fit the bundle: grouped cross-validation of the candidates (tumour-type rate,
known biomarker, per-drug and pooled boosters), the per-drug choice between them,
calibration and uncertainty, and the explanation summaries stored with it."""

from training.fitting._boosters import (
    LabelledRows,
    Trainer,
    fit_booster,
    fold_matrices,
    fold_vectorizers,
    trainable_drugs,
)
from training.fitting._cross_validation import (
    COLUMNS,
    CrossValidation,
    cross_validate_cohort,
    lowest_brier,
)
from training.fitting._dask import DaskTrainer
from training.fitting._folds import assign_folds
from training.fitting._pipeline import select_drugs, train_bundle
from training.fitting._plan import FitPlan
from training.fitting._rates import fit_rates, shrunk_rates
from training.fitting._subgroups import MIN_SELECTED, discover_subgroups, rule_carriers
from training.fitting._summaries import (
    MIN_CARRIERS,
    TOP_FEATURES,
    binary_columns,
    carrier_counts,
    carrier_frame,
    top_shap_features,
)
from training.fitting._uncertainty import (
    calibration_method,
    episode_frame,
    fit_calibrator,
    fit_domain,
    fit_episodes,
    fit_uncertainty,
)

__all__ = [
    "COLUMNS",
    "MIN_CARRIERS",
    "MIN_SELECTED",
    "TOP_FEATURES",
    "CrossValidation",
    "DaskTrainer",
    "FitPlan",
    "LabelledRows",
    "Trainer",
    "assign_folds",
    "binary_columns",
    "calibration_method",
    "carrier_counts",
    "carrier_frame",
    "cross_validate_cohort",
    "discover_subgroups",
    "episode_frame",
    "fit_booster",
    "fit_calibrator",
    "fit_domain",
    "fit_episodes",
    "fit_rates",
    "fit_uncertainty",
    "fold_matrices",
    "fold_vectorizers",
    "lowest_brier",
    "rule_carriers",
    "select_drugs",
    "shrunk_rates",
    "top_shap_features",
    "train_bundle",
    "trainable_drugs",
]
