"""Versioned cohort stores: merges, duplicates, conflicts, atomic concurrent appends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile
from training.data import (
    Cohort,
    CohortConflictError,
    UnknownCohortVersionError,
    append_cohort,
    is_cohort_store,
    list_versions,
    read_cohort,
    read_cohort_version,
    read_truth,
    slice_by_date,
    write_cohort,
)

SECRET = "PATIENT-SECRET-"  # sample ids must never reach an error message


def _profile(i: int, *, tumour_type: str = "melanoma") -> Profile:
    braf = (Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),)
    return Profile(
        sample_id=f"{SECRET}{i}",
        tumour_type=tumour_type,
        alterations=braf if i % 3 == 0 else (),
        tmb_mut_per_mb=float(i),
    )


def _cohort(samples: range, **columns: list[object]) -> Cohort:
    """One profile and one vemurafenib episode per sample; responded = i % 2."""
    treatments = pd.DataFrame(
        {
            "sample_id": [f"{SECRET}{i}" for i in samples],
            "drug": ["vemurafenib"] * len(samples),
            "responded": [i % 2 for i in samples],
            "start_date": [f"{2016 + i % 8}-03-01" for i in samples],
            **columns,
        }
    )
    return Cohort(profiles=tuple(_profile(i) for i in samples), treatments=treatments)


def test_first_append_creates_a_store_readable_as_a_cohort(tmp_path: Path) -> None:
    store, cohort = tmp_path / "store", _cohort(range(10))
    result = append_cohort(store, cohort, source="batch 1")
    assert result.previous_version is None and result.changed
    assert result.version == cohort.data_hash()[:12] == result.data_hash[:12]
    assert (result.n_new_samples, result.n_new_episodes, result.n_duplicates) == (
        10, 10, 0,
    )  # fmt: skip
    assert is_cohort_store(store) and not is_cohort_store(tmp_path)
    assert (store / "CURRENT").read_text().strip() == result.version
    assert read_cohort(store).data_hash() == cohort.data_hash()
    record = json.loads(
        (store / "versions" / result.version / "cohort.json").read_text()
    )
    assert record["data_hash"] == cohort.data_hash()
    assert record["source"] == "batch 1"


def test_append_adds_new_data_and_skips_duplicates(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = append_cohort(store, _cohort(range(10)), source="batch 1")
    second = append_cohort(store, _cohort(range(6, 16)), source="batch 2")
    assert second.previous_version == first.version != second.version
    assert (second.n_new_samples, second.n_new_episodes, second.n_duplicates) == (
        6, 6, 4,
    )  # fmt: skip
    assert (second.n_samples, second.n_episodes) == (16, 16)
    merged = read_cohort(store)
    assert merged.data_hash() == _cohort(range(16)).data_hash()
    # Earlier versions stay readable, by version id or full hash.
    old = read_cohort_version(store, first.version)
    assert read_cohort_version(store, first.data_hash).data_hash() == first.data_hash
    assert len(old.treatments) == 10
    versions = list_versions(store)
    assert [v.version for v in versions] == [first.version, second.version]
    assert [v.parent for v in versions] == [None, first.version]
    assert [v.is_current for v in versions] == [False, True]
    assert [(v.n_samples, v.n_episodes, v.source) for v in versions] == [
        (10, 10, "batch 1"), (16, 16, "batch 2"),
    ]  # fmt: skip


def test_appending_nothing_new_writes_no_version(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = append_cohort(store, _cohort(range(10)), source="batch 1")
    again = append_cohort(store, _cohort(range(3, 8)), source="again")
    assert not again.changed and again.version == first.version
    assert (again.n_new_episodes, again.n_duplicates) == (0, 5)
    assert len(list_versions(store)) == 1


def test_a_changed_outcome_is_a_conflict_naming_both_lines(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = append_cohort(store, _cohort(range(10)), source="batch 1")
    flipped = _cohort(range(8, 12))
    treatments = flipped.treatments.assign(responded=1 - flipped.treatments.responded)
    bad = Cohort(profiles=flipped.profiles, treatments=treatments)
    with pytest.raises(CohortConflictError) as error:
        append_cohort(store, bad, source="bad")
    message = str(error.value)
    # Sample 8: line 2 of the new file (responded 1), line 10 of the stored one.
    assert (
        "treatments.csv line 2 of the new data (drug vemurafenib, responded 1) "
        f"conflicts with line 10 of stored version {first.version} (responded 0)"
    ) in message
    assert "1 more" in message and SECRET not in message
    assert [v.version for v in list_versions(store)] == [first.version]


def test_a_changed_profile_is_a_conflict_naming_the_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = append_cohort(store, _cohort(range(10)), source="batch 1")
    new = _cohort(range(9, 12))
    profiles = (_profile(9, tumour_type="glioma"), *new.profiles[1:])
    with pytest.raises(CohortConflictError) as error:
        append_cohort(
            store, Cohort(profiles=profiles, treatments=new.treatments), source="x"
        )
    message = str(error.value)
    assert (
        f"profiles.jsonl line 1 of the new data conflicts with line 10 of stored "
        f"version {first.version}: the same sample has another tumour_type"
    ) in message
    assert SECRET not in message


def test_treatment_columns_are_the_union_and_round_trip(tmp_path: Path) -> None:
    store = tmp_path / "store"
    append_cohort(store, _cohort(range(4), evaluable=[True] * 4), source="a")
    result = append_cohort(
        store, _cohort(range(4, 7), ln_ic50=[0.5, np.nan, -1.25]), source="b"
    )
    merged = read_cohort(store)  # checks the recorded content hash
    assert merged.data_hash() == result.data_hash
    treatments = merged.treatments.set_index(merged.treatments["sample_id"].str[-1])
    assert treatments["evaluable"].dtype == "boolean"
    assert treatments["evaluable"].isna().tolist() == [False] * 4 + [True] * 3
    assert treatments.loc["6", "ln_ic50"] == -1.25
    assert treatments["ln_ic50"].isna().sum() == 5


def test_truth_is_kept_only_when_both_sides_have_it(tmp_path: Path) -> None:
    def truth(samples: range) -> pd.DataFrame:
        ids = [f"{SECRET}{i}" for i in samples]
        return pd.DataFrame({"sample_id": ids, "true_probability": 0.25})

    store = tmp_path / "store"
    append_cohort(store, _cohort(range(4)), source="a", truth=truth(range(4)))
    append_cohort(store, _cohort(range(2, 6)), source="b", truth=truth(range(2, 6)))
    kept = read_truth(store)
    assert kept is not None
    assert sorted(kept["sample_id"]) == sorted(f"{SECRET}{i}" for i in range(6))
    append_cohort(store, _cohort(range(6, 8)), source="c")
    assert read_truth(store) is None


def test_unknown_versions_and_non_stores_get_clear_errors(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = append_cohort(store, _cohort(range(3)), source="a")
    with pytest.raises(UnknownCohortVersionError, match=f"available: {first.version}"):
        read_cohort_version(store, "0123456789ab")
    with pytest.raises(UnknownCohortVersionError, match="not a data hash"):
        read_cohort_version(store, "champion")
    plain = write_cohort(_cohort(range(3)), tmp_path / "plain")
    with pytest.raises(ValueError, match="is a cohort folder, not a cohort store"):
        append_cohort(plain, _cohort(range(3, 5)), source="b")
    with pytest.raises(ValueError, match="not a cohort store"):
        list_versions(plain)


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    append_cohort(store, _cohort(range(10)), source="base")
    batches = [range(10 + 20 * b, 30 + 20 * b) for b in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda b: append_cohort(store, _cohort(b), source=str(b)), batches)
        )
    assert read_cohort(store).data_hash() == _cohort(range(90)).data_hash()
    versions = list_versions(store)
    assert len(versions) == 5 and len({r.version for r in results}) == 4
    # One linear history: each version's parent is the one before it.
    assert [v.parent for v in versions[1:]] == [v.version for v in versions[:-1]]
    assert not [p for p in (store / "versions").iterdir() if p.name.startswith(".")]


def test_slice_by_date_keeps_the_range_and_its_samples() -> None:
    cohort = _cohort(range(16))  # years 2016..2023, twice each
    early = slice_by_date(cohort, end=date(2018, 3, 1))
    late = slice_by_date(cohort, start=date(2018, 3, 1))
    assert sorted(early.treatments["start_date"].unique()) == [
        "2016-03-01", "2017-03-01",
    ]  # fmt: skip
    assert len(early.treatments) + len(late.treatments) == 16
    assert {p.sample_id for p in early.profiles} == set(early.treatments["sample_id"])
    with pytest.raises(ValueError, match="must be after"):
        slice_by_date(cohort, start=date(2020, 1, 1), end=date(2019, 1, 1))


def test_slice_names_a_missing_column_and_a_bad_date() -> None:
    cohort = _cohort(range(4))
    undated = Cohort(
        profiles=cohort.profiles,
        treatments=cohort.treatments.drop(columns="start_date"),
    )
    with pytest.raises(ValueError, match="no 'start_date' column"):
        slice_by_date(undated, end=date(2020, 1, 1))
    treatments = cohort.treatments.assign(start_date=["2016-01-01", "soon", None, None])
    bad = Cohort(profiles=cohort.profiles, treatments=treatments)
    with pytest.raises(ValueError, match="line 3: start_date 'soon' is not a date"):
        slice_by_date(bad, end=date(2020, 1, 1))
