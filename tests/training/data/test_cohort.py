"""The cohort contract: validation, order-free hashing, subsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile
from training.data import Cohort


def _profiles() -> tuple[Profile, ...]:
    braf = Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
    kras = Alteration(kind="mutation", gene="KRAS")
    return (
        Profile(sample_id="s1", tumour_type="melanoma", alterations=(braf, kras)),
        Profile(sample_id="s2", tumour_type="colorectal", alterations=(kras,)),
        Profile(sample_id="s3", tumour_type="melanoma", msi_high=True),
    )


def _treatments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": ["s1", "s1", "s2", "s3"],
            "drug": ["dabrafenib", "trametinib", "dabrafenib", "nivolumab"],
            "responded": [1, 1, 0, 1],
            "ln_ic50": [-2.5, -1.0, 3.0, np.nan],
        }
    )


def test_valid_cohort_keeps_rows_and_lists_drugs() -> None:
    cohort = Cohort(profiles=_profiles(), treatments=_treatments())
    assert len(cohort.treatments) == 4
    assert cohort.drugs == ("dabrafenib", "nivolumab", "trametinib")
    assert cohort.treatments["responded"].dtype == np.int64


def test_bool_responded_is_stored_as_int() -> None:
    treatments = _treatments().assign(responded=[True, True, False, True])
    cohort = Cohort(profiles=_profiles(), treatments=treatments)
    assert cohort.treatments["responded"].tolist() == [1, 1, 0, 1]


@pytest.mark.parametrize("column", ["sample_id", "drug", "responded"])
def test_missing_column_is_named(column: str) -> None:
    with pytest.raises(ValueError, match=rf"missing column\(s\) \['{column}'\]"):
        Cohort(profiles=_profiles(), treatments=_treatments().drop(columns=column))


@pytest.mark.parametrize("bad", [2, -1, 0.5, np.nan])
def test_responded_other_than_0_1_is_refused(bad: float) -> None:
    treatments = _treatments().astype({"responded": "float64"})
    treatments.loc[2, "responded"] = bad
    with pytest.raises(ValueError, match="'responded' has 1 value"):
        Cohort(profiles=_profiles(), treatments=treatments)


def test_drug_must_be_lower_case() -> None:
    treatments = _treatments().assign(drug=["Dabrafenib", "trametinib", "x", "y"])
    with pytest.raises(ValueError, match="lower-case generic names"):
        Cohort(profiles=_profiles(), treatments=treatments)


def test_integer_sample_ids_are_refused() -> None:
    treatments = _treatments().assign(sample_id=[1, 1, 2, 3])
    with pytest.raises(ValueError, match="'sample_id' must hold non-null str"):
        Cohort(profiles=_profiles(), treatments=treatments)


def test_unknown_samples_are_counted_not_named() -> None:
    treatments = _treatments().assign(sample_id=["s1", "secret-a", "secret-a", "zz"])
    with pytest.raises(ValueError, match=r"3 treatment row\(s\) from 2 sample") as info:
        Cohort(profiles=_profiles(), treatments=treatments)
    assert "secret" not in str(info.value)
    assert "zz" not in str(info.value)


def test_profile_ids_must_be_unique_and_present() -> None:
    first, second, _ = _profiles()
    with pytest.raises(ValueError, match="1 profiles repeat"):
        Cohort(profiles=(first, second, first), treatments=_treatments().iloc[:3])
    nameless = Profile(tumour_type="melanoma")
    with pytest.raises(ValueError, match="1 of 3 profiles have no sample_id"):
        Cohort(profiles=(first, second, nameless), treatments=_treatments().iloc[:3])


def test_hash_ignores_row_column_and_alteration_order() -> None:
    cohort = Cohort(profiles=_profiles(), treatments=_treatments())
    rng = np.random.default_rng(0)
    shuffled = _treatments().sample(frac=1.0, random_state=1)
    shuffled = shuffled[list(rng.permutation(shuffled.columns))]
    first, *rest = _profiles()
    reordered = first.model_copy(update={"alterations": first.alterations[::-1]})
    other = Cohort(profiles=(*rest[::-1], reordered), treatments=shuffled)
    assert other.data_hash() == cohort.data_hash()
    assert len(cohort.data_hash()) == 64


def test_hash_changes_with_content() -> None:
    cohort = Cohort(profiles=_profiles(), treatments=_treatments())
    flipped = _treatments().assign(responded=[1, 1, 1, 1])
    assert Cohort(_profiles(), flipped).data_hash() != cohort.data_hash()
    first, *rest = _profiles()
    msi = first.model_copy(update={"msi_high": True})
    assert Cohort((msi, *rest), _treatments()).data_hash() != cohort.data_hash()


def test_subset_by_drug_and_sample() -> None:
    cohort = Cohort(profiles=_profiles(), treatments=_treatments())
    by_drug = cohort.subset(drugs=["dabrafenib"])
    assert by_drug.drugs == ("dabrafenib",)
    assert len(by_drug.treatments) == 2
    assert len(by_drug.profiles) == 3
    by_sample = cohort.subset(samples=["s1"])
    assert [p.sample_id for p in by_sample.profiles] == ["s1"]
    assert by_sample.treatments["sample_id"].unique().tolist() == ["s1"]
