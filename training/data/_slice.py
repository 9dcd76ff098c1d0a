"""Cut a cohort by treatment date, e.g. to replay its history one period at a time."""

from __future__ import annotations

from datetime import date

import pandas as pd

from training.data._cohort import Cohort
from training.data._store import TREATMENTS_FILE

DATE_COLUMN = "start_date"


def slice_by_date(
    cohort: Cohort, *, start: date | None = None, end: date | None = None
) -> Cohort:
    """The episodes that started in ``[start, end)`` and their samples' profiles.

    Parameters
    ----------
    cohort
        A cohort whose treatments have a ``start_date`` column (ISO dates).
    start
        First day kept (inclusive); None keeps everything before `end`.
    end
        First day no longer kept (exclusive); None keeps everything from `start`.

    Episodes without a date are dropped; profiles are kept only for samples with
    an episode in range.
    """
    if start is not None and end is not None and end <= start:
        raise ValueError(f"the end date {end} must be after the start date {start}")
    dates = _episode_dates(cohort.treatments)
    keep = dates.notna()
    if start is not None:
        keep &= dates >= pd.Timestamp(start)
    if end is not None:
        keep &= dates < pd.Timestamp(end)
    treatments = cohort.treatments[keep.to_numpy()]
    samples = set(treatments["sample_id"])
    return Cohort(
        profiles=tuple(p for p in cohort.profiles if p.sample_id in samples),
        treatments=treatments,
        population=cohort.population,
        endpoint=cohort.endpoint,
    )


def _episode_dates(treatments: pd.DataFrame) -> pd.Series:
    if DATE_COLUMN not in treatments.columns:
        raise ValueError(
            f"{TREATMENTS_FILE} has no {DATE_COLUMN!r} column, so episodes cannot "
            f"be cut by date; columns are {list(treatments.columns)}"
        )
    raw = treatments[DATE_COLUMN]
    dates = pd.to_datetime(raw, format="ISO8601", errors="coerce")
    bad = dates.isna() & raw.notna()
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise ValueError(
            f"{TREATMENTS_FILE} line {line}: {DATE_COLUMN} {raw[bad].iloc[0]!r} is "
            f"not a date; accepted: ISO dates such as 2021-01-31 "
            f"({int(bad.sum())} such value(s))"
        )
    return dates
