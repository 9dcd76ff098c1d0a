"""Clinical attributes of a study's samples, and one profile per sample.

The rules are in `training.data._cbioportal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from features import Alteration, Profile, canonical_tumour_type
from training.data._study_events import _EVENT_COLUMNS
from training.data._study_files import Rejection, RejectionLog, Table, _column
from training.data._study_mapping import (
    ProfileColumns,
    StudyFormatError,
    StudyMapping,
)

_MAX_ALTERATIONS: int = next(
    m.max_length
    for m in Profile.model_fields["alterations"].metadata
    if hasattr(m, "max_length")
)


# --- clinical attributes and profiles ------------------------------------------------


@dataclass(frozen=True)
class ClinicalAttributes:
    """Clinical attributes per sample, and the file line each value came from."""

    frame: pd.DataFrame  # index: sample id; attributes, _file, _line (+ _patient_*)
    patient_columns: frozenset[str] = frozenset()

    def value(self, sample: str, column: str | None) -> str | None:
        """The sample's value in column (None if missing)."""
        if column is None or sample not in self.frame.index:
            return None
        value: Any = self.frame.at[sample, column]
        return None if pd.isna(value) else str(value)

    def rejection(self, sample: str, column: str | None, reason: str) -> Rejection:
        """A rejection at the clinical row (sample or patient table) of a value."""
        prefix = "_patient" if column in self.patient_columns else ""
        row: Any = self.frame.loc[sample, [f"{prefix}_file", f"{prefix}_line"]]
        return Rejection(str(row.iloc[0]), int(row.iloc[1]), column, reason)


def clinical_attributes(
    samples: Table | None,
    patients: Table | None,
    mapping: StudyMapping,
    log: RejectionLog,
) -> ClinicalAttributes:
    """Sample attributes, joined with their patient's (sample values win)."""
    patient_spec = mapping.clinical_patient
    if samples is None:
        if patients is None:
            return ClinicalAttributes(pd.DataFrame(columns=["_file", "_line"]))
        key = _column(patients, patient_spec, "patient", required=True)
        return ClinicalAttributes(_unique_rows(patients, key, log))
    sample_spec = mapping.clinical_sample
    sample_key = _column(samples, sample_spec, "sample", required=True)
    attributes = _unique_rows(samples, sample_key, log)
    if patients is None:
        return ClinicalAttributes(attributes)
    link = _column(samples, sample_spec, "patient", required=True)
    patient_key = _column(patients, patient_spec, "patient", required=True)
    per_patient = _unique_rows(patients, patient_key, log)
    extra = [c for c in per_patient.columns if c not in attributes.columns]
    log.counts["clinical_patient.without_sample"] += int(
        (~per_patient.index.isin(attributes[link])).sum()
    )
    located = per_patient[extra].join(
        per_patient[["_file", "_line"]].add_prefix("_patient")
    )
    return ClinicalAttributes(attributes.join(located, on=link), frozenset(extra))


def _unique_rows(table: Table, key: str | None, log: RejectionLog) -> pd.DataFrame:
    assert key is not None
    frame = table.frame.assign(_file=table.name, _line=table.lines)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[key].isna(), key, "empty id")
    repeated = frame[key].duplicated() & frame[key].notna()
    ok = log.keep(table, ok, repeated, key, "id repeats an earlier row")
    return frame[ok].set_index(key)


def build_profiles(
    seen: pd.DataFrame,
    events: pd.DataFrame,
    clinical: ClinicalAttributes,
    mutation_rows: pd.Series,
    spec: ProfileColumns,
    log: RejectionLog,
) -> dict[str, Profile]:
    """One profile per sample seen in a genomic table (rejections reported)."""
    tumour_col = _attribute(clinical, spec, "tumour_type")
    tmb_col = _attribute(clinical, spec, "tmb_mut_per_mb")
    msi_col = _attribute(clinical, spec, "msi")
    by_sample = dict(list(events.groupby("sample_id", sort=False)))
    profiles: dict[str, Profile] = {}
    where = ["sample_id", "file", "line", "column", "column_number"]
    first = seen.drop_duplicates("sample_id")[where]
    for sample, file, line, column, number in first.itertuples(index=False):
        tumour_type = spec.constant_tumour_type or clinical.value(sample, tumour_col)
        if tumour_type is None:
            log.rejected.append(
                _no_tumour_type(clinical, sample, tumour_col)
                or Rejection(file, int(line), column, _NO_CLINICAL_ROW, int(number))
            )
            continue
        tmb = _parse_tmb(clinical.value(sample, tmb_col))
        msi = _parse_msi(clinical.value(sample, msi_col), spec)
        for value, col in ((tmb, tmb_col), (msi, msi_col)):
            if isinstance(value, str):
                log.rejected.append(clinical.rejection(sample, col, value))
        if tmb is None and spec.tmb_territory_mb:
            tmb = mutation_rows.get(sample, np.nan) / spec.tmb_territory_mb
        try:
            profiles[sample] = Profile(
                sample_id=sample,
                tumour_type=canonical_tumour_type(tumour_type),
                alterations=_alterations(by_sample.get(sample), log),
                tmb_mut_per_mb=tmb if isinstance(tmb, float) and tmb >= 0 else None,
                msi_high=msi if isinstance(msi, bool) else None,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            reason = f"invalid profile field {error['loc'][0]}: {error['msg']}"
            log.rejected.append(Rejection(file, int(line), column, reason, int(number)))
    return profiles


_NO_CLINICAL_ROW = (
    "no tumour type: sample not in the clinical tables and no "
    "profile.constant_tumour_type"
)


def _attribute(
    clinical: ClinicalAttributes, spec: ProfileColumns, key: str
) -> str | None:
    name = getattr(spec, key)
    if name is None or name in clinical.frame.columns:
        return name
    if key in spec.model_fields_set and not (
        key == "tumour_type" and spec.constant_tumour_type
    ):
        raise StudyFormatError(
            f"clinical tables: missing column {name!r} (mapping key 'profile.{key}')"
        )
    return None


def _no_tumour_type(
    clinical: ClinicalAttributes, sample: str, column: str | None
) -> Rejection | None:
    """Rejection at the sample's clinical row; None if it has no clinical row."""
    if sample not in clinical.frame.index:
        return None
    if column is None:
        return clinical.rejection(
            sample, None, "no tumour type: no profile.tumour_type column or constant"
        )
    return clinical.rejection(sample, column, "no tumour type: the value is empty")


def _parse_tmb(value: str | None) -> float | str | None:
    """TMB in mut/Mb, None if empty, or why the value is refused."""
    if value is None:
        return None
    number = pd.to_numeric(value, errors="coerce")
    if pd.isna(number) or number < 0:
        return "TMB is not a number >= 0; sample kept without TMB"
    return float(number)


def _parse_msi(value: str | None, spec: ProfileColumns) -> bool | str | None:
    """MSI-high flag, None if empty, or why the value is refused."""
    if value is None:
        return None
    if value.upper() in {v.upper() for v in spec.msi_high_values}:
        return True
    if value.upper() in {v.upper() for v in spec.msi_stable_values}:
        return False
    return (
        f"MSI value {value!r} is not one of {list(spec.msi_high_values)} or "
        f"{list(spec.msi_stable_values)}; sample kept without MSI"
    )


def _alterations(
    events: pd.DataFrame | None, log: RejectionLog
) -> tuple[Alteration, ...]:
    if events is None:
        return ()
    fields = _EVENT_COLUMNS[1:]
    unique = events.drop_duplicates(fields)
    log.counts["events.duplicates"] += len(events) - len(unique)
    if len(unique) > _MAX_ALTERATIONS:
        # A hypermutated tumour: keep every gene rather than reject the sample.
        log.counts["profiles.mutations_merged_per_gene"] += 1
        is_mutation = unique["kind"] == "mutation"
        unique = unique.assign(
            protein_change=unique["protein_change"].where(~is_mutation)
        ).drop_duplicates(fields)
    records = unique[fields].sort_values(fields, na_position="first")
    return tuple(
        Alteration(
            kind=kind,
            gene=gene,
            protein_change=None if pd.isna(change) else change,
            partner_gene=None if pd.isna(partner) else partner,
        )
        for kind, gene, change, partner in records.itertuples(index=False)
    )
