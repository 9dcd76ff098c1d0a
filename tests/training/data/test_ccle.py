from pathlib import Path

import pandas as pd
import pytest

from training.data import CCLE_FOLDER, Cohort, load_ccle

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def ccle(shipped_data_dir: Path, gdsc: Cohort) -> Cohort:
    return load_ccle(shipped_data_dir / CCLE_FOLDER, profiles=gdsc.profiles)


def test_ccle_lines_carry_their_gdsc_profiles_and_gdsc_drug_names(
    ccle: Cohort, gdsc: Cohort
) -> None:
    assert len(ccle.drugs) == 13
    assert set(ccle.drugs) <= set(gdsc.drugs)
    assert {"plx-4720", "nilotinib", "lapatinib", "erlotinib"} <= set(ccle.drugs)
    by_id = {p.sample_id: p for p in gdsc.profiles}
    assert all(by_id[p.sample_id] == p for p in ccle.profiles)
    assert 300 <= len(ccle.profiles) <= 313
    assert not ccle.treatments.duplicated(["sample_id", "drug"]).any()


def test_responders_are_the_top_activity_areas_of_each_drug(ccle: Cohort) -> None:
    treatments = ccle.treatments
    rates = treatments.groupby("drug")["responded"].mean()
    assert rates.between(0.05, 0.25).all()
    for _, group in treatments.groupby("drug"):
        responders = group[group["responded"] == 1]["act_area"]
        others = group[group["responded"] == 0]["act_area"]
        assert responders.min() > others.max()  # higher ActArea = more sensitive


def test_braf_mutant_lines_respond_to_plx4720(ccle: Cohort) -> None:
    braf = {
        p.sample_id
        for p in ccle.profiles
        if any(a.gene == "BRAF" for a in p.alterations)
    }
    plx = ccle.treatments[ccle.treatments["drug"] == "plx-4720"]
    by_braf = plx.groupby(plx["sample_id"].isin(braf))["responded"].mean()
    assert by_braf[True] > 3 * by_braf[False]


def test_a_missing_file_is_named(tmp_path: Path, gdsc: Cohort) -> None:
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "ccle_drugs.csv", index=False)
    with pytest.raises(ValueError, match=r"ccle_response_actarea\.csv\.gz"):
        load_ccle(tmp_path, profiles=gdsc.profiles)
