"""The DRUP simulator: DRUP shape, two-stage rule, planted truth, real frequencies."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from features import DRUP_DRUGS, TUMOUR_TYPE_LINEAGE, Alteration, Profile
from training.data import Cohort, DrupParams, SimulatedCohort, simulate_drup
from training.data._drup_biomarkers import (
    BRAF_MEK_DRUGS,
    PD1_DRUGS,
    SUBGROUPS,
)

SEED = 0


@pytest.fixture(scope="module")
def simulated(gdsc: Cohort) -> SimulatedCohort:
    """The default DRUP-shaped simulation, resampling the real GDSC profiles."""
    return simulate_drup(seed=SEED, source=gdsc)


@pytest.fixture(scope="module")
def episodes(simulated: SimulatedCohort) -> pd.DataFrame:
    """Truth of every enrolled patient (enrolment order) with evaluable outcomes."""
    outcomes = simulated.cohort.treatments.drop(columns=["drug", "cohort_id"])
    return simulated.truth.merge(
        outcomes, on=["sample_id", "evaluable"], how="left", validate="1:1"
    )


@pytest.fixture(scope="module")
def profiles(simulated: SimulatedCohort) -> dict[str, Profile]:
    return {str(p.sample_id): p for p in simulated.cohort.profiles}


def _rate(episodes: pd.DataFrame, subgroup: str) -> tuple[float, int]:
    rows = episodes[episodes["evaluable"] & episodes["subgroup"].eq(subgroup)]
    return float(rows["responded"].mean()), len(rows)


# --- reproducibility --------------------------------------------------------------


@pytest.mark.real_data
def test_same_seed_gives_the_same_cohort(
    gdsc: Cohort, simulated: SimulatedCohort
) -> None:
    again = simulate_drup(seed=SEED, source=gdsc)
    assert again.cohort.data_hash() == simulated.cohort.data_hash()
    pd.testing.assert_frame_equal(again.truth, simulated.truth)
    other = simulate_drup(seed=SEED + 1, source=gdsc)
    assert other.cohort.data_hash() != simulated.cohort.data_hash()


# --- DRUP's published shape (published figures) ---------------------------------


@pytest.mark.real_data
def test_shape_matches_drup(simulated: SimulatedCohort) -> None:
    truth, treatments = simulated.truth, simulated.cohort.treatments
    assert len(simulated.cohort.profiles) == len(truth) == pytest.approx(1610, rel=0.05)
    assert len(treatments) == pytest.approx(1363, rel=0.05)
    assert set(treatments["drug"]) == set(DRUP_DRUGS) and len(DRUP_DRUGS) == 37
    assert truth["rare_cancer"].mean() == pytest.approx(0.391, abs=0.05)
    assert treatments["responded"].mean() == pytest.approx(0.349, abs=0.04)
    objective = treatments["best_response"].isin(["CR", "PR"]).mean()
    assert objective == pytest.approx(0.157, abs=0.04)
    assert treatments["exceptional"].mean() == pytest.approx(0.07, abs=0.03)
    assert simulated.n_screened > len(truth)  # screen failures exist


@pytest.mark.real_data
def test_treatments_follow_the_contract(
    simulated: SimulatedCohort, profiles: dict[str, Profile]
) -> None:
    treatments, truth = simulated.cohort.treatments, simulated.truth
    assert list(treatments.columns) == [
        "sample_id", "drug", "responded", "start_date", "cohort_id",
        "best_response", "evaluable", "exceptional",
    ]  # fmt: skip
    assert treatments["evaluable"].all()
    assert set(treatments["sample_id"]) == set(
        truth.loc[truth["evaluable"], "sample_id"]
    )
    assert set(profiles) == set(truth["sample_id"])
    assert all(re.fullmatch(r"DRUP-\d{6}", s) for s in profiles)
    benefit = treatments["best_response"].isin(["CR", "PR", "SD>=16w"])
    assert (benefit == treatments["responded"].astype(bool)).all()
    assert set(treatments["best_response"]) == {"CR", "PR", "SD>=16w", "PD"}
    assert (treatments["exceptional"] <= treatments["responded"]).all()
    starts = pd.to_datetime(treatments["start_date"], format="%Y-%m-%d")
    assert starts.min() >= pd.Timestamp(date(2016, 1, 1))
    assert starts.max() <= pd.Timestamp(date(2024, 12, 31))
    for row in truth.to_dict("records"):
        assert row["cohort_id"] == "|".join(
            [row["tumour_type"], row["biomarker"], row["drug"]]
        )
        assert profiles[str(row["sample_id"])].tumour_type == row["tumour_type"]


@pytest.mark.real_data
def test_every_cohort_follows_the_two_stage_rule(episodes: pd.DataFrame) -> None:
    statuses = []
    for _, cohort in episodes.groupby("cohort_id", sort=False):
        dates = cohort["start_date"].dropna()
        assert dates.is_monotonic_increasing  # enrolment order is date order
        evaluable = cohort[cohort["evaluable"]]
        n, first8 = len(evaluable), evaluable["responded"].iloc[:8].sum()
        assert n <= 24
        assert (evaluable["stage"] == np.where(np.arange(n) < 8, 1, 2)).all()
        if n >= 8 and first8 == 0:
            assert n == 8, "a cohort without benefit in stage 1 must close at 8"
            statuses.append("closed")
        elif n > 8:
            assert first8 >= 1
            statuses.append("expanded")
        else:
            statuses.append("stage 1" if n < 8 else "at 8 with benefit")
    counts = pd.Series(statuses).value_counts()
    assert counts.get("closed", 0) >= 3 and counts.get("expanded", 0) >= 20


@pytest.mark.real_data
def test_treatments_are_the_evaluable_enrolments(
    simulated: SimulatedCohort, episodes: pd.DataFrame
) -> None:
    # Every evaluable enrolment is one treatment row; a cohort of 8 evaluable
    # patients none of whom benefited never expands.
    evaluable = episodes[episodes["evaluable"]]
    assert len(evaluable) == len(simulated.cohort.treatments)
    outcomes = simulated.cohort.treatments.set_index("sample_id")["responded"]
    benefit = evaluable["sample_id"].map(outcomes).groupby(evaluable["cohort_id"])
    closed = benefit.sum().eq(0) & benefit.size().eq(8)
    assert closed.any()
    assert (benefit.size()[benefit.sum().eq(0)] <= 8).all()


# --- the truth ---------------------------------------------------------------------


@pytest.mark.real_data
def test_outcomes_are_drawn_from_the_true_probability(episodes: pd.DataFrame) -> None:
    evaluable = episodes[episodes["evaluable"]]
    truth = evaluable["true_probability"]
    assert truth.between(0, 1).all()
    assert evaluable["responded"].mean() == pytest.approx(truth.mean(), abs=0.03)
    assert truth.mean() == pytest.approx(0.349, abs=0.01)  # the calibrated baseline
    assert roc_auc_score(evaluable["responded"], truth) > 0.65
    assert set(episodes["subgroup"]) <= {*SUBGROUPS, "baseline"}


@pytest.mark.real_data
def test_published_subgroups_are_planted(episodes: pd.DataFrame) -> None:
    msi, n_msi = _rate(episodes, "msi_pd1")
    assert n_msi >= 30 and 0.5 <= msi <= 0.75  # DRUP: 63%
    cdk, n_cdk = _rate(episodes, "cdk46_pathway")
    assert n_cdk >= 50 and cdk < 0.25  # DRUP: 15%
    braf_rare, n_rare = _rate(episodes, "braf_v600_rare")
    braf_crc, n_crc = _rate(episodes, "braf_v600_colorectal")
    assert n_rare >= 15 and n_crc >= 15
    assert braf_rare > 0.6 and braf_crc < braf_rare - 0.3  # Hoes 2022: 75% in rare


@pytest.mark.real_data
def test_combination_subgroups_differ(episodes: pd.DataFrame) -> None:
    pairs = [
        ("parp_brca_hrd_high", "parp_brca_hrd_low"),  # BRCA needs the HRD scar
        ("erbb2_amp_gi_ras_wt", "erbb2_amp_other"),  # ERBB2 amp helps in GI, RAS-wt
        ("tmb_very_high_ici", "tmb_ici_colorectal_mss"),  # TMB fails in MSS colorectal
    ]
    for better, worse in pairs:
        (high, n_high), (low, n_low) = _rate(episodes, better), _rate(episodes, worse)
        assert n_high >= 10 and n_low >= 10, (better, worse)
        assert high > low + 0.15, (better, high, worse, low)


@pytest.mark.real_data
def test_subgroup_labels_agree_with_the_profiles(
    episodes: pd.DataFrame, profiles: dict[str, Profile]
) -> None:
    def braf_v600(profile: Profile) -> bool:
        return any(a.gene == "BRAF" and a.codon == "V600" for a in profile.alterations)

    for sample_id, drug, subgroup in zip(
        episodes["sample_id"], episodes["drug"], episodes["subgroup"], strict=True
    ):
        profile = profiles[str(sample_id)]
        if subgroup == "msi_pd1":
            assert profile.msi_high and drug in PD1_DRUGS
        if str(subgroup).startswith("braf_v600"):
            assert braf_v600(profile) and drug in BRAF_MEK_DRUGS
        if subgroup == "braf_v600_colorectal":
            assert profile.tumour_type == "colorectal"
        if subgroup == "parp_brca_hrd_low":
            assert profile.hrd_score is not None and profile.hrd_score < 42
        if subgroup == "tmb_ici_colorectal_mss":
            assert not profile.msi_high and (profile.tmb_mut_per_mb or 0) >= 10


@pytest.mark.real_data
def test_planted_rates_are_recovered(
    simulated: SimulatedCohort, episodes: pd.DataFrame
) -> None:
    for subgroup, expected in simulated.params.subgroup_benefit.items():
        observed, n = _rate(episodes, subgroup)
        if n >= 40:
            error = 3.5 * np.sqrt(expected * (1 - expected) / n)
            assert observed == pytest.approx(expected, abs=error), subgroup


# --- profiles ------------------------------------------------------------------------


def _mutated_share(profiles: list[Profile], gene: str) -> float:
    def mutated(profile: Profile) -> bool:
        return any(a.gene == gene and a.kind == "mutation" for a in profile.alterations)

    return float(np.mean([mutated(p) for p in profiles]))


@pytest.mark.real_data
def test_alteration_frequencies_follow_gdsc(
    simulated: SimulatedCohort, gdsc: Cohort
) -> None:
    genes = ["TP53", "KRAS", "PIK3CA", "APC", "PTEN", "NRAS", "SMAD4", "CDKN2A", "RB1"]
    by_type: dict[str, list[Profile]] = {}
    for profile in simulated.cohort.profiles:
        by_type.setdefault(profile.tumour_type, []).append(profile)
    pairs = []
    for tumour_type, patients in by_type.items():
        lines = [p for p in gdsc.profiles if p.tumour_type == tumour_type]
        if len(patients) >= 40 and len(lines) >= 15:
            pairs += [
                (_mutated_share(patients, g), _mutated_share(lines, g)) for g in genes
            ]
    simulated_share, gdsc_share = np.array(pairs).T
    assert len(pairs) >= 9 * 8
    assert np.corrcoef(simulated_share, gdsc_share)[0, 1] > 0.85
    kras = {t: _mutated_share(by_type[t], "KRAS") for t in by_type}
    assert min(kras["colorectal"], kras["pancreatic"]) > 3 * kras["melanoma"] + 0.1


@pytest.mark.real_data
def test_biomarkers_gdsc_lacks_are_added(simulated: SimulatedCohort) -> None:
    table = pd.DataFrame(
        {
            "tumour_type": [p.tumour_type for p in simulated.cohort.profiles],
            "msi": [bool(p.msi_high) for p in simulated.cohort.profiles],
            "tmb": [p.tmb_mut_per_mb for p in simulated.cohort.profiles],
            "hrd": [p.hrd_score for p in simulated.cohort.profiles],
            "brca": [
                any(a.gene in ("BRCA1", "BRCA2") for a in p.alterations)
                for p in simulated.cohort.profiles
            ],
        }
    )
    assert table[["tmb", "hrd"]].notna().all().all()
    msi_by_type = table.groupby("tumour_type")["msi"].mean()
    assert msi_by_type["colorectal"] > 3 * table["msi"].mean() / 2
    assert table.groupby("msi")["tmb"].median()[True] > 3 * table["tmb"].median()
    assert table.groupby("brca")["hrd"].mean()[True] > 15 + table["hrd"].mean()
    braf = [
        a for p in simulated.cohort.profiles for a in p.alterations if a.gene == "BRAF"
    ]
    assert braf and all(a.protein_change for a in braf)
    v600 = np.mean([a.codon == "V600" for a in braf])
    assert 0.5 < v600 < 1.0  # mostly V600E, some non-V600


# --- parameters and inputs ---------------------------------------------------------


def test_default_params_describe_drup() -> None:
    params = DrupParams()
    weights = params.tumour_type_weights
    rare = sum(w for t, w in weights.items() if t in set(params.rare_tumour_types))
    assert rare / sum(weights.values()) == pytest.approx(0.391, abs=0.005)
    assert set(params.tumour_type_weights) <= set(TUMOUR_TYPE_LINEAGE)
    assert set(params.rare_tumour_types) <= set(params.tumour_type_weights)
    assert params.n_patients * params.evaluable_fraction == pytest.approx(1363)
    with pytest.raises(ValidationError):
        params.n_patients = 10  # type: ignore[misc]


def test_params_refuse_inconsistent_tables() -> None:
    with pytest.raises(ValidationError, match="subgroup_benefit must have exactly"):
        DrupParams(subgroup_benefit={"msi_pd1": 0.63})
    with pytest.raises(ValidationError, match="unknown drug"):
        DrupParams(on_label={"melanoma": ("aspirin",)})
    with pytest.raises(ValidationError, match="stage1_size"):
        DrupParams(stage1_size=24)


def _tiny_source() -> Cohort:
    braf = Alteration(kind="mutation", gene="BRAF")
    cdkn2a = Alteration(kind="deletion", gene="CDKN2A")
    erbb2 = Alteration(kind="amplification", gene="ERBB2")
    kras = Alteration(kind="mutation", gene="KRAS")
    events = [(braf,), (braf, kras), (cdkn2a,), (erbb2,), (kras,), ()]
    profiles = [
        Profile(sample_id=f"{t}-{i}", tumour_type=t, alterations=e, msi_high=i == 5)
        for t in ("colorectal", "melanoma", "glioma")
        for i, e in enumerate(events)
    ]
    treatments = pd.DataFrame(
        {"sample_id": ["glioma-0"], "drug": ["x"], "responded": [0]}
    )
    return Cohort(profiles=tuple(profiles), treatments=treatments)


def test_simulates_from_any_source_with_the_tumour_types() -> None:
    weights = {"colorectal": 0.5, "melanoma": 0.3, "glioma": 0.2}
    params = DrupParams(
        n_patients=120,
        tumour_type_weights=weights,
        rare_tumour_types=("glioma",),
        cell_line_event_keep={},
    )
    simulated = simulate_drup(seed=1, params=params, source=_tiny_source())
    assert len(simulated.truth) == 120
    assert set(simulated.truth["tumour_type"]) == set(weights)
    assert simulated.truth["true_probability"].between(0, 1).all()
    again = simulate_drup(seed=1, params=params, source=_tiny_source())
    assert again.cohort.data_hash() == simulated.cohort.data_hash()


def test_source_lacking_a_tumour_type_is_refused() -> None:
    with pytest.raises(ValueError, match="'biliary tract'"):
        simulate_drup(seed=0, source=_tiny_source())
