"""The ResponderModel bundle: how it is saved, loaded, verified and explained."""

from models._bundle import (
    BundleIntegrityError,
    ResponderModel,
    bundle_digest,
    verify_bundle,
)
from models._calibration import Calibrator, logit
from models._conformal import ConformalThresholds, GroupThresholds, prediction_sets
from models._dask_scoring import (
    partition_rows,
    rank_drugs_on_dask,
)
from models._domain import ProfileDomain, gene_token
from models._explanations import (
    MIN_CELL,
    Carriers,
    Condition,
    DrugExplanation,
    ExplanationSet,
    FeatureImportance,
    SubgroupRule,
)
from models._forest import Forest
from models._interval import INTERVAL_LEVEL, ScoreBins, wilson_interval
from models._metadata import (
    FORMAT_VERSION,
    BundleMetadata,
    CvMetrics,
    DrugInfo,
    Endpoint,
    Population,
    ServedBy,
)
from models._offset import BiomarkerFit, Offsets, TumourTypeRates
from models._patient import (
    KeyAlteration,
    PatientExplanation,
    UnknownDrugError,
    WaterfallStep,
    explain_patient,
)
from models._pyfunc import (
    BUNDLE_ARTIFACT,
    log_pyfunc_model,
    profiles_from_frame,
    ranked_table,
)
from models._ranking import (
    CELL_LINE_REASON,
    EXPLAIN_TOP,
    RANK_BY,
    DrugScore,
    FeatureContribution,
    RankBy,
    rank_drugs,
)
from models._registry import (
    BUNDLE_DIGEST_TAG,
    BUNDLE_PATH_TAG,
    alias_version,
    download_bundle,
    load_registered_bundle,
    load_registered_version,
    redact_credentials,
)
from models._score_table import SCORE_COLUMNS, score_columns
from models._uncertainty import Assessment, DrugUncertainty, UncertaintyModel

__all__ = [
    "BUNDLE_ARTIFACT",
    "BUNDLE_DIGEST_TAG",
    "BUNDLE_PATH_TAG",
    "CELL_LINE_REASON",
    "EXPLAIN_TOP",
    "FORMAT_VERSION",
    "INTERVAL_LEVEL",
    "MIN_CELL",
    "RANK_BY",
    "SCORE_COLUMNS",
    "Assessment",
    "BiomarkerFit",
    "BundleIntegrityError",
    "BundleMetadata",
    "Calibrator",
    "Carriers",
    "Condition",
    "ConformalThresholds",
    "CvMetrics",
    "DrugExplanation",
    "DrugInfo",
    "DrugScore",
    "DrugUncertainty",
    "Endpoint",
    "ExplanationSet",
    "FeatureContribution",
    "FeatureImportance",
    "Forest",
    "GroupThresholds",
    "KeyAlteration",
    "Offsets",
    "PatientExplanation",
    "Population",
    "ProfileDomain",
    "RankBy",
    "ResponderModel",
    "ScoreBins",
    "ServedBy",
    "SubgroupRule",
    "TumourTypeRates",
    "UncertaintyModel",
    "UnknownDrugError",
    "WaterfallStep",
    "alias_version",
    "bundle_digest",
    "download_bundle",
    "explain_patient",
    "gene_token",
    "load_registered_bundle",
    "load_registered_version",
    "log_pyfunc_model",
    "logit",
    "partition_rows",
    "prediction_sets",
    "profiles_from_frame",
    "rank_drugs",
    "rank_drugs_on_dask",
    "ranked_table",
    "redact_credentials",
    "score_columns",
    "verify_bundle",
    "wilson_interval",
]
