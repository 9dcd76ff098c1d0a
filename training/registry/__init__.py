"""Record and promote models: MLflow runs, registered versions, aliases with their
audit log, lineage, history, the promotion lock and the model card."""

from training.registry._aliases import (
    audit_log,
    champion_is_current,
    champion_version,
    default_user,
    move_alias,
    promote,
    register_bundle,
    register_version,
    rollback,
    set_champion,
)
from training.registry._history import VersionRecord, version_history
from training.registry._lineage import SHORT_HASH
from training.registry._lock import LockTimeoutError, promotion_lock
from training.registry._model_card import (
    MODEL_CARD,
    model_card,
    registry_description,
    summarise_cohort,
)
from training.registry._recovery import Recovery, recover
from training.registry._runs import (
    CohortUse,
    client_for,
    fail_orphaned_runs,
    fluent_store,
    log_cohort,
    log_evaluation,
    log_explanations,
    log_training,
    run_params,
    tracked_run,
)
from training.registry._transaction import (
    CHALLENGER,
    CHAMPION,
    MAX_REASON,
    PREVIOUS,
    ROLLED_BACK,
    AliasMove,
    AliasTransaction,
    alias_section,
    current_aliases,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "MAX_REASON",
    "MODEL_CARD",
    "PREVIOUS",
    "ROLLED_BACK",
    "SHORT_HASH",
    "AliasMove",
    "AliasTransaction",
    "CohortUse",
    "LockTimeoutError",
    "Recovery",
    "VersionRecord",
    "alias_section",
    "audit_log",
    "champion_is_current",
    "champion_version",
    "client_for",
    "current_aliases",
    "default_user",
    "fail_orphaned_runs",
    "fluent_store",
    "log_cohort",
    "log_evaluation",
    "log_explanations",
    "log_training",
    "model_card",
    "move_alias",
    "promote",
    "promotion_lock",
    "recover",
    "register_bundle",
    "register_version",
    "registry_description",
    "rollback",
    "run_params",
    "set_champion",
    "summarise_cohort",
    "tracked_run",
    "version_history",
]
