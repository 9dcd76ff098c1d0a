"""Training: config, grouped cross-validation, per-drug fitting, MLflow tracking."""

from training._config import Config, UncertaintyConfig, load_config
from training._evaluate import summarise, top_shap_features
from training._fit import cross_validate, fit_booster, fit_final, trainable_drugs
from training._model_card import model_card, summarise_cohort
from training._pipeline import (
    CrossValidation,
    cross_validate_cohort,
    fit_bundle,
    select_drugs,
    train_bundle,
)
from training._tracking import (
    champion_version,
    client_for,
    cv_table,
    log_training,
    register_bundle,
    training_run,
)
from training._uncertainty import (
    calibration_method,
    conformal_threshold,
    episode_frame,
    fit_calibrator,
    fit_domain,
    fit_uncertainty,
)
from training._uncertainty_report import held_out_uncertainty, summarise_uncertainty

__all__ = [
    "Config",
    "CrossValidation",
    "UncertaintyConfig",
    "calibration_method",
    "champion_version",
    "client_for",
    "conformal_threshold",
    "cross_validate",
    "cross_validate_cohort",
    "cv_table",
    "episode_frame",
    "fit_booster",
    "fit_bundle",
    "fit_calibrator",
    "fit_domain",
    "fit_final",
    "fit_uncertainty",
    "held_out_uncertainty",
    "load_config",
    "log_training",
    "model_card",
    "register_bundle",
    "select_drugs",
    "summarise",
    "summarise_cohort",
    "summarise_uncertainty",
    "top_shap_features",
    "train_bundle",
    "trainable_drugs",
    "training_run",
]
