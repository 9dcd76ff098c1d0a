"""Cohorts: the profile + treatment tables every loader produces, and the loaders."""

from training.data._cbioportal import ImportResult, import_study
from training.data._ccle import CCLE_FOLDER, load_ccle
from training.data._cohort import REQUIRED_TREATMENT_COLUMNS, Cohort
from training.data._drup_params import DrupParams
from training.data._fetch import GDSC_FOLDER, fetch_gdsc
from training.data._gdsc import load_gdsc
from training.data._ici import (
    import_ici_pooled,
    import_liu2019,
    load_ici_pooled,
    load_liu2019,
)
from training.data._simulate import SimulatedCohort, simulate_drup
from training.data._store import read_cohort, write_cohort
from training.data._study_files import Rejection
from training.data._study_mapping import (
    EXCLUDED_VARIANT_CLASSES,
    MAPPINGS_FOLDER,
    ResponseRule,
    StudyFormatError,
    StudyMapping,
    load_mapping,
)

__all__ = [
    "CCLE_FOLDER",
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
    "load_ccle",
    "load_gdsc",
    "load_ici_pooled",
    "load_liu2019",
    "load_mapping",
    "read_cohort",
    "simulate_drup",
    "write_cohort",
]
