"""Immune-checkpoint patient cohorts without gene-level events: TMB -> response.

Two real tables, not shipped (licences in ``data/README.md``); give their folder:

- Pooled JITC 2022 (``ici_pooled_jitc2022``): 973 patients from 13 WES studies, any
  tumour type. ``responded`` is the table's ``Responder`` (CR/PR, objective
  response): grouped classes such as ``SD/PD/NE`` rule out clinical benefit. A row
  whose ``Responder`` contradicts its best response (CR/PR vs SD/PD/NE) is rejected.
  The drug is the ICI class (`POOLED_DRUG_CLASSES`: ``PD1`` -> ``anti-pd-1``), as
  the table names no generic drug; ``cohort_id`` is the source study. Tumour type
  from ``CancerType details`` (`POOLED_TUMOUR_TYPES`), ``Others`` falling back to
  ``CancerType``, then `features.canonical_tumour_type`. Note: its Riaz 2017 and
  Liu 2019 patients overlap the other loaders' cohorts.
- Liu 2019 (``ici_liu2019_pd1_melanoma``): 144 melanoma patients on pembrolizumab or
  nivolumab (``Tx``, lower-cased). ``responded`` is clinical benefit from ``BR``
  by `LIU2019_RESPONSE`: CR/PR -> 1, SD -> 1 if PFS >= 16 weeks (112 days) else 0,
  PD -> 0, MR (mixed response, not RECIST) and NE rejected.

TMB: both give whole-exome mutation counts (pooled: missense; Liu: non-synonymous),
converted as count / `EXOME_TERRITORY_MB` (30 Mb, the approximate coding territory
of an exome). A proxy: absolute values are not comparable with panel TMB.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from pydantic import ValidationError

from features import Profile, canonical_tumour_type
from models import Endpoint
from training.data._cbioportal import ImportResult
from training.data._cohort import Cohort
from training.data._study_files import Rejection, RejectionLog, Table, read_table
from training.data._study_mapping import MISSING_VALUES, ResponseRule, StudyFormatError
from training.data._study_outcomes import label_best_responses

logger = logging.getLogger(__name__)

POOLED_FILE = "ICI_response_cohort_973.tsv"
LIU2019_FILE = "supplemental_table_1_wAge.tsv"
EXOME_TERRITORY_MB = 30.0

POOLED_DRUG_CLASSES: MappingProxyType[str, str] = MappingProxyType(
    {
        "PD1": "anti-pd-1",
        "PDL1": "anti-pd-l1",
        "CTLA4": "anti-ctla-4",
        "PD1/PDL1": "anti-pd-1/pd-l1",  # the source does not say which
        "CTLA4+PD1": "anti-ctla-4+anti-pd-1",
        "CTLA4+PD1/PDL1": "anti-ctla-4+anti-pd-1/pd-l1",
        "CTLA4->PD1": "anti-ctla-4 then anti-pd-1",
    }
)
# CancerType details -> a name features.canonical_tumour_type knows (or keeps).
POOLED_TUMOUR_TYPES: MappingProxyType[str, str] = MappingProxyType(
    {
        "MEL": "melanoma",
        "Melanoma": "melanoma",
        "BLCA": "bladder",
        "Urothelial": "bladder",
        "NSCLC": "non-small cell lung cancer",
        "HNSCC": "head and neck",
        "HNSCC_Exp": "head and neck",
        "HNSC": "head and neck",
        "BR_TNBC": "breast",
        "BR_ER+HER-": "breast",
        "Gastric": "stomach",
        "ThyroidCancer": "thyroid",
        "Mesothelioma": "mesothelioma",
        "BiliaryTract": "biliary tract",
        "ColrectalAdeno": "colorectal",
        "Endometrial": "endometrial",
        "ProstateAdeno": "prostate",
        "Cervical_SCC": "cervical",
        "Esophageal_SCC/Adeno": "oesophageal",
        "PancreasAdeno": "pancreatic",
        "SalivaryGland": "salivary gland",
        "Analcanal_SCC": "anal squamous cell carcinoma",
        "Vulvar_SCC": "vulvar squamous cell carcinoma",
        "Carcinoid": "carcinoid",
        "Leiomyosarcoma": "leiomyosarcoma",
    }
)
_POOLED_RESPONSE_CLASSES = {
    "CR": 1, "PR": 1, "CR/PR": 1, "SD": 0, "PD": 0, "NE": 0, "SD/PD": 0, "SD/PD/NE": 0,
}  # fmt: skip
LIU2019_RESPONSE = ResponseRule(not_evaluable=("NE", "MR"))
_LIU_MISSING = (*MISSING_VALUES, "unknown", "unk")


def load_ici_pooled(folder: Path) -> Cohort:
    """The pooled 973-patient ICI cohort; rejections logged (`import_ici_pooled`)."""
    return _logged(import_ici_pooled(folder))


def load_liu2019(folder: Path) -> Cohort:
    """Liu 2019's 144 melanoma patients (rejections logged; see `import_liu2019`)."""
    return _logged(import_liu2019(folder))


def import_ici_pooled(folder: Path) -> ImportResult:
    """Read ``ICI_response_cohort_973.tsv``: one profile and one treatment per patient.

    Returns
    -------
    ImportResult
        Profiles carry tumour type and TMB; treatments carry ``best_response``,
        ``treatment_class``, ``label_rule`` (objective_response) and ``cohort_id``.
    """
    log = RejectionLog()
    table = _read(Path(folder) / POOLED_FILE, _POOLED_COLUMNS, log, MISSING_VALUES)
    frame = table.frame
    ok = _unique_ids(table, "CaseID", log)
    drugs = frame["Treatment"].map(dict(POOLED_DRUG_CLASSES))
    for value in frame.loc[ok & drugs.isna(), "Treatment"].dropna().unique():
        ok = log.keep(
            table,
            ok,
            frame["Treatment"] == value,
            "Treatment",
            f"ICI class {value!r} is not one of {list(POOLED_DRUG_CLASSES)}",
        )
    ok = log.keep(table, ok, frame["Treatment"].isna(), "Treatment", "empty")
    responded = frame["Responder"].map({"0": 0, "1": 1})
    ok = log.keep(table, ok, responded.isna(), "Responder", "must be 0 or 1")
    expected = frame["Best objective response"].map(_POOLED_RESPONSE_CLASSES)
    contradicts = expected.notna() & (expected != responded)
    ok = log.keep(
        table, ok, contradicts, "Responder", "contradicts the best objective response"
    )
    tmb, ok = _tmb(table, "Missense_Mutation", ok, log)
    treatments = pd.DataFrame(
        {
            "sample_id": frame["CaseID"],
            "drug": drugs,
            "responded": responded,
            "best_response": frame["Best objective response"],
            "treatment_class": frame["Treatment"],
            "label_rule": "objective_response",
            "cohort_id": frame["Reference"],
        }
    )
    return _result(
        table, ok, _pooled_tumour_types(frame), tmb, treatments, log,
        endpoint="objective_response",
    )  # fmt: skip


_POOLED_COLUMNS = (
    "CaseID",
    "Reference",
    "CancerType",
    "CancerType details",
    "Treatment",
    "Best objective response",
    "Responder",
    "Missense_Mutation",
)


def _pooled_tumour_types(frame: pd.DataFrame) -> pd.Series:
    details = frame["CancerType details"]
    named = details.map(dict(POOLED_TUMOUR_TYPES))
    other = details.isna() | (details == "Others")
    unmapped = named.isna() & ~other
    if unmapped.any():
        logger.info(
            "%s: %d rows have a CancerType detail without a mapping; kept as given",
            POOLED_FILE,
            int(unmapped.sum()),
        )
    names = named.fillna(details.where(~other)).fillna(frame["CancerType"])
    return names.map(lambda name: None if name is None else canonical_tumour_type(name))


def import_liu2019(folder: Path) -> ImportResult:
    """Read ``supplemental_table_1_wAge.tsv``: one profile and one treatment each.

    Returns
    -------
    ImportResult
        Profiles are melanoma with TMB; treatments carry ``best_response``,
        ``pfs_days``, ``label_rule`` (clinical_benefit) and ``cohort_id``.
    """
    log = RejectionLog()
    table = _read(Path(folder) / LIU2019_FILE, _LIU_COLUMNS, log, _LIU_MISSING)
    frame = table.frame
    ok = _unique_ids(table, "Sample ID", log)
    drugs = frame["Tx"].str.lower()
    ok = log.keep(table, ok, drugs.isna(), "Tx", "empty drug")
    tmb, ok = _tmb(table, "nonsyn_muts", ok, log)
    pfs_days = pd.to_numeric(frame["PFS"], errors="coerce")
    bad_pfs = frame["PFS"].notna() & pfs_days.isna()
    ok = log.keep(table, ok, bad_pfs, "PFS", "PFS (days) is not a number")
    ok = log.keep(table, ok, frame["BR"].isna(), "BR", "empty best response")
    responded = label_best_responses(
        table, ok, "BR", pfs_days / 7, rule=LIU2019_RESPONSE, log=log
    )
    ok &= responded.notna()
    treatments = pd.DataFrame(
        {
            "sample_id": frame["Sample ID"],
            "drug": drugs,
            "responded": responded,
            "best_response": frame["BR"],
            "pfs_days": pfs_days,
            "label_rule": LIU2019_RESPONSE.label_rule,
            "cohort_id": "liu2019",
        }
    )
    tumour_types = pd.Series("melanoma", index=frame.index)
    return _result(
        table, ok, tumour_types, tmb, treatments, log,
        endpoint=LIU2019_RESPONSE.label_rule,
    )  # fmt: skip


_LIU_COLUMNS = ("Sample ID", "nonsyn_muts", "BR", "PFS", "Tx")


# --- shared steps ------------------------------------------------------------------


def _read(
    path: Path,
    columns: tuple[str, ...],
    log: RejectionLog,
    missing_values: tuple[str, ...],
) -> Table:
    table = read_table(path, sep="\t", missing_values=missing_values, log=log)
    missing = [c for c in columns if c not in table.frame.columns]
    if missing:
        raise StudyFormatError(
            f"{path.name}: missing column(s) {missing}; required: {list(columns)}"
        )
    log.counts["rows"] = len(table.frame) + len(log.rejected)
    return table


def _unique_ids(table: Table, column: str, log: RejectionLog) -> pd.Series:
    ids = table.frame[column]
    ok = pd.Series(True, index=ids.index)
    ok = log.keep(table, ok, ids.isna(), column, "empty patient id")
    repeated = ids.duplicated() & ids.notna()
    return log.keep(table, ok, repeated, column, "patient id repeats an earlier row")


def _tmb(
    table: Table, column: str, ok: pd.Series, log: RejectionLog
) -> tuple[pd.Series, pd.Series]:
    counts = pd.to_numeric(table.frame[column], errors="coerce")
    bad = counts.isna() | (counts < 0)
    ok = log.keep(table, ok, bad, column, "mutation count is not a number >= 0")
    return counts / EXOME_TERRITORY_MB, ok


def _result(
    table: Table,
    ok: pd.Series,
    tumour_types: pd.Series,
    tmb: pd.Series,
    treatments: pd.DataFrame,
    log: RejectionLog,
    *,
    endpoint: Endpoint,
) -> ImportResult:
    ok = log.keep(table, ok, tumour_types.isna(), None, "no tumour type")
    profiles = []
    ids, types, values = (
        series.tolist() for series in (treatments["sample_id"], tumour_types, tmb)
    )
    for row in np.flatnonzero(ok.to_numpy()).tolist():
        try:
            profiles.append(
                Profile(
                    sample_id=ids[row],
                    tumour_type=types[row],
                    tmb_mut_per_mb=values[row],
                )
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            ok.iloc[row] = False
            log.rejected.append(
                Rejection(
                    table.name,
                    int(table.lines[row]),
                    None,
                    f"invalid profile field {error['loc'][0]}: {error['msg']}",
                )
            )
    kept = treatments[ok].astype({"responded": "int64"}).reset_index(drop=True)
    cohort = Cohort(
        profiles=tuple(profiles), treatments=kept,
        endpoint=endpoint,
    )  # fmt: skip
    log.counts["kept"] = len(kept)
    log.counts["responders"] = int(kept["responded"].sum())
    log.counts["rejected"] = len(log.rejected)
    return ImportResult(cohort, log.rejected, dict(sorted(log.counts.items())))


def _logged(result: ImportResult) -> Cohort:
    counts = result.counts
    logger.info(
        "%d of %d patients kept, %d responders, %d rejected",
        counts["kept"],
        counts["rows"],
        counts["responders"],
        counts["rejected"],
    )
    for reason, n in result.rejected_by_reason().items():
        logger.warning("rejected %d x %s", n, reason)
    return result.cohort
