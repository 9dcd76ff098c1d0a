"""``rediscover data import --format ...`` on the synthetic files in tests/fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rediscover.cli import main
from tests.conftest import FIXTURES, write_planted_project
from training.data import read_cohort
from training.data._ici import EXOME_TERRITORY_MB, POOLED_FILE


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_planted_project(tmp_path, n=60)[0]


def _import(config: Path, folder: Path, *options: str) -> int:
    return main(["--config", str(config), "data", "import", str(folder), *options])


@pytest.mark.parametrize(
    ("layout", "folder", "samples", "drugs", "endpoint", "rejected"),
    [
        (
            "cbioportal", "cbioportal_study", 4,
            {"dabrafenib", "cetuximab", "trastuzumab"}, "clinical_benefit",
            "data_treatment_outcome.txt:6 [sample_id]",
        ),
        (
            "ici-pooled", "ici_pooled", 8,
            {"anti-pd-1", "anti-pd-l1", "anti-ctla-4"}, "objective_response",
            "ICI_response_cohort_973.tsv:10 [Responder]",
        ),
        (
            "liu2019", "liu2019", 6, {"pembrolizumab", "nivolumab"},
            "clinical_benefit", "supplemental_table_1_wAge.tsv:7 [BR]",
        ),
    ],
)  # fmt: skip
def test_each_format_is_imported_and_stored(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    layout: str,
    folder: str,
    samples: int,
    drugs: set[str],
    endpoint: str,
    rejected: str,
) -> None:
    out = tmp_path / "imported"
    assert (
        _import(config, FIXTURES / folder, "--format", layout, "--out", str(out)) == 0
    )
    captured = capsys.readouterr()
    assert f"rejected {rejected}" in captured.err
    assert f"imported {samples} samples, {samples} episodes" in captured.out
    cohort = read_cohort(out)
    assert len(cohort.profiles) == samples
    assert set(cohort.treatments["drug"]) == drugs
    assert cohort.endpoint == endpoint
    assert cohort.treatments["responded"].isin([0, 1]).all()


def test_pooled_table_gives_exome_tmb_and_the_study_as_cohort(
    config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "imported"
    assert _import(config, FIXTURES / "ici_pooled", "--format", "ici-pooled",
                   "--out", str(out)) == 0  # fmt: skip
    cohort = read_cohort(out)
    x01 = next(p for p in cohort.profiles if p.sample_id == "X01")
    assert x01.tumour_type == "melanoma"
    assert x01.tmb_mut_per_mb == pytest.approx(420 / EXOME_TERRITORY_MB)
    treatments = cohort.treatments.set_index("sample_id")
    assert treatments.loc["X05", "cohort_id"] == "Study B"
    assert treatments.loc["X05", "responded"] == 1


def test_default_format_is_cbioportal(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    assert _import(config, FIXTURES / "cbioportal_study", "--out", str(out)) == 0
    assert len(read_cohort(out).profiles) == 4


def test_folder_of_another_layout_names_the_missing_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _import(config, FIXTURES / "ici_pooled", "--format", "liu2019",
                   "--out", str(tmp_path / "imported"))  # fmt: skip
    assert code == 2
    assert "supplemental_table_1_wAge.tsv: file not found" in capsys.readouterr().err
    assert not (tmp_path / "imported").exists()


def test_missing_column_names_file_and_column(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pooled"
    folder.mkdir()
    text = (FIXTURES / "ici_pooled" / POOLED_FILE).read_text(encoding="utf-8")
    (folder / POOLED_FILE).write_text(
        text.replace("Missense_Mutation", "Mutations"), encoding="utf-8"
    )
    assert _import(config, folder, "--format", "ici-pooled") == 2
    err = capsys.readouterr().err
    assert f"{POOLED_FILE}: missing column(s) ['Missense_Mutation']" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--format", "ici-pooled", "--mapping", "riaz2017"],
         "--mapping applies to --format cbioportal, not ici-pooled"),
        (["--format", "liu2019"], "absent: not a folder"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_with_a_message(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    message: str,
) -> None:
    folder = tmp_path / "absent"
    if "--mapping" in options:
        shutil.copytree(FIXTURES / "ici_pooled", folder)
    assert _import(config, folder, *options) == 2
    assert message in capsys.readouterr().err
