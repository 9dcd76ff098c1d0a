"""Cohorts: the profile + treatment tables every loader produces, and the loaders."""

from training.data._cohort import REQUIRED_TREATMENT_COLUMNS, Cohort
from training.data._fetch import GDSC_FOLDER, fetch_gdsc
from training.data._gdsc import load_gdsc

__all__ = [
    "GDSC_FOLDER",
    "REQUIRED_TREATMENT_COLUMNS",
    "Cohort",
    "fetch_gdsc",
    "load_gdsc",
]
