"""Immune-checkpoint cohorts: row checks, and the real pooled and Liu 2019 tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import unshipped_data
from training.data import (
    ImportResult,
    Rejection,
    StudyFormatError,
    import_ici_pooled,
    import_liu2019,
    load_ici_pooled,
    load_liu2019,
)
from training.data._ici import EXOME_TERRITORY_MB, LIU2019_FILE, POOLED_FILE

_POOLED_HEADER = (
    "CaseID\tReference\tCancerType\tCancerType details\tTreatment\t"
    "Best objective response\tResponder\tMissense_Mutation"
)


def _pooled(tmp_path: Path, *rows: str) -> Path:
    (tmp_path / POOLED_FILE).write_text(
        "\n".join([_POOLED_HEADER, *rows]) + "\n", encoding="utf-8"
    )
    return tmp_path


def test_pooled_rows_are_validated_with_lines(tmp_path: Path) -> None:
    folder = _pooled(
        tmp_path,
        "C1\tStudy A\tMelanoma\tMEL\tPD1\tCR/PR\t1\t300",
        "C2\tStudy A\tLung\tOthers\tPDL1\tSD/PD\t0\t30",
        "C3\tStudy A\tMelanoma\tMEL\tPD1\tPD\t1\t30",  # contradicts
        "C4\tStudy B\tBladder\tBLCA\tIL2\tPD\t0\t30",  # unknown class
        "C5\tStudy B\tBladder\tBLCA\tPD1\tPD\t0\tmany",  # bad count
        "C1\tStudy B\tBladder\tBLCA\tPD1\tPD\t0\t10",  # repeated id
    )
    result = import_ici_pooled(folder)
    assert [(r.line, r.column) for r in result.rejected] == [
        (7, "CaseID"),
        (5, "Treatment"),
        (4, "Responder"),
        (6, "Missense_Mutation"),
    ]
    assert "'IL2' is not one of" in result.rejected[1].reason
    profiles = {p.sample_id: p for p in result.cohort.profiles}
    assert profiles["C1"].tmb_mut_per_mb == pytest.approx(300 / EXOME_TERRITORY_MB)
    assert profiles["C2"].tumour_type == "lung other"  # 'Others' -> CancerType
    treatments = result.cohort.treatments.set_index("sample_id")
    assert treatments.loc["C1", "drug"] == "anti-pd-1"
    assert treatments.loc["C2", "drug"] == "anti-pd-l1"
    assert treatments.loc["C1", "cohort_id"] == "Study A"


def test_pooled_missing_column_names_file_and_column(tmp_path: Path) -> None:
    (tmp_path / POOLED_FILE).write_text("CaseID\tResponder\nC1\t1\n", encoding="utf-8")
    with pytest.raises(StudyFormatError, match=r"ICI_response_cohort_973\.tsv.*Treat"):
        import_ici_pooled(tmp_path)


def test_liu_labels_clinical_benefit_and_rejects_mixed_response(
    tmp_path: Path,
) -> None:
    rows = [
        "Sample ID\tnonsyn_muts\tBR\tPFS\tTx",
        "P1\t300\tCR\t900\tPembrolizumab",
        "P2\t60\tSD\t200\tNivolumab",
        "P3\t60\tSD\t100\tNivolumab",
        "P4\t60\tMR\t100\tNivolumab",
        "P5\tunknown\tPD\t50\tNivolumab",
    ]
    (tmp_path / LIU2019_FILE).write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = import_liu2019(tmp_path)
    responded = result.cohort.treatments.set_index("sample_id")["responded"]
    assert responded.to_dict() == {"P1": 1, "P2": 1, "P3": 0}  # SD: PFS >= 112 days
    assert result.rejected == [
        Rejection(
            LIU2019_FILE, 6, "nonsyn_muts", "mutation count is not a number >= 0"
        ),
        Rejection(LIU2019_FILE, 5, "BR", "best response 'MR' is not evaluable"),
    ]
    assert set(result.cohort.treatments["drug"]) == {"pembrolizumab", "nivolumab"}


# --- real data ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pooled() -> ImportResult:
    return import_ici_pooled(unshipped_data("ici_pooled_jitc2022"))


@pytest.fixture(scope="module")
def liu() -> ImportResult:
    return import_liu2019(unshipped_data("ici_liu2019_pd1_melanoma"))


@pytest.mark.real_data
def test_pooled_cohort_has_all_973_patients(pooled: ImportResult) -> None:
    cohort = pooled.cohort
    assert len(cohort.profiles) == 973 and pooled.rejected == []
    assert cohort.treatments["responded"].sum() == 262  # README: 262 / 973
    types = [p.tumour_type for p in cohort.profiles]
    assert types.count("melanoma") == 335 and types.count("bladder") == 263
    tmb = np.array([p.tmb_mut_per_mb for p in cohort.profiles], dtype=float)
    assert np.isfinite(tmb).all() and tmb.min() > 0
    responders = cohort.treatments["responded"].to_numpy() == 1
    # README: median missense count 214.5 in responders vs 90 in non-responders.
    assert np.median(tmb[responders]) > 2 * np.median(tmb[~responders])
    assert set(cohort.drugs) >= {"anti-pd-1", "anti-pd-l1", "anti-ctla-4"}
    assert cohort.treatments["cohort_id"].nunique() == 13


@pytest.mark.real_data
def test_liu_cohort_has_144_patients_minus_mixed_responses(liu: ImportResult) -> None:
    assert liu.counts["rows"] == 144
    assert liu.rejected_by_reason() == {
        f"{LIU2019_FILE}: best response 'MR' is not evaluable": 4
    }
    treatments = liu.cohort.treatments
    assert len(treatments) == 140
    assert 0.4 < treatments["responded"].mean() < 0.65  # CR/PR 55 + SD 20 of 140
    assert treatments["drug"].value_counts().to_dict() == {
        "pembrolizumab": 81,
        "nivolumab": 59,
    }
    assert all(p.tmb_mut_per_mb is not None for p in liu.cohort.profiles)
    assert {p.tumour_type for p in liu.cohort.profiles} == {"melanoma"}


@pytest.mark.real_data
def test_load_functions_return_the_cohorts() -> None:
    assert len(load_ici_pooled(unshipped_data("ici_pooled_jitc2022")).profiles) == 973
    assert len(load_liu2019(unshipped_data("ici_liu2019_pd1_melanoma")).profiles) == 140
