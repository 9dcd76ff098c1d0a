"""Training: config, grouped cross-validation, per-drug fitting, MLflow tracking."""

from training._config import Config, load_config
from training._fit import cross_validate, fit_booster, fit_final, trainable_drugs
from training._pipeline import select_drugs, train_bundle
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
    "champion_version",
    "client_for",
    "cross_validate",
    "cv_table",
    "fit_booster",
    "fit_final",
    "load_config",
    "log_training",
    "register_bundle",
    "select_drugs",
    "train_bundle",
    "trainable_drugs",
    "training_run",
]
