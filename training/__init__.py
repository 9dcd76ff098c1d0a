"""Training: config, grouped cross-validation, per-drug fitting, MLflow tracking."""

from training._config import Config, load_config
from training._evaluate import summarise, top_shap_features
from training._fit import cross_validate, fit_booster, fit_final, trainable_drugs
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

__all__ = [
    "Config",
    "CrossValidation",
    "champion_version",
    "client_for",
    "cross_validate",
    "cross_validate_cohort",
    "cv_table",
    "fit_booster",
    "fit_bundle",
    "fit_final",
    "load_config",
    "log_training",
    "register_bundle",
    "select_drugs",
    "summarise",
    "top_shap_features",
    "train_bundle",
    "trainable_drugs",
    "training_run",
]
