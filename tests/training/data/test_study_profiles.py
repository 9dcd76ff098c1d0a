"""Profiles without outcomes from a cBioPortal study or a MAF with its tables: the
importer's rules, no treatment table needed, rejections with column numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from features import Alteration, Profile
from tests.conftest import FIXTURES
from training.data import (
    StudyFormatError,
    import_study,
    read_genomic_files,
    read_study_profiles,
)

STUDY = FIXTURES / "cbioportal_study_no_outcomes"
MAF = FIXTURES / "maf"


def test_a_study_without_outcomes_gives_every_sample_a_profile() -> None:
    result = read_study_profiles(STUDY)
    assert result.rejected == []
    assert list(result.profiles) == ["C1", "C2", "C3"]
    assert result.profiles["C2"] == Profile(
        sample_id="C2",
        tumour_type="colorectal",
        alterations=(
            Alteration(kind="fusion", gene="NCOA4", partner_gene="RET"),
            Alteration(kind="mutation", gene="KRAS", protein_change="G12D"),
        ),
        tmb_mut_per_mb=48.5,
        msi_high=True,
    )
    assert result.counts["mutations.excluded.Silent"] == 1
    # The importer still needs the outcomes it trains on.
    with pytest.raises(StudyFormatError, match="outcomes are required"):
        import_study(STUDY)


def test_a_study_with_outcomes_reads_the_same_profiles_without_them() -> None:
    study = FIXTURES / "cbioportal_study"
    imported = import_study(study).cohort.profiles
    read = read_study_profiles(study).profiles
    assert {p.sample_id: p for p in imported}.items() <= read.items()


def test_a_maf_with_copy_number_and_structural_variants(tmp_path: Path) -> None:
    result = read_genomic_files(
        MAF / "mutations.txt",
        copy_number=MAF / "cna.txt",
        structural_variants=MAF / "sv.txt",
        tumour_type="Melanoma",
    )
    assert result.rejected == []
    assert [p.tumour_type for p in result.profiles.values()] == ["melanoma"] * 2
    assert result.profiles["M2"].alterations == (
        Alteration(kind="deletion", gene="CDKN2A"),  # -2; M1's -1 is no event
        Alteration(kind="fusion", gene="EML4", partner_gene="ALK"),
        Alteration(kind="mutation", gene="KRAS", protein_change="G12D"),
    )
    alone = read_genomic_files(MAF / "mutations.txt", tumour_type="melanoma")
    assert alone.profiles["M2"].alterations == (
        Alteration(kind="mutation", gene="KRAS", protein_change="G12D"),
    )
    with pytest.raises(StudyFormatError, match="file not found"):
        read_genomic_files(
            MAF / "mutations.txt", copy_number=tmp_path / "x.txt", tumour_type="x"
        )


def test_rejections_carry_the_column_number(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    shutil.copytree(STUDY, folder)
    cna = folder / "data_cna.txt"
    cna.write_text(
        cna.read_text().replace("ERBB2\t2064\t0\t0\t2", "ERBB2\t2064\t0\tx\t2")
    )
    [rejection] = read_study_profiles(folder).rejected
    assert (rejection.file, rejection.line, rejection.column_number) == (
        "data_cna.txt", 2, 4,
    )  # fmt: skip
    assert rejection.column is None  # the header is a sample id: not shown
    assert "C2" not in str(rejection) and "column 4" in str(rejection)
