"""The on-disk cohort format: exact round trips, loud errors, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile
from training.data import (
    Cohort,
    DrupParams,
    _store,
    read_cohort,
    simulate_drup,
    write_cohort,
)


def _cohort() -> Cohort:
    braf = Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
    fusion = Alteration(kind="fusion", gene="EML4", partner_gene="ALK")
    profiles = (
        Profile(
            sample_id="007",  # looks like a number; must stay the text "007"
            tumour_type="melanoma",
            alterations=(braf, fusion),
            tmb_mut_per_mb=12.34,
            msi_high=False,
            hrd_score=0.1 + 0.2,  # a float that only round-trips at full precision
        ),
        Profile(sample_id="NA", tumour_type="colorectal", msi_high=True),
        Profile(sample_id="s3", tumour_type="glioma"),
    )
    treatments = pd.DataFrame(
        {
            "sample_id": ["007", "007", "NA"],
            "drug": ["dabrafenib", "trametinib", "nivolumab"],
            "responded": [1, 0, 1],
            "ln_ic50": [-2.5, np.nan, 1 / 3],
            "start_date": ["2016-01-04", None, "2024-12-31"],
            "evaluable": [True, True, False],
            "cohort_id": ["melanoma|BRAF V600|dabrafenib", "x|y|z", "None"],
        }
    )
    return Cohort(profiles=profiles, treatments=treatments)


def test_round_trip_keeps_content_and_types(tmp_path: Path) -> None:
    cohort = _cohort()
    folder = write_cohort(cohort, tmp_path / "cohort", source="unit test")
    back = read_cohort(folder)
    assert back.data_hash() == cohort.data_hash()
    assert back.profiles == cohort.profiles
    pd.testing.assert_frame_equal(back.treatments, cohort.treatments)
    assert sorted(p.name for p in folder.iterdir()) == [
        "cohort.json", "profiles.jsonl", "treatments.csv",
    ]  # fmt: skip


def test_round_trip_keeps_parsed_dates(tmp_path: Path) -> None:
    # a cBioPortal import parses start_date; the store once failed to read it back
    cohort = _cohort()
    dates = pd.to_datetime(cohort.treatments["start_date"])
    dated = Cohort(cohort.profiles, cohort.treatments.assign(start_date=dates))
    back = read_cohort(write_cohort(dated, tmp_path / "cohort"))
    pd.testing.assert_frame_equal(back.treatments, dated.treatments)


def test_metadata_records_source_hash_and_counts(tmp_path: Path) -> None:
    cohort = _cohort()
    truth = pd.DataFrame({"sample_id": ["007"], "true_probability": [0.7]})
    folder = write_cohort(
        cohort,
        tmp_path / "c",
        truth=truth,
        source="unit test",
        metadata={"seed": 3},
    )
    record = json.loads((folder / "cohort.json").read_text())
    assert record["source"] == "unit test"
    assert record["data_hash"] == cohort.data_hash()
    assert record["counts"] == {
        "profiles": 3, "treatments": 3, "treated_samples": 2, "drugs": 3,
        "truth_rows": 1,
    }  # fmt: skip
    assert record["metadata"] == {"seed": 3}
    assert record["created_at"].endswith("+00:00")
    back = pd.read_csv(folder / "truth.csv", dtype={"sample_id": str})
    pd.testing.assert_frame_equal(back, truth)


def test_existing_folder_is_kept_unless_overwrite(tmp_path: Path) -> None:
    folder = write_cohort(_cohort(), tmp_path / "c")
    smaller = _cohort().subset(drugs=["nivolumab"])
    with pytest.raises(FileExistsError, match="already exists"):
        write_cohort(smaller, folder)
    assert read_cohort(folder).data_hash() == _cohort().data_hash()
    write_cohort(smaller, folder, overwrite=True)
    assert read_cohort(folder).data_hash() == smaller.data_hash()
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temporary left


def _fail_after_profiles(cohort: Cohort, staging: Path, **_: object) -> None:
    (staging / _store.PROFILES_FILE).write_text("{}\n")
    raise OSError("disk full")


def test_failed_write_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "_write_files", _fail_after_profiles)
    with pytest.raises(OSError, match="disk full"):
        write_cohort(_cohort(), tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_cohort(_cohort(), tmp_path / "c")
    monkeypatch.setattr(_store, "_write_files", _fail_after_profiles)
    with pytest.raises(OSError, match="disk full"):
        write_cohort(_cohort().subset(drugs=["nivolumab"]), folder, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["c"]
    assert read_cohort(folder).data_hash() == _cohort().data_hash()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"sample_id": "x", "tumour_type": ""}', "line 2: tumour_type"),
        ('{"sample_id": "x", "tumour_type": "glioma", "age": 3}', "line 2: age"),
        ('{"sample_id": "x", "tumour_type": "glioma"', "line 2: .*JSON"),
    ],
)
def test_bad_profile_line_is_named(tmp_path: Path, bad_line: str, message: str) -> None:
    folder = write_cohort(_cohort(), tmp_path / "c")
    path = folder / "profiles.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = bad_line
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"profiles\.jsonl: {message}"):
        read_cohort(folder)


def test_changed_files_fail_the_hash_check(tmp_path: Path) -> None:
    folder = write_cohort(_cohort(), tmp_path / "c")
    path = folder / "treatments.csv"
    path.write_text(path.read_text().replace("dabrafenib,1", "dabrafenib,0"))
    with pytest.raises(ValueError, match=r"differs from the .* recorded"):
        read_cohort(folder)


def test_missing_file_is_named(tmp_path: Path) -> None:
    folder = write_cohort(_cohort(), tmp_path / "c")
    (folder / "treatments.csv").unlink()
    with pytest.raises(ValueError, match=r"treatments\.csv not found"):
        read_cohort(folder)


def test_unknown_sample_in_treatments_names_the_file(tmp_path: Path) -> None:
    folder = write_cohort(_cohort(), tmp_path / "c")
    (folder / "cohort.json").unlink()  # no recorded hash: the contract still checks
    path = folder / "treatments.csv"
    path.write_text(path.read_text().replace("007,trametinib", "999,trametinib"))
    with pytest.raises(ValueError, match=r"treatments\.csv: .*matches no profile"):
        read_cohort(folder)


@pytest.mark.real_data
def test_simulated_cohort_round_trips(gdsc: Cohort, tmp_path: Path) -> None:
    params = DrupParams(n_patients=300, calibration_rounds=0)
    simulated = simulate_drup(seed=3, params=params, source=gdsc)
    folder = write_cohort(
        simulated.cohort,
        tmp_path / "drup",
        truth=simulated.truth,
        source="simulate_drup(seed=3)",
        metadata={"params": simulated.params.model_dump(mode="json")},
    )
    back = read_cohort(folder)
    assert back.data_hash() == simulated.cohort.data_hash()
    truth = pd.read_csv(folder / "truth.csv")
    pd.testing.assert_frame_equal(truth, simulated.truth)


@pytest.mark.real_data
def test_gdsc_cohort_round_trips(gdsc: Cohort, tmp_path: Path) -> None:
    folder = write_cohort(gdsc, tmp_path / "gdsc", source="gdsc1000_v17")
    assert read_cohort(folder).data_hash() == gdsc.data_hash()
