"""Fit the bundle: grouped cross-validation of the candidates (tumour-type rate,
known biomarker, per-drug and pooled boosters), the per-drug choice between them,
calibration and uncertainty, and the explanation summaries stored with it."""

from training.fitting._boosters import (
    Trainer,
    fit_booster,
    fold_matrices,
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
from training.fitting._pipeline import fit_bundle, select_drugs, train_bundle
from training.fitting._rates import fit_rates, shrunk_rates
from training.fitting._subgroups import (
    MIN_SELECTED,
    best_rules,
    candidate_rules,
    describe,
    discover_subgroups,
    rule_carriers,
    select,
)
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
    "Trainer",
    "assign_folds",
    "best_rules",
    "binary_columns",
    "calibration_method",
    "candidate_rules",
    "carrier_counts",
    "carrier_frame",
    "cross_validate_cohort",
    "describe",
    "discover_subgroups",
    "episode_frame",
    "fit_booster",
    "fit_bundle",
    "fit_calibrator",
    "fit_domain",
    "fit_episodes",
    "fit_rates",
    "fit_uncertainty",
    "fold_matrices",
    "lowest_brier",
    "rule_carriers",
    "select",
    "select_drugs",
    "shrunk_rates",
    "top_shap_features",
    "train_bundle",
    "trainable_drugs",
]
