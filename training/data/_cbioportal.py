"""cBioPortal-style study folders as a cohort, with every rejected row reported.

A study folder holds delimited text tables in cBioPortal's file formats: mutations
(MAF), discrete copy number (genes x samples), structural variants, clinical sample
and patient tables, plus a treatment-outcome table (``sample_id``, ``drug``,
``responded`` or ``best_response``, ``start_date``). A `StudyMapping`, usually read
from YAML (see ``mappings/``), renames files and columns for studies that differ;
its defaults are cBioPortal's names. Lines starting with ``#`` between records are
comments (the 4-line clinical headers, the MAF ``#version`` line).

The layouts are cBioPortal's "File Formats" page (docs.cbioportal.org, the
cBioPortal/cbioportal repository's ``docs/File-Formats.md``): "Mutation Data"
(the minimal MAF: ``Hugo_Symbol``, ``Tumor_Sample_Barcode``,
``Variant_Classification``, ``HGVSp_Short``), "Discrete Copy Number Data"
(``Hugo_Symbol``, optional ``Entrez_Gene_Id``, then one column per sample holding
-2 deep loss, -1 single-copy loss, 0 diploid, 1 gain, 2 high-level amplification),
"Structural Variant Data" (``Sample_Id``, ``Site1_Hugo_Symbol``,
``Site2_Hugo_Symbol``; its example puts the 5' gene, TMPRSS2 of TMPRSS2-ERG, at
site 1) and "Clinical Data" (``SAMPLE_ID``, ``PATIENT_ID``, ``CANCER_TYPE``).
`import_study` needs outcomes; `read_study_profiles` (a study) and
`read_genomic_files` (a MAF with optional copy-number and structural-variant
tables) read the profiles alone, by the same rules, to score them.

Rules
-----
Mutations
    A row whose variant class is in ``excluded_classes`` (default
    `EXCLUDED_VARIANT_CLASSES`: silent, intronic, UTR, flanking, intergenic,
    non-coding RNA and splice-region-only variants, in MAF and Sequence Ontology
    spelling) is excluded and counted, not rejected. A compound SO class
    (``missense_variant&splice_region_variant``) is excluded only if every part is.
    Rejected: empty sample, empty variant class, empty (or ``Unknown``) gene, gene
    not an HGNC-style symbol. The protein change loses ``p.`` and three-letter
    residues become one-letter (``p.Val600Glu`` -> ``V600E``); a value the profile
    schema refuses (``.``, ``p.=``) leaves the mutation without one (counted).
Copy number
    Values in ``amplification`` (2) / ``deletion`` (-2) become events; other numbers
    and empty cells carry none; a non-numeric cell is rejected (that cell only).
Structural variants
    Two different genes -> a fusion, Site1 taken as the 5' gene; one gene -> a fusion
    with an unknown partner; the same gene twice -> intragenic, excluded and counted.
Profiles
    One per sample with a row in any genomic table (each copy-number column counts),
    so a sample whose variants were all excluded gets a profile without mutations.
    Repeated events are deduplicated. A sample with more events than the schema
    allows has its mutations merged per gene, without protein change (counted).
    Tumour type, TMB and MSI come from the clinical tables (sample attributes win
    over patient attributes) or the mapping's constants.
Outcomes
    ``responded`` (0/1) when the column has a value, else derived from the best
    response by `ResponseRule`. Treatment rows of samples without genomic data, and
    samples with genomic data but no usable outcome, are rejected and left out.

A `Rejection` names file, 1-based line and column, never a patient's cell value
(controlled vocabulary such as a variant class or a best response is quoted).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features import Profile
from training.data._cohort import Cohort
from training.data._study_events import genomic_events
from training.data._study_files import Rejection, RejectionLog, StudyTables, read_study
from training.data._study_mapping import StudyFormatError, StudyMapping
from training.data._study_outcomes import match_samples, treatment_rows
from training.data._study_profiles import build_profiles, clinical_attributes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    """The cohort, every rejected row, and counts of what happened to the rows."""

    cohort: Cohort
    rejected: list[Rejection]
    counts: dict[str, int]

    def rejected_by_reason(self) -> dict[str, int]:
        """Number of rejections per (file: reason), most frequent first."""
        reasons = Counter(f"{r.file}: {r.reason}" for r in self.rejected)
        return dict(reasons.most_common())


@dataclass(frozen=True)
class StudyProfiles:
    """A study's profiles by sample id (in the order first seen), without
    outcomes; every rejected row or cell, and counts."""

    profiles: dict[str, Profile]
    rejected: list[Rejection]
    counts: dict[str, int]


# --- the import ----------------------------------------------------------------------


def import_study(folder: Path, *, mapping: StudyMapping | None = None) -> ImportResult:
    """Import a cBioPortal-style study folder as a cohort (see the module rules).

    Parameters
    ----------
    folder
        The study folder.
    mapping
        File and column names; None uses cBioPortal's (`StudyMapping()`).

    Returns
    -------
    ImportResult
        The cohort (samples with a profile and an outcome), every rejected row or
        cell, and counts (rows read, excluded by variant class, events, samples).

    Raises
    ------
    StudyFormatError
        A file that cannot be read or lacks a required column (file and column named).
    """
    folder = Path(folder)
    mapping = mapping or StudyMapping()
    if not folder.is_dir():
        raise StudyFormatError(f"{folder}: not a folder")
    log = RejectionLog()
    tables = read_study(folder, mapping, log)
    assert tables.treatments is not None  # read_study refuses a study without
    profiles, seen = _profiles(tables, mapping, log)
    treatments = treatment_rows(
        tables.treatments,
        mapping,
        study_id=mapping.study_id or folder.name,
        log=log,
    )
    kept, treatments = match_samples(
        profiles,
        treatments,
        seen,
        treatment_table=tables.treatments,
        sample_column=mapping.treatments.sample,
        log=log,
    )
    cohort = Cohort(
        profiles=kept, treatments=treatments, endpoint=mapping.response.label_rule
    )
    _count_cohort(cohort, log)
    result = ImportResult(cohort, log.rejected, dict(sorted(log.counts.items())))
    _log_result(folder, result)
    return result


def read_study_profiles(
    folder: Path, *, mapping: StudyMapping | None = None
) -> StudyProfiles:
    """Every sample of a cBioPortal-style study folder as a profile, by the
    module's rules, without outcomes: the treatment-outcome table is not read
    (to score a study's samples).

    Raises
    ------
    StudyFormatError
        As `import_study`.
    """
    folder = Path(folder)
    mapping = mapping or StudyMapping()
    if not folder.is_dir():
        raise StudyFormatError(f"{folder}: not a folder")
    log = RejectionLog()
    tables = read_study(folder, mapping, log, outcomes=False)
    profiles, _ = _profiles(tables, mapping, log)
    log.counts["samples.profiles"] = len(profiles)
    return StudyProfiles(profiles, log.rejected, dict(sorted(log.counts.items())))


def read_genomic_files(
    mutations: Path,
    *,
    copy_number: Path | None = None,
    structural_variants: Path | None = None,
    tumour_type: str,
) -> StudyProfiles:
    """Profiles from a MAF, with optional discrete copy-number and structural
    variant tables in cBioPortal's layouts (the module's rules), every sample of
    ``tumour_type``; TMB and MSI are not given (no clinical table).

    Raises
    ------
    StudyFormatError
        A file that is missing or cannot be read, or lacks a required column.
    """

    def located(path: Path | None) -> str | None:
        # An absolute name: the study folder below is then not part of the path.
        return None if path is None else str(Path(path).resolve())

    # The sections a mapping YAML would hold (mappings/), validated the same way.
    mapping = StudyMapping.model_validate(
        {
            "mutations": {"file": located(mutations)},
            "copy_number": {"file": located(copy_number)},
            "structural_variants": {"file": located(structural_variants)},
            "clinical_sample": {"file": None},
            "clinical_patient": {"file": None},
            "profile": {"constant_tumour_type": tumour_type},
        }
    )
    log = RejectionLog()
    tables = read_study(Path.cwd(), mapping, log, outcomes=False)
    profiles, _ = _profiles(tables, mapping, log)
    log.counts["samples.profiles"] = len(profiles)
    return StudyProfiles(profiles, log.rejected, dict(sorted(log.counts.items())))


def _profiles(
    tables: StudyTables, mapping: StudyMapping, log: RejectionLog
) -> tuple[dict[str, Profile], pd.DataFrame]:
    """One profile per sample of the genomic tables, and where each was seen."""
    events, seen, mutation_rows = genomic_events(tables, mapping, log)
    clinical = clinical_attributes(
        tables.clinical_sample, tables.clinical_patient, mapping, log
    )
    profiles = build_profiles(
        seen, events, clinical, mutation_rows, mapping.profile, log
    )
    return profiles, seen


def _count_cohort(cohort: Cohort, log: RejectionLog) -> None:
    profiles = cohort.profiles
    log.counts["samples.profiles"] = len(profiles)
    log.counts["samples.with_mutations"] = sum(
        any(a.kind == "mutation" for a in p.alterations) for p in profiles
    )
    log.counts["treatments.kept"] = len(cohort.treatments)
    log.counts["treatments.responders"] = int(cohort.treatments["responded"].sum())
    log.counts["rejected"] = len(log.rejected)


def _log_result(folder: Path, result: ImportResult) -> None:
    logger.info(
        "%s: %d profiles, %d treatment rows (%d responders), %d rejected",
        folder.name,
        result.counts["samples.profiles"],
        result.counts["treatments.kept"],
        result.counts["treatments.responders"],
        len(result.rejected),
    )
    for reason, n in result.rejected_by_reason().items():
        logger.info("rejected %d x %s", n, reason)
