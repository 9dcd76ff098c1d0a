"""Training: config, grouped cross-validation, per-drug fitting, MLflow tracking."""

from training._config import Config, GateConfig, UncertaintyConfig, load_config
from training._dask import DaskTrainer
from training._drift import DriftReport, drift_report
from training._drift_tracking import log_drift, write_drift
from training._evaluate import top_shap_features
from training._fit import (
    Trainer,
    cross_validate,
    fit_booster,
    fit_final,
    trainable_drugs,
)
from training._gate import (
    DrugComparison,
    Estimate,
    GateCheck,
    GateResult,
    HoldOutMetrics,
    apply_gate,
)
from training._history import VersionRecord, version_history
from training._holdout import compare_holdout, expected_auroc, holdout_frame
from training._lineage import code_version, lineage_tags
from training._lock import LockTimeoutError, promotion_lock
from training._model_card import model_card, summarise_cohort
from training._pipeline import (
    CrossValidation,
    cross_validate_cohort,
    fit_bundle,
    select_drugs,
    train_bundle,
)
from training._retrain import RetrainResult, retrain
from training._tracking import (
    MAX_REASON,
    AliasMove,
    alias_version,
    audit_log,
    champion_is_current,
    champion_version,
    client_for,
    cv_table,
    default_user,
    log_training,
    move_alias,
    promote,
    register_bundle,
    register_version,
    rollback,
    run_params,
    set_champion,
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
from training.explanation import summarise_explanations
from training.explanation._report import DrugReport, explain_drugs
from training.explanation._writing import (
    check_replaceable,
    log_explanations,
    write_explanations,
)

__all__ = [
    "MAX_REASON",
    "AliasMove",
    "Config",
    "CrossValidation",
    "DaskTrainer",
    "DriftReport",
    "DrugComparison",
    "DrugReport",
    "Estimate",
    "GateCheck",
    "GateConfig",
    "GateResult",
    "HoldOutMetrics",
    "LockTimeoutError",
    "RetrainResult",
    "Trainer",
    "UncertaintyConfig",
    "VersionRecord",
    "alias_version",
    "apply_gate",
    "audit_log",
    "calibration_method",
    "champion_is_current",
    "champion_version",
    "check_replaceable",
    "client_for",
    "code_version",
    "compare_holdout",
    "conformal_threshold",
    "cross_validate",
    "cross_validate_cohort",
    "cv_table",
    "default_user",
    "drift_report",
    "episode_frame",
    "expected_auroc",
    "explain_drugs",
    "fit_booster",
    "fit_bundle",
    "fit_calibrator",
    "fit_domain",
    "fit_final",
    "fit_uncertainty",
    "held_out_uncertainty",
    "holdout_frame",
    "lineage_tags",
    "load_config",
    "log_drift",
    "log_explanations",
    "log_training",
    "model_card",
    "move_alias",
    "promote",
    "promotion_lock",
    "register_bundle",
    "register_version",
    "retrain",
    "rollback",
    "run_params",
    "select_drugs",
    "set_champion",
    "summarise_cohort",
    "summarise_explanations",
    "summarise_uncertainty",
    "top_shap_features",
    "train_bundle",
    "trainable_drugs",
    "training_run",
    "version_history",
    "write_drift",
    "write_explanations",
]
