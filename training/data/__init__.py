"""Cohorts: the profile + treatment tables every loader produces, and the loaders."""

from training.data._cbioportal import (
    ImportResult,
    StudyProfiles,
    import_study,
    read_genomic_files,
    read_study_profiles,
)
from training.data._ccle import CCLE_FOLDER, load_ccle
from training.data._cohort import REQUIRED_TREATMENT_COLUMNS, Cohort
from training.data._drup_params import DrupParams
from training.data._fetch import (
    DATASETS,
    GDSC_FOLDER,
    ChecksumError,
    DataSet,
    fetch_dataset,
)
from training.data._gdsc import load_gdsc
from training.data._ici import (
    import_ici_pooled,
    import_liu2019,
    load_ici_pooled,
    load_liu2019,
)
from training.data._simulate import SimulatedCohort, simulate_drup
from training.data._slice import slice_by_date
from training.data._store import (
    is_cohort_store,
    read_cohort,
    read_truth,
    resolve_cohort_folder,
    write_cohort,
)
from training.data._study_files import Rejection
from training.data._study_mapping import (
    EXCLUDED_VARIANT_CLASSES,
    MAPPINGS_FOLDER,
    ResponseRule,
    StudyFormatError,
    StudyMapping,
    load_mapping,
)
from training.data._versions import (
    AppendResult,
    CohortConflictError,
    CohortVersion,
    UnknownCohortVersionError,
    append_cohort,
    list_versions,
    read_cohort_version,
)

__all__ = [
    "CCLE_FOLDER",
    "DATASETS",
    "EXCLUDED_VARIANT_CLASSES",
    "GDSC_FOLDER",
    "MAPPINGS_FOLDER",
    "REQUIRED_TREATMENT_COLUMNS",
    "AppendResult",
    "ChecksumError",
    "Cohort",
    "CohortConflictError",
    "CohortVersion",
    "DataSet",
    "DrupParams",
    "ImportResult",
    "Rejection",
    "ResponseRule",
    "SimulatedCohort",
    "StudyFormatError",
    "StudyMapping",
    "StudyProfiles",
    "UnknownCohortVersionError",
    "append_cohort",
    "fetch_dataset",
    "import_ici_pooled",
    "import_liu2019",
    "import_study",
    "is_cohort_store",
    "list_versions",
    "load_ccle",
    "load_gdsc",
    "load_ici_pooled",
    "load_liu2019",
    "load_mapping",
    "read_cohort",
    "read_cohort_version",
    "read_genomic_files",
    "read_study_profiles",
    "read_truth",
    "resolve_cohort_folder",
    "simulate_drup",
    "slice_by_date",
    "write_cohort",
]
