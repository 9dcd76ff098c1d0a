"""cBioPortal-style study import: rules, rejections with lines, mapping, real Riaz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from features import Alteration, ProfileVectorizer
from tests.conftest import unshipped_data
from training.data import (
    MAPPINGS_FOLDER,
    ImportResult,
    Rejection,
    ResponseRule,
    StudyFormatError,
    StudyMapping,
    import_study,
    load_mapping,
)
from training.data._study_events import is_excluded_class, protein_change_of

# --- a tiny synthetic study ----------------------------------------------------------

_MUTATIONS = """\
#version 2.4
Hugo_Symbol\tEntrez_Gene_Id\tVariant_Classification\tTumor_Sample_Barcode\tHGVSp_Short
BRAF\t673\tMissense_Mutation\tS1\tp.V600E
TP53\t7157\tSilent\tS1\tp.P72P
KRAS\t3845\tMissense_Mutation\tS2\tp.G12D
BRAF\t673\tMissense_Mutation\tS1\tp.V600E
PTEN\t5728\tNonsense_Mutation\tS2\tp.R130*
TTN\t7273\tIntron\tS3\t
NRAS\t4893\tMissense_Mutation\tS2\t
"""
_CNA = """\
Hugo_Symbol\tEntrez_Gene_Id\tS1\tS2\tS3\tS4
ERBB2\t2064\t2\t0\t0\t-1
CDKN2A\t1029\t-2\t0\tNA\t0
"""
_SV = """\
Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\tClass
S2\tEML4\tALK\tFUSION
S3\tEGFR\tEGFR\tDELETION
"""
_CLINICAL_SAMPLE = """\
#Sample Identifier\tPatient Identifier\tCancer Type\tTMB
#Sample id\tPatient id\tCancer type\tMutations per Mb
#STRING\tSTRING\tSTRING\tNUMBER
#1\t1\t1\t1
SAMPLE_ID\tPATIENT_ID\tCANCER_TYPE\tTMB_NONSYNONYMOUS
S1\tP1\tMelanoma\t12.5
S2\tP2\tNon-Small Cell Lung Cancer\t3
S3\tP3\tColorectal Cancer\tNA
S4\tP4\tBreast Cancer\t1
"""
_CLINICAL_PATIENT = """\
#Patient Identifier\tMSI
#Patient id\tMSI status
#STRING\tSTRING
#1\t1
PATIENT_ID\tMSI_TYPE
P1\tStable
P2\tStable
P3\tInstable
P4\tStable
"""
_OUTCOMES = """\
sample_id\tdrug\tresponded\tbest_response\tstart_date\tpfs_weeks
S1\tDabrafenib\t\tPR\t2020-01-15\t40
S2\tcrizotinib\t\tSD\t2020-02-01\t20
S2\tlorlatinib\t\tSD\t2021-01-01\t10
S3\tpembrolizumab\t0\t\t2020-03-01\t
S4\ttrastuzumab\t\tNE\t2020-04-01\t
S9\tnivolumab\t1\t\t2020-05-01\t
"""


def _write_study(folder: Path, **overrides: str) -> Path:
    files = {
        "data_mutations.txt": _MUTATIONS,
        "data_cna.txt": _CNA,
        "data_sv.txt": _SV,
        "data_clinical_sample.txt": _CLINICAL_SAMPLE,
        "data_clinical_patient.txt": _CLINICAL_PATIENT,
        "data_treatment_outcome.txt": _OUTCOMES,
        **overrides,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def study(tmp_path: Path) -> ImportResult:
    return import_study(_write_study(tmp_path / "study"), mapping=StudyMapping())


def test_profiles_combine_mutations_copy_number_fusions_and_clinical(
    study: ImportResult,
) -> None:
    profiles = {p.sample_id: p for p in study.cohort.profiles}
    assert set(profiles) == {"S1", "S2", "S3"}
    s1, s2, s3 = profiles["S1"], profiles["S2"], profiles["S3"]
    assert set(s1.alterations) == {
        Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),
        Alteration(kind="amplification", gene="ERBB2"),
        Alteration(kind="deletion", gene="CDKN2A"),
    }
    assert Alteration(kind="fusion", gene="EML4", partner_gene="ALK") in s2.alterations
    assert Alteration(kind="mutation", gene="NRAS") in s2.alterations
    assert (s1.tumour_type, s2.tumour_type) == (
        "melanoma",
        "non-small cell lung cancer",
    )
    assert (s1.tmb_mut_per_mb, s3.tmb_mut_per_mb) == (12.5, None)
    assert (s1.msi_high, s3.msi_high) == (False, True)  # MSI from the patient table
    # Silent/intron variants and an intragenic SV are excluded, yet S3 was profiled.
    assert s3.alterations == ()


def test_counts_exclusions_and_duplicates(study: ImportResult) -> None:
    counts = study.counts
    assert counts["mutations.rows"] == 7
    assert counts["mutations.excluded"] == 2
    assert counts["mutations.excluded.Silent"] == 1
    assert counts["mutations.excluded.Intron"] == 1
    assert counts["events.duplicates"] == 1
    assert counts["structural_variants.intragenic"] == 1
    assert counts["copy_number.amplifications"] == 1
    assert counts["copy_number.deletions"] == 1
    assert counts["mutations.without_protein_change"] == 1  # NRAS, empty HGVSp


def test_outcomes_follow_the_response_rule(study: ImportResult) -> None:
    treatments = study.cohort.treatments.set_index("drug")
    assert treatments.loc["dabrafenib", "responded"] == 1  # PR; drug lower-cased
    assert treatments.loc["crizotinib", "responded"] == 1  # SD for 20 weeks
    assert treatments.loc["lorlatinib", "responded"] == 0  # SD for 10 weeks
    assert treatments.loc["pembrolizumab", "responded"] == 0  # given
    assert treatments.loc["pembrolizumab", "label_rule"] == "given"
    assert treatments.loc["crizotinib", "label_rule"] == "clinical_benefit"
    assert str(treatments["start_date"].dtype).startswith("datetime64")
    assert set(treatments["cohort_id"]) == {"study"}


def test_unmatched_samples_are_rejected_with_their_lines(study: ImportResult) -> None:
    assert Rejection(
        "data_treatment_outcome.txt", 6, "best_response", "best response 'NE' is not "
        "evaluable"
    ) in study.rejected  # fmt: skip
    assert (
        Rejection(
            "data_treatment_outcome.txt",
            7,
            "sample_id",
            "sample has no usable genomic data (no profile)",
        )
        in study.rejected
    )
    # S4 is only in the copy-number table: its column header is where it appears,
    # given by number, since the header is a sample id.
    cna = Rejection(
        "data_cna.txt",
        1,
        None,
        "sample has genomic data but no usable treatment outcome",
    )
    assert cna in study.rejected
    shown = str(study.rejected[study.rejected.index(cna)])
    assert "column 6" in shown and "S4" not in shown
    assert study.counts["samples.outcome_without_profile"] == 1
    assert study.counts["samples.profile_without_outcome"] == 1
    assert study.counts["rejected"] == len(study.rejected) == 3


def test_empty_gene_is_rejected_with_file_line_and_column(tmp_path: Path) -> None:
    maf = _MUTATIONS + "\t\tMissense_Mutation\tS3\tp.A1T\n"  # line 10 (after #version)
    result = import_study(_write_study(tmp_path, **{"data_mutations.txt": maf}))
    [rejection] = [r for r in result.rejected if r.file == "data_mutations.txt"]
    assert (rejection.line, rejection.column) == (10, "Hugo_Symbol")
    assert "empty gene" in rejection.reason
    assert str(rejection).startswith(
        "data_mutations.txt, line 10, column 'Hugo_Symbol'"
    )


def test_missing_hugo_symbol_column_raises_naming_file_and_column(
    tmp_path: Path,
) -> None:
    maf = _MUTATIONS.replace("Hugo_Symbol", "Gene")
    with pytest.raises(StudyFormatError, match=r"data_mutations\.txt.*'Hugo_Symbol'"):
        import_study(_write_study(tmp_path, **{"data_mutations.txt": maf}))


def test_line_numbers_follow_old_mac_line_endings(tmp_path: Path) -> None:
    # Riaz's files end lines with a bare CR.
    rows = [
        "Patient,Gene,Change",
        "P1,BRAF,p.Val600Glu",
        'P1,"KRAS",p.Gly12Asp',
        ",NRAS,p.Gln61Arg",
    ]
    (tmp_path / "mut.csv").write_text("\r".join(rows), encoding="utf-8", newline="")
    (tmp_path / "out.csv").write_text(
        "id,bor\r\nP1,CR\r\n", encoding="utf-8", newline=""
    )
    mapping = StudyMapping.model_validate(
        {
            "mutations": {
                "file": "mut.csv",
                "sep": ",",
                "sample": "Patient",
                "gene": "Gene",
                "protein_change": "Change",
                "variant_class": None,
            },
            "profile": {"constant_tumour_type": "melanoma"},
            "treatments": {
                "file": "out.csv",
                "sep": ",",
                "sample": "id",
                "constant_drug": "Nivolumab",
                "best_response": "bor",
            },
        }
    )
    result = import_study(tmp_path, mapping=mapping)
    assert result.rejected == [Rejection("mut.csv", 4, "Patient", "empty sample id")]
    [profile] = result.cohort.profiles
    assert {a.protein_change for a in profile.alterations} == {"V600E", "G12D"}
    assert result.cohort.drugs == ("nivolumab",)


def test_explicitly_mapped_file_must_exist_but_default_one_may_be_absent(
    tmp_path: Path,
) -> None:
    folder = _write_study(tmp_path)
    (folder / "data_sv.txt").unlink()
    result = import_study(folder)  # default name, absent: skipped
    assert "structural_variants.rows" not in result.counts
    mapping = StudyMapping.model_validate({"structural_variants": {"file": "sv.tsv"}})
    with pytest.raises(StudyFormatError, match=r"sv\.tsv: file not found"):
        import_study(folder, mapping=mapping)


def test_hypermutated_sample_is_merged_per_gene_not_rejected(tmp_path: Path) -> None:
    lines = [_MUTATIONS.rstrip("\n")]
    lines += [
        f"GENE{i % 10}\t1\tMissense_Mutation\tS1\tp.A{i}T" for i in range(1, 5002)
    ]
    result = import_study(
        _write_study(tmp_path, **{"data_mutations.txt": "\n".join(lines) + "\n"})
    )
    s1 = next(p for p in result.cohort.profiles if p.sample_id == "S1")
    genes = {a.gene for a in s1.alterations if a.kind == "mutation"}
    assert len(genes) == 11 and "BRAF" in genes
    assert result.counts["profiles.mutations_merged_per_gene"] == 1


def test_rejection_reasons_never_quote_sample_ids(study: ImportResult) -> None:
    for rejection in study.rejected:
        assert not any(s in rejection.reason for s in ("S1", "S2", "S4", "S9"))


# --- rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("p.V600E", "V600E"),
        ("p.Val600Glu", "V600E"),
        ("p.Arg661*", "R661*"),
        ("p.Glu746_Ala750del", "E746_A750DEL"),
        ("p.Met1?", "M1?"),
        ("p.=", None),
        ("?", None),
        (None, None),
    ],
)
def test_protein_change_is_put_in_schema_form(
    raw: str | None, expected: str | None
) -> None:
    assert protein_change_of(raw) == expected


@pytest.mark.parametrize(
    ("variant_class", "excluded"),
    [
        ("Silent", True),
        ("3'UTR", True),
        ("Missense_Mutation", False),
        ("missense_variant&splice_region_variant", False),
        ("splice_acceptor_variant&intron_variant", False),
        ("intron_variant&non_coding_transcript_variant", True),
    ],
)
def test_variant_class_exclusion(variant_class: str, excluded: bool) -> None:
    lowered = {c.lower() for c in StudyMapping().mutations.excluded_classes}
    assert is_excluded_class(variant_class, lowered) is excluded


@pytest.mark.parametrize(
    ("best", "weeks", "expected"),
    [("CR", None, 1), ("pr", None, 1), ("SD", 16.0, 1), ("SD", 15.9, 0), ("PD", 30, 0)],
)
def test_response_rule_labels(best: str, weeks: float | None, expected: int) -> None:
    assert ResponseRule().classify(best, weeks) == expected


def test_response_rule_refuses_what_it_cannot_label() -> None:
    rule = ResponseRule()
    assert "not evaluable" in str(rule.classify("NE", None))
    assert "benefit unknown" in str(rule.classify("SD", float("nan")))
    assert "not one of" in str(rule.classify("MR", None))
    assert (
        ResponseRule(stable_without_duration="non_responder").classify("SD", None) == 0
    )
    with pytest.raises(ValueError, match="listed under two outcomes"):
        ResponseRule(non_responder=("PD", "SD"))


# --- the mapping ---------------------------------------------------------------------


def test_default_mapping_uses_cbioportal_names() -> None:
    mapping = StudyMapping()
    assert (mapping.mutations.file, mapping.mutations.gene) == (
        "data_mutations.txt",
        "Hugo_Symbol",
    )
    assert mapping.structural_variants.gene == "Site1_Hugo_Symbol"
    assert mapping.clinical_sample.sample == "SAMPLE_ID"


def test_mapping_yaml_with_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("mutations:\n  gene_colum: Gene\n", encoding="utf-8")
    with pytest.raises(StudyFormatError, match=r"unknown key 'mutations\.gene_colum'"):
        load_mapping(path)


def test_mapping_yaml_with_bad_value_names_key(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("response:\n  stable_min_weeks: -1\n", encoding="utf-8")
    with pytest.raises(StudyFormatError, match=r"'response\.stable_min_weeks'"):
        load_mapping(path)


def test_packaged_riaz_mapping_loads() -> None:
    mapping = load_mapping(MAPPINGS_FOLDER / "riaz2017.yaml")
    assert mapping.mutations.gene == "Hugo Symbol"
    assert mapping.treatments.constant_drug == "nivolumab"
    assert mapping.copy_number.file is None


# --- real data: Riaz 2017 end to end ------------------------------------------------


@pytest.fixture(scope="module")
def riaz() -> ImportResult:
    folder = unshipped_data("ici_riaz2017_nivolumab")
    return import_study(folder, mapping=load_mapping(MAPPINGS_FOLDER / "riaz2017.yaml"))


@pytest.mark.real_data
def test_riaz_import_counts(riaz: ImportResult) -> None:
    counts = riaz.counts
    assert 64 <= counts["samples.profiles"] <= 73
    assert counts["samples.with_mutations"] == counts["samples.profiles"]
    assert counts["mutations.rows"] == 28_589
    assert counts["mutations.kept"] == 28_589  # non-synonymous only
    reasons = riaz.rejected_by_reason()
    assert reasons["bms038_clinical_data.csv: best response 'NE' is not evaluable"] == 3
    treatments = riaz.cohort.treatments
    assert treatments["drug"].unique().tolist() == ["nivolumab"]
    assert 0.3 < treatments["responded"].mean() < 0.7  # CR/PR, SD >= 16 weeks
    tmb = [p.tmb_mut_per_mb for p in riaz.cohort.profiles]
    assert all(t is not None and t > 0 for t in tmb)
    assert 1 < float(np.median(tmb)) < 30


@pytest.mark.real_data
def test_riaz_mutations_become_vectors_and_a_model(riaz: ImportResult) -> None:
    profiles = list(riaz.cohort.profiles)
    labels = riaz.cohort.treatments.set_index("sample_id").loc[
        [p.sample_id for p in profiles], "responded"
    ]
    vectorizer = ProfileVectorizer(min_count=5)
    X = vectorizer.fit_transform(profiles)
    names = list(vectorizer.get_feature_names_out())
    assert "mutation BRAF" in names and "hotspot BRAF V600" in names
    assert "tmb mut per mb" in names
    model = xgb.XGBClassifier(n_estimators=30, max_depth=2, random_state=0)
    model.fit(X, labels.to_numpy())
    scores = model.predict_proba(X)[:, 1]
    assert roc_auc_score(labels, scores) > 0.7  # it learns its own training data
