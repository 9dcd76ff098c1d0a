"""Reading tumour profiles from files: profile JSON, JSON Lines and CSV/TSV tables,
and a Hartwig sample folder (PURPLE, LINX, CHORD); each error names the file, line
and column, never the value."""

from features.readers._errors import ProfileFileError
from features.readers._hartwig import (
    HRD_POSITIVE_SCORE,
    MIN_DRIVER_LIKELIHOOD,
    is_hartwig_folder,
    read_hartwig_sample,
)
from features.readers._json import (
    read_profile_json,
    read_profile_json_text,
    read_profile_jsonl,
    read_profile_lines,
)
from features.readers._table import PROFILE_TABLE_COLUMNS, read_profile_table

__all__ = [
    "HRD_POSITIVE_SCORE",
    "MIN_DRIVER_LIKELIHOOD",
    "PROFILE_TABLE_COLUMNS",
    "ProfileFileError",
    "is_hartwig_folder",
    "read_hartwig_sample",
    "read_profile_json",
    "read_profile_json_text",
    "read_profile_jsonl",
    "read_profile_lines",
    "read_profile_table",
]
