"""GDSC1000 v17 loader: column mapping, labels, file checks, and the real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile
from training.config import load_config
from training.data import Cohort, load_gdsc
from training.data._gdsc import (
    CNA_REGIONS_FILE,
    COSMIC_INFO_FILE,
    DRUG_DECODE_FILE,
    DRUG_LIST_FILE,
    FEATURES_FILE,
    IC50_FILE,
    THRESHOLDS_FILE,
    label_responders,
    map_feature_columns,
)
from training.fitting import select_drugs

REPO = Path(__file__).resolve().parents[3]

# --- tiny synthetic GDSC folder ----------------------------------------------------

_FEATURE_COLUMNS = [
    "BRAF_mut",
    "BCR-ABL_mut",
    "EWSR1-X_mut",
    "HLA-A_mut",
    "gain_cnaPANCAN1_(CCNE1)",
    "loss_cnaPANCAN2",
    "loss_cnaPANCAN422, loss_cnaPANCAN423",
    "gain_cnaPANCAN59_(CCND1,CTTN)",
]


def _tiny_tables() -> dict[str, pd.DataFrame]:
    ids = [101, 102, 103, 104, 105, 106]
    flags = np.array(
        [
            [1, 0, 0, 0, 1, 1, 0, 0],  # BRAF melanoma with CCNE1 gain
            [0, 1, 0, 1, 0, 0, 1, 0],  # BCR-ABL CML
            [0, 0, 1, 0, 0, 0, 0, 1],  # EWSR1-? Ewing, CCND1/CTTN gain
            [1, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
        ]
    )
    features = pd.DataFrame(flags, columns=_FEATURE_COLUMNS)
    features.insert(0, "COSMIC_ID", ids)
    features.insert(
        1,
        "TISSUE_FACTOR",
        ["skin", "leukemia", "bone", "skin"] * 1 + ["breast", "large_intestine"],
    )
    features.insert(2, "MSI_FACTOR", [0, 0, 0, 0, 0, 1])
    ic50 = pd.DataFrame(
        {
            "COSMIC_ID": ids,
            "Drug_1_IC50": [-3.0, 2.0, 2.5, -2.0, 3.0, np.nan],  # dabrafenib
            "Drug_2_IC50": [1.0, np.nan, np.nan, 0.5, np.nan, np.nan],  # olaparib
            "Drug_3_IC50": [2.0, 3.0, -1.0, 2.5, 2.2, 2.4],  # olaparib rescreen
            "Drug_9_IC50": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],  # no name
        }
    )
    cosmic_info = pd.DataFrame(
        {
            "SAMPLE_NAME": ["a", "b", "c", "d", "e"],
            "COSMIC_ID": [101, 102, 103, 104, 105],
            "GDSC2": ["melanoma", "chronic_myeloid_leukaemia", "ewings_sarcoma",
                      "melanoma", np.nan],
        }
    )  # fmt: skip
    drug_list = pd.DataFrame(
        {"drug_id": [1, 2, 3], "Name": ["Dabrafenib", "Olaparib", " Olaparib"]}
    )
    thresholds = pd.DataFrame(
        {
            "pubchem": [1, 2],
            "IC50": [0.0, 1.0],
            "DrugName": ["d", "o"],
            "DrugID": [1, 2],
        }
    )
    regions = pd.DataFrame(
        {
            "cna_feature_id": ["cnaPANCAN1", "cnaPANCAN2", "cnaPANCAN59",
                               "cnaPANCAN422", "cnaPANCAN423"],
            "KnownDrivers": ["CCNE1", np.nan, np.nan, np.nan, np.nan],
            "KnownDrivers_Extended": ["CCNE1", np.nan, "CCND1,CTTN", "TLE3", np.nan],
        }
    )  # fmt: skip
    return {
        IC50_FILE: ic50,
        FEATURES_FILE: features,
        COSMIC_INFO_FILE: cosmic_info,
        DRUG_LIST_FILE: drug_list,
        THRESHOLDS_FILE: thresholds,
        CNA_REGIONS_FILE: regions,
    }


def _write(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, table in tables.items():
        table.to_csv(folder / name, index=False, sep="\t" if "tsv" in name else ",")
    return folder


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return _write(tmp_path / "gdsc", _tiny_tables())


def _profile(cohort: Cohort, sample_id: str) -> Profile:
    return next(p for p in cohort.profiles if p.sample_id == sample_id)


# --- column mapping ----------------------------------------------------------------


def test_mutation_and_fusion_columns() -> None:
    mapped = map_feature_columns(
        ["BRAF_mut", "BCR-ABL_mut", "EWSR1-FLI1_mut", "EWSR1-X_mut", "HLA-A_mut"],
        drivers=None,
    )
    assert mapped["BRAF_mut"] == (Alteration(kind="mutation", gene="BRAF"),)
    assert mapped["BCR-ABL_mut"] == (
        Alteration(kind="fusion", gene="BCR", partner_gene="ABL1"),
    )
    assert mapped["EWSR1-FLI1_mut"] == (
        Alteration(kind="fusion", gene="EWSR1", partner_gene="FLI1"),
    )
    assert mapped["EWSR1-X_mut"] == (Alteration(kind="fusion", gene="EWSR1"),)
    assert mapped["HLA-A_mut"] == (Alteration(kind="mutation", gene="HLA-A"),)


def test_cna_columns_use_annotation_then_column_names() -> None:
    columns = [
        "gain_cnaPANCAN1_(CCNE1)",
        "loss_cnaPANCAN2",
        "loss_cnaPANCAN7_(SMARCA4)",
    ]
    drivers = {"cnaPANCAN1": ("MYC",), "cnaPANCAN2": ()}
    mapped = map_feature_columns(columns, drivers=drivers)
    assert mapped[columns[0]] == (Alteration(kind="amplification", gene="MYC"),)
    assert mapped[columns[1]] == ()
    # cnaPANCAN7 is not annotated: the gene named in the column is used
    assert mapped[columns[2]] == (Alteration(kind="deletion", gene="SMARCA4"),)
    from_names = map_feature_columns(columns, drivers=None)
    assert from_names[columns[0]] == (Alteration(kind="amplification", gene="CCNE1"),)


def test_merged_loss_column_takes_both_regions() -> None:
    column = "loss_cnaPANCAN422, loss_cnaPANCAN423"
    drivers = {"cnaPANCAN422": ("TLE3",), "cnaPANCAN423": ("LRRC49",)}
    mapped = map_feature_columns([column], drivers=drivers)
    assert {e.gene for e in mapped[column]} == {"TLE3", "LRRC49"}
    assert {e.kind for e in mapped[column]} == {"deletion"}


def test_bad_gene_name_names_the_column() -> None:
    with pytest.raises(ValueError, match=r"column 'BR AF_mut'"):
        map_feature_columns(["BR AF_mut"], drivers=None)


# --- labels --------------------------------------------------------------------------


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "drug": ["a"] * 4 + ["b"] * 4,
            "drug_id": [1] * 4 + [2] * 4,
            "ln_ic50": [-1.0, 0.0, 1.0, 2.0, -3.0, 0.0, 0.0, 3.0],
        }
    )


def test_threshold_rule_with_zscore_fallback() -> None:
    thresholds = pd.DataFrame({"drug_id": [1], "threshold_ln_ic50": [0.5]})
    labelled = label_responders(_rows(), thresholds, rule="threshold", zscore_cutoff=-1)
    assert labelled["responded"].tolist() == [1, 1, 0, 0, 1, 0, 0, 0]
    assert labelled["label_rule"].tolist() == ["threshold"] * 4 + ["zscore"] * 4


def test_zscore_rule_ignores_thresholds() -> None:
    thresholds = pd.DataFrame({"drug_id": [1], "threshold_ln_ic50": [0.5]})
    labelled = label_responders(_rows(), thresholds, rule="zscore", zscore_cutoff=-1)
    # drug a: z = [-1.16, -0.39, 0.39, 1.16]; drug b: z = [-1.22, 0, 0, 1.22]
    assert labelled["responded"].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    assert set(labelled["label_rule"]) == {"zscore"}
    looser = label_responders(_rows(), None, rule="zscore", zscore_cutoff=0.0)
    assert looser["responded"].tolist() == [1, 1, 0, 0, 1, 0, 0, 0]


# --- loading the tiny folder ---------------------------------------------------------


def test_load_tiny_folder(tiny_dir: Path) -> None:
    cohort = load_gdsc(tiny_dir)
    assert [p.sample_id for p in cohort.profiles] == [str(i) for i in range(101, 107)]
    melanoma = _profile(cohort, "101")
    assert melanoma.tumour_type == "melanoma"
    assert melanoma.alterations == (
        Alteration(kind="amplification", gene="CCNE1"),
        Alteration(kind="mutation", gene="BRAF"),
    )
    cml = _profile(cohort, "102")
    assert cml.tumour_type == "chronic myeloid leukaemia"
    assert Alteration(kind="fusion", gene="BCR", partner_gene="ABL1") in cml.alterations
    assert Alteration(kind="deletion", gene="TLE3") in cml.alterations
    assert {a.gene for a in _profile(cohort, "103").alterations} == {
        "CCND1", "CTTN", "EWSR1"
    }  # fmt: skip
    assert _profile(cohort, "105").tumour_type == "breast"  # TISSUE_FACTOR fallback
    assert _profile(cohort, "106").msi_high is True


def test_tiny_folder_treatments(tiny_dir: Path) -> None:
    treatments = load_gdsc(tiny_dir).treatments
    assert set(treatments["drug"]) == {"dabrafenib", "olaparib"}
    assert 9 not in set(treatments["drug_id"])  # unnamed id skipped
    olaparib = treatments[treatments["drug"] == "olaparib"]
    assert set(olaparib["drug_id"]) == {3}  # rescreen with more lines wins
    assert set(olaparib["label_rule"]) == {"zscore"}  # its threshold is id 2's
    dabrafenib = treatments[treatments["drug"] == "dabrafenib"].set_index("sample_id")
    assert set(dabrafenib["label_rule"]) == {"threshold"}
    assert dabrafenib["responded"].to_dict() == {
        "101": 1, "102": 0, "103": 0, "104": 1, "105": 0
    }  # fmt: skip


def test_unnamed_drugs_can_be_kept_by_id(tiny_dir: Path) -> None:
    cohort = load_gdsc(tiny_dir, unnamed_drugs="keep_id", label_rule="zscore")
    assert "gdsc_drug_9" in cohort.drugs


def test_sdist_files_only(tiny_dir: Path) -> None:
    for name in (DRUG_LIST_FILE, THRESHOLDS_FILE, CNA_REGIONS_FILE):
        (tiny_dir / name).unlink()
    decode = pd.DataFrame(
        {"DRUG_ID": ["Drug_3_IC50"], "DRUG_NAME": ["Olaparib"], "DRUG_TARGET": ["x"]}
    )
    decode.to_csv(tiny_dir / DRUG_DECODE_FILE, index=False)
    cohort = load_gdsc(tiny_dir)
    assert cohort.drugs == ("olaparib",)
    assert set(cohort.treatments["label_rule"]) == {"zscore"}
    # driver genes now come from the column names
    assert {a.gene for a in _profile(cohort, "103").alterations} == {
        "CCND1", "CTTN", "EWSR1"
    }  # fmt: skip
    (tiny_dir / DRUG_DECODE_FILE).unlink()
    with pytest.raises(ValueError, match="drug names are needed"):
        load_gdsc(tiny_dir)


@pytest.mark.parametrize(
    ("file_name", "column"),
    [
        (FEATURES_FILE, "MSI_FACTOR"),
        (FEATURES_FILE, "COSMIC_ID"),
        (IC50_FILE, "COSMIC_ID"),
        (COSMIC_INFO_FILE, "GDSC2"),
        (DRUG_LIST_FILE, "Name"),
        (THRESHOLDS_FILE, "IC50"),
    ],
)
def test_missing_column_names_file_and_column(
    tmp_path: Path, file_name: str, column: str
) -> None:
    tables = _tiny_tables()
    tables[file_name] = tables[file_name].drop(columns=column)
    folder = _write(tmp_path / "gdsc", tables)
    with pytest.raises(
        ValueError, match=rf"{file_name}: missing column\(s\) \['{column}'\]"
    ):
        load_gdsc(folder)


def test_bad_ids_and_values_are_named(tmp_path: Path) -> None:
    tables = _tiny_tables()
    tables[IC50_FILE] = tables[IC50_FILE].assign(
        COSMIC_ID=["x1", "2", "3", "4", "5", "6"]
    )
    with pytest.raises(ValueError, match=f"{IC50_FILE}: column 'COSMIC_ID' must hold"):
        load_gdsc(_write(tmp_path / "a", tables))
    tables = _tiny_tables()
    tables[FEATURES_FILE].loc[0, "BRAF_mut"] = 2
    with pytest.raises(ValueError, match=f"{FEATURES_FILE}: column 'BRAF_mut' must"):
        load_gdsc(_write(tmp_path / "b", tables))
    tables = _tiny_tables()
    tables[DRUG_LIST_FILE].loc[1, "drug_id"] = 1
    with pytest.raises(ValueError, match=f"{DRUG_LIST_FILE}: column 'drug_id' repeats"):
        load_gdsc(_write(tmp_path / "d", tables))
    tables = _tiny_tables()
    tables[COSMIC_INFO_FILE] = tables[COSMIC_INFO_FILE].iloc[:0]
    with pytest.raises(ValueError, match=f"{COSMIC_INFO_FILE}: has no rows"):
        load_gdsc(_write(tmp_path / "c", tables))


# --- the real files ----------------------------------------------------------------


@pytest.fixture(scope="module")
def gdsc(gdsc_data_dir: Path) -> Cohort:
    return load_gdsc(gdsc_data_dir)


def _carriers(cohort: Cohort, event: Alteration) -> set[str]:
    return {str(p.sample_id) for p in cohort.profiles if event in p.alterations}


@pytest.mark.real_data
def test_real_counts(gdsc: Cohort) -> None:
    assert len(gdsc.profiles) == 988
    assert 245 <= len(gdsc.drugs) <= 265
    assert len(gdsc.treatments) > 190_000
    assert gdsc.treatments[["ln_ic50", "responded"]].notna().all().all()
    rules = gdsc.treatments.groupby("label_rule")["drug"].nunique()
    assert rules["threshold"] >= 200
    assert 0.05 < gdsc.treatments["responded"].mean() < 0.3


@pytest.mark.real_data
def test_every_shipped_drug_trains_with_the_default_config(gdsc: Cohort) -> None:
    drugs = select_drugs(gdsc, config=load_config(REPO / "mlflow.yml"))
    assert len(drugs) == 248 == len(gdsc.drugs)
    treated = gdsc.treatments[gdsc.treatments["drug"].isin(drugs)]
    rules = treated.groupby("label_rule")["drug"].nunique().to_dict()
    assert rules == {"threshold": 208, "zscore": 40}


@pytest.mark.real_data
def test_real_profiles_validate(gdsc: Cohort) -> None:
    for profile in gdsc.profiles:
        assert Profile.model_validate(profile.model_dump()) == profile
    kinds = {a.kind for p in gdsc.profiles for a in p.alterations}
    assert kinds == {"mutation", "amplification", "deletion", "fusion"}
    assert sum(bool(p.msi_high) for p in gdsc.profiles) == 60
    amplified = {a.gene for p in gdsc.profiles for a in p.alterations
                 if a.kind == "amplification"}  # fmt: skip
    assert {"CCND1", "FGFR1", "ERBB2", "MYC"} <= amplified


@pytest.mark.real_data
def test_real_known_biology(gdsc: Cohort) -> None:
    braf = _carriers(gdsc, Alteration(kind="mutation", gene="BRAF"))
    melanoma = {p.sample_id for p in gdsc.profiles if p.tumour_type == "melanoma"}
    assert len(braf & melanoma) >= 20
    bcr_abl = _carriers(
        gdsc, Alteration(kind="fusion", gene="BCR", partner_gene="ABL1")
    )
    cml = {
        p.sample_id
        for p in gdsc.profiles
        if p.tumour_type == "chronic myeloid leukaemia"
    }
    assert len(bcr_abl & cml) >= 5
    dabrafenib = gdsc.treatments[gdsc.treatments["drug"] == "dabrafenib"]
    mutant = dabrafenib["sample_id"].isin(braf)
    rate_mutant = dabrafenib.loc[mutant, "responded"].mean()
    rate_wild = dabrafenib.loc[~mutant, "responded"].mean()
    assert rate_mutant > rate_wild + 0.3


@pytest.mark.real_data
def test_real_hash_stable_under_shuffles(gdsc: Cohort) -> None:
    rng = np.random.default_rng(7)
    order = rng.permutation(len(gdsc.profiles))
    shuffled = Cohort(
        profiles=tuple(gdsc.profiles[i] for i in order),
        treatments=gdsc.treatments.sample(frac=1.0, random_state=7),
    )
    assert shuffled.data_hash() == gdsc.data_hash()
    responded = gdsc.treatments["responded"].to_numpy().copy()
    responded[0] = 1 - responded[0]
    flipped = gdsc.treatments.assign(responded=responded)
    assert Cohort(gdsc.profiles, flipped).data_hash() != gdsc.data_hash()


@pytest.mark.real_data
def test_real_truncated_copy_missing_column(
    gdsc_data_dir: Path, tmp_path: Path
) -> None:
    for name in (IC50_FILE, FEATURES_FILE, COSMIC_INFO_FILE):
        table = pd.read_csv(gdsc_data_dir / name, nrows=20)
        if name == FEATURES_FILE:
            table = table.drop(columns="TISSUE_FACTOR")
        table.to_csv(tmp_path / name, index=False)
    with pytest.raises(ValueError, match=rf"{FEATURES_FILE}: .*\['TISSUE_FACTOR'\]"):
        load_gdsc(tmp_path)


def test_invalid_profile_names_row_and_column(tmp_path: Path) -> None:
    tables = _tiny_tables()
    tables[FEATURES_FILE].loc[4, "TISSUE_FACTOR"] = np.nan  # line 105: no GDSC2 either
    with pytest.raises(ValueError, match=r"row 4 \(COSMIC_ID 105\), column GDSC2/TISS"):
        load_gdsc(_write(tmp_path / "gdsc", tables))
