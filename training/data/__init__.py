"""Cohorts: the profile + treatment tables every loader produces, and the loaders."""

from training.data._cbioportal import (
    EXCLUDED_VARIANT_CLASSES,
    MAPPINGS_FOLDER,
    ImportResult,
    Rejection,
    ResponseRule,
    StudyFormatError,
    StudyMapping,
    import_study,
    load_mapping,
)
from training.data._cohort import REQUIRED_TREATMENT_COLUMNS, Cohort
from training.data._fetch import GDSC_FOLDER, fetch_gdsc
from training.data._gdsc import load_gdsc
from training.data._ici import (
    import_ici_pooled,
    import_liu2019,
    load_ici_pooled,
    load_liu2019,
)
from training.data._simulate import DrupParams, SimulatedCohort, simulate_drup
from training.data._store import read_cohort, write_cohort

__all__ = [
    "EXCLUDED_VARIANT_CLASSES",
    "GDSC_FOLDER",
    "MAPPINGS_FOLDER",
    "REQUIRED_TREATMENT_COLUMNS",
    "Cohort",
    "DrupParams",
    "ImportResult",
    "Rejection",
    "ResponseRule",
    "SimulatedCohort",
    "StudyFormatError",
    "StudyMapping",
    "fetch_gdsc",
    "import_ici_pooled",
    "import_liu2019",
    "import_study",
    "load_gdsc",
    "load_ici_pooled",
    "load_liu2019",
    "load_mapping",
    "read_cohort",
    "simulate_drup",
    "write_cohort",
]
