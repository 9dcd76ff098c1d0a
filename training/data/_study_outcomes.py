"""Treatment outcomes of a study, and matching them to the profiles.

The rules are in `training.data._cbioportal`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import Profile
from training.data._study_files import Rejection, RejectionLog, Table, _column
from training.data._study_mapping import (
    ResponseRule,
    StudyFormatError,
    StudyMapping,
)

# --- treatments and matching ---------------------------------------------------------


def treatment_rows(
    table: Table, mapping: StudyMapping, *, study_id: str, log: RejectionLog
) -> pd.DataFrame:
    """Validated treatment rows (with their ``_line``); bad rows rejected."""
    spec, rule = mapping.treatments, mapping.response
    sample_col = _column(table, spec, "sample", required=True)
    drug_col = (
        None if spec.constant_drug else _column(table, spec, "drug", required=True)
    )
    responded_col = _column(table, spec, "responded")
    best_col = _column(table, spec, "best_response")
    weeks_col = _column(table, spec, "pfs_weeks")
    date_col = _column(table, spec, "start_date")
    if responded_col is None and best_col is None:
        raise StudyFormatError(
            f"{table.name}: neither a responded column ({spec.responded!r}) nor a "
            f"best-response column ({spec.best_response!r}); one is required"
        )
    frame = table.frame
    log.counts["treatments.rows"] += len(frame)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[sample_col].isna(), sample_col, "empty sample id")
    drugs = (
        (
            pd.Series(spec.constant_drug, index=frame.index)
            if drug_col is None
            else frame[drug_col]
        )
        .str.strip()
        .str.lower()
    )
    ok = log.keep(table, ok, drugs.isna(), drug_col, "empty drug")
    weeks, bad = _numbers(table, weeks_col)
    ok = log.keep(table, ok, bad, weeks_col, "progression-free weeks not a number")
    dates, bad = _dates(table, date_col)
    ok = log.keep(table, ok, bad, date_col, "start date is not YYYY-MM-DD")
    responded, label_rule = _responses(
        table, ok, responded_col, best_col, weeks, rule, log
    )
    ok &= responded.notna()
    out = pd.DataFrame(
        {
            "sample_id": frame[sample_col],
            "drug": drugs,
            "responded": responded,
            "label_rule": label_rule,
            "cohort_id": study_id,
            "_line": table.lines,
        }
    )
    if best_col is not None:
        out["best_response"] = frame[best_col]
    if date_col is not None:
        out["start_date"] = dates
    out = out[ok]
    key = ["sample_id", "drug"] + (["start_date"] if date_col else [])
    repeated = out.duplicated(key)
    log.reject(
        table,
        repeated.reindex(frame.index, fill_value=False),
        sample_col,
        "repeats an earlier treatment row (same sample, drug and start date)",
    )
    return out[~repeated].astype({"responded": "int64"})


def _numbers(table: Table, column: str | None) -> tuple[pd.Series, pd.Series]:
    """Numeric values (NaN if empty) and where a value is not a number."""
    index = table.frame.index
    if column is None:
        return pd.Series(np.nan, index=index), pd.Series(False, index=index)
    values = pd.to_numeric(table.frame[column], errors="coerce")
    return values, table.frame[column].notna() & values.isna()


def _dates(table: Table, column: str | None) -> tuple[pd.Series, pd.Series]:
    """Dates (NaT if empty) and where a value is not a YYYY-MM-DD date."""
    index = table.frame.index
    if column is None:
        return pd.Series(pd.NaT, index=index), pd.Series(False, index=index)
    dates = pd.to_datetime(table.frame[column], format="%Y-%m-%d", errors="coerce")
    return dates, table.frame[column].notna() & dates.isna()


def _responses(
    table: Table,
    ok: pd.Series,
    responded_col: str | None,
    best_col: str | None,
    weeks: pd.Series,
    rule: ResponseRule,
    log: RejectionLog,
) -> tuple[pd.Series, pd.Series]:
    frame = table.frame
    responded = pd.Series(np.nan, index=frame.index)
    if responded_col is not None:
        given = frame[responded_col].map({"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0})
        bad = frame[responded_col].notna() & given.isna()
        ok = log.keep(table, ok, bad, responded_col, "responded must be 0 or 1")
        responded = given.where(ok)
    label_rule = pd.Series("given", index=frame.index).where(responded.notna())
    derived = label_best_responses(
        table, ok & responded.isna(), best_col, weeks, rule=rule, log=log
    )
    label_rule = label_rule.where(derived.isna(), rule.label_rule)
    return responded.fillna(derived), label_rule


def label_best_responses(
    table: Table,
    rows: pd.Series,
    column: str | None,
    pfs_weeks: pd.Series,
    *,
    rule: ResponseRule,
    log: RejectionLog,
) -> pd.Series:
    """responded (1.0 / 0.0) of the given rows from best response; NaN = rejected."""
    values = [None] * len(rows) if column is None else table.frame[column].tolist()
    weeks = pfs_weeks.astype("float64").tolist()
    out = [np.nan] * len(rows)
    for row in np.flatnonzero(rows.to_numpy(dtype=bool)).tolist():
        best = values[row]
        outcome = (
            "no outcome: responded and best response are empty"
            if best is None
            else rule.classify(best, weeks[row])
        )
        if isinstance(outcome, str):
            log.rejected.append(
                Rejection(table.name, int(table.lines[row]), column, outcome)
            )
        else:
            out[row] = float(outcome)
    return pd.Series(out, index=table.frame.index, dtype="float64")


def match_samples(
    profiles: dict[str, Profile],
    treatments: pd.DataFrame,
    seen: pd.DataFrame,
    *,
    treatment_table: Table,
    sample_column: str,
    log: RejectionLog,
) -> tuple[tuple[Profile, ...], pd.DataFrame]:
    """Keep samples that have both a profile and an outcome; reject the rest."""
    has_profile = treatments["sample_id"].isin(profiles.keys())
    for line in treatments.loc[~has_profile, "_line"]:
        log.rejected.append(
            Rejection(
                treatment_table.name,
                int(line),
                sample_column,
                "sample has no usable genomic data (no profile)",
            )
        )
    with_outcome = set(treatments["sample_id"])
    first = seen.drop_duplicates("sample_id")
    for sample, file, line, column, number in first[
        ["sample_id", "file", "line", "column", "column_number"]
    ].itertuples(index=False):
        if sample in profiles and sample not in with_outcome:
            log.rejected.append(
                Rejection(
                    file,
                    int(line),
                    column,
                    "sample has genomic data but no usable treatment outcome",
                    None if pd.isna(number) else int(number),
                )
            )
    log.counts["samples.outcome_without_profile"] = int(
        treatments.loc[~has_profile, "sample_id"].nunique()
    )
    log.counts["samples.profile_without_outcome"] = len(profiles.keys() - with_outcome)
    kept = tuple(p for s, p in profiles.items() if s in with_outcome)
    return kept, treatments[has_profile].drop(columns="_line").reset_index(drop=True)
