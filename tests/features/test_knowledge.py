"""Drug knowledge table: DRUP matching classes, lookups, JSON and the build script."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from pydantic import ValidationError

from features import (
    DRUP_DRUGS,
    MATCH_FEATURE_NAMES,
    DrugEntry,
    DrugKnowledge,
    Profile,
    SensitivityRule,
    load_drug_knowledge,
)
from tests.conftest import unshipped_data

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_drug_knowledge.py"
PACKAGED = REPO / "features" / "drug_knowledge.json"
GDSC_DRUG_LIST = REPO / "data" / "gdsc1000_v17" / "drug_list_gdsc_2019.csv"
CIVIC_FILE = "civic_evidence_via_pharmoncox_20220602.csv.gz"

# Written out here, not imported from the script, so a renamed key fails the test.
BRAF_V600E = {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}
BCR_ABL1 = {"kind": "fusion", "gene": "BCR", "partner_gene": "ABL1"}


@pytest.fixture(scope="module")
def knowledge() -> DrugKnowledge:
    return load_drug_knowledge()


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_drug_knowledge", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile(tumour_type: str, *events: dict, **biomarkers: object) -> Profile:
    return Profile.model_validate(
        {"tumour_type": tumour_type, "alterations": events, **biomarkers}
    )


# ------------------------------------------------------------ matching classes


@pytest.mark.parametrize("drug", ["vemurafenib", "dabrafenib", "encorafenib"])
def test_braf_v600e_outside_label_is_class_1(
    knowledge: DrugKnowledge, drug: str
) -> None:
    match = knowledge.match(profile("thyroid", BRAF_V600E), drug)
    assert match is not None
    assert (match.matching_class, match.alteration) == (1, "mutation BRAF V600E")
    assert not match.on_label
    assert "BRAF V600" in match.evidence


def test_braf_v600e_colorectal_is_off_label_for_vemurafenib_only(
    knowledge: DrugKnowledge,
) -> None:
    colorectal = profile("large_intestine", BRAF_V600E)
    vemurafenib = knowledge.match(colorectal, "vemurafenib")
    assert vemurafenib is not None and vemurafenib.matching_class == 1
    assert not vemurafenib.on_label
    encorafenib = knowledge.match(colorectal, "encorafenib")  # approved with cetuximab
    assert encorafenib is not None and encorafenib.on_label


def test_braf_v600e_melanoma_is_on_label(knowledge: DrugKnowledge) -> None:
    match = knowledge.match(profile("skin", BRAF_V600E), "vemurafenib")
    assert match is not None
    assert (match.matching_class, match.on_label) == (1, True)


def test_on_label_nsclc_covers_its_subtypes(knowledge: DrugKnowledge) -> None:
    egfr = {"kind": "mutation", "gene": "EGFR", "protein_change": "L858R"}
    in_lung = knowledge.match(profile("LUAD", egfr), "erlotinib")
    in_bladder = knowledge.match(profile("bladder", egfr), "erlotinib")
    assert in_lung is not None and in_bladder is not None
    assert (in_lung.matching_class, in_lung.on_label) == (1, True)
    assert (in_bladder.matching_class, in_bladder.on_label) == (1, False)


@pytest.mark.parametrize("drug", ["palbociclib", "ribociclib", "abemaciclib"])
def test_cdkn2a_deletion_is_class_2_for_cdk46_inhibitors(
    knowledge: DrugKnowledge, drug: str
) -> None:
    match = knowledge.match(
        profile("glioma", {"kind": "deletion", "gene": "CDKN2A"}), drug
    )
    assert match is not None
    assert (match.matching_class, match.alteration) == (2, "deletion CDKN2A")


@pytest.mark.parametrize("drug", ["olaparib", "niraparib", "talazoparib"])
def test_brca2_mutation_is_class_3_for_parp_inhibitors(
    knowledge: DrugKnowledge, drug: str
) -> None:
    event = {"kind": "mutation", "gene": "BRCA2", "protein_change": "K3326*"}
    match = knowledge.match(profile("biliary tract", event), drug)
    assert match is not None
    assert (match.matching_class, match.alteration) == (3, "mutation BRCA2 K3326*")
    assert not match.on_label


def test_hrd_score_at_the_cutoff_is_class_3(knowledge: DrugKnowledge) -> None:
    assert knowledge.match(profile("ovarian", hrd_score=41.9), "olaparib") is None
    match = knowledge.match(profile("ovarian", hrd_score=42), "olaparib")
    assert match is not None and match.matching_class == 3 and match.on_label


@pytest.mark.parametrize("drug", ["nivolumab", "pembrolizumab", "durvalumab"])
def test_msi_high_is_class_3_for_checkpoint_inhibitors(
    knowledge: DrugKnowledge, drug: str
) -> None:
    match = knowledge.match(profile("stomach", msi_high=True), drug)
    assert match is not None
    assert (match.matching_class, match.alteration) == (3, "msi high")
    assert knowledge.match(profile("stomach", msi_high=False), drug) is None


def test_tmb_threshold_is_10_mut_per_mb(knowledge: DrugKnowledge) -> None:
    assert knowledge.match(profile("lung", tmb_mut_per_mb=9.9), "nivolumab") is None
    match = knowledge.match(profile("lung", tmb_mut_per_mb=10), "nivolumab")
    assert match is not None
    assert (match.matching_class, match.alteration) == (3, "tmb 10 mut/Mb")


@pytest.mark.parametrize(
    "drug", ["anti-pd-1", "anti-pd-l1", "anti-ctla-4", "anti-ctla-4 then anti-pd-1"]
)
def test_checkpoint_classes_follow_tmb(knowledge: DrugKnowledge, drug: str) -> None:
    """The drug-class names of the pooled checkpoint cohorts resolve like nivolumab."""
    assert drug in knowledge
    match = knowledge.match(profile("lung", tmb_mut_per_mb=12), drug)
    assert match is not None and match.alteration == "tmb 12 mut/Mb"


@pytest.mark.parametrize("drug", ["imatinib", "nilotinib", "dasatinib"])
def test_bcr_abl1_fusion_is_class_1_either_way_round(
    knowledge: DrugKnowledge, drug: str
) -> None:
    reversed_fusion = {"kind": "fusion", "gene": "ABL1", "partner_gene": "BCR"}
    for event in (BCR_ABL1, reversed_fusion):
        match = knowledge.match(profile("colorectal", event), drug)
        assert match is not None
        assert match.matching_class == 1 and not match.on_label
    in_cml = knowledge.match(profile("cml", BCR_ABL1), drug)
    assert in_cml is not None and in_cml.on_label


def test_no_alterations_match_nothing(knowledge: DrugKnowledge) -> None:
    empty = profile("colorectal")
    assert [d for d in knowledge.entries if knowledge.match(empty, d)] == []
    assert set(knowledge.target_match(empty, "olaparib").values()) == {0.0}


def test_lowest_class_wins_then_first_alteration(knowledge: DrugKnowledge) -> None:
    kras = {"kind": "mutation", "gene": "KRAS", "protein_change": "G12D"}
    nras = {"kind": "mutation", "gene": "NRAS", "protein_change": "Q61K"}
    best = knowledge.match(profile("colorectal", kras, BRAF_V600E), "trametinib")
    assert best is not None and best.alteration == "mutation BRAF V600E"
    tie = knowledge.match(profile("colorectal", nras, kras), "trametinib")
    assert tie is not None
    assert (tie.matching_class, tie.alteration) == (2, "mutation NRAS Q61K")


def test_on_label_belongs_to_the_reported_alteration(
    knowledge: DrugKnowledge,
) -> None:
    kit = {"kind": "mutation", "gene": "KIT", "protein_change": "V560D"}
    match = knowledge.match(profile("cml", kit, BCR_ABL1), "imatinib")
    assert match is not None  # both class 1; KIT is listed first, off-label in CML
    assert (match.alteration, match.on_label) == ("mutation KIT V560D", False)


def test_target_match_features_have_fixed_names(knowledge: DrugKnowledge) -> None:
    nras = {"kind": "mutation", "gene": "NRAS", "protein_change": "Q61K"}
    features = knowledge.target_match(profile("melanoma", nras), "trametinib")
    assert tuple(features) == MATCH_FEATURE_NAMES
    assert features["target match"] == features["match class 2"] == 1.0
    assert features["match class 1"] == features["match on label"] == 0.0
    assert features["pathway gene altered"] == 1.0
    assert features["target gene altered"] == 0.0
    on_label = knowledge.target_match(profile("melanoma", BRAF_V600E), "dabrafenib")
    assert on_label["match class 1"] == on_label["match on label"] == 1.0
    assert on_label["target gene altered"] == 1.0


# ------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("name", "drug"),
    [
        ("Zelboraf", "vemurafenib"),
        ("ZELBORAF", "vemurafenib"),
        (" gleevec ", "imatinib"),
        ("STI-571", "imatinib"),
        ("Keytruda", "pembrolizumab"),
        ("PLX-4720", "plx-4720"),
        ("Sirolimus", "rapamycin"),
    ],
)
def test_lookup_by_synonym_and_case(
    knowledge: DrugKnowledge, name: str, drug: str
) -> None:
    assert knowledge.resolve(name) == drug
    assert knowledge[name].drug == drug
    assert name in knowledge


def test_unknown_drug(knowledge: DrugKnowledge) -> None:
    with pytest.raises(KeyError, match="vemurafinib"):
        knowledge["vemurafinib"]
    assert "anti-lag-3" not in knowledge
    # cohorts may name drugs the table lacks: no known biomarker, no crash
    assert knowledge.match(profile("skin", BRAF_V600E), "anti-lag-3") is None
    assert set(knowledge.target_match(profile("skin"), "anti-lag-3").values()) == {0.0}


def test_a_synonym_shared_by_two_drugs_is_refused() -> None:
    entry = {"pathway": "Other", "synonyms": ["Torisel"]}
    with pytest.raises(ValidationError, match="Torisel"):
        DrugKnowledge.model_validate(
            {
                "knowledge_version": 1,
                "entries": {
                    "rapamycin": {"drug": "rapamycin", **entry},
                    "temsirolimus": {"drug": "temsirolimus", **entry},
                },
            }
        )


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"gene": "BRAF", "signature": "msi_high"}, "exactly one"),
        ({"signature": "tmb_mut_per_mb"}, "min_value"),
        ({"gene": "ABL1", "partner_gene": "BCR"}, "partner_gene"),
        ({"gene": "braf"}, "upper-case"),
        ({"gene": "BRAF", "on_label_tumour_types": ["skin"]}, "canonical"),
    ],
)
def test_malformed_rules_are_refused(rule: dict, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SensitivityRule.model_validate({"matching_class": 1, "biomarker": "x", **rule})


def test_entry_rules_must_be_ordered_by_class() -> None:
    rules = [{"matching_class": c, "biomarker": "x", "gene": "BRAF"} for c in (4, 1)]
    with pytest.raises(ValidationError, match="ordered"):
        DrugEntry.model_validate({"drug": "x", "pathway": "Other", "rules": rules})


# --------------------------------------------------------------- the table


def test_json_round_trip_is_exact(knowledge: DrugKnowledge) -> None:
    dumped = knowledge.model_dump(mode="json")
    again = DrugKnowledge.model_validate(json.loads(json.dumps(dumped)))
    assert again == knowledge
    assert again.model_dump(mode="json") == dumped
    assert load_drug_knowledge(PACKAGED) == knowledge


def test_every_drup_drug_is_in_the_table(knowledge: DrugKnowledge) -> None:
    assert len(DRUP_DRUGS) == 37
    missing = [d for d in DRUP_DRUGS if d not in knowledge.entries]
    assert not missing
    without_targets = [d for d in DRUP_DRUGS if not knowledge.entries[d].targets]
    assert not without_targets


def test_every_drup_drug_has_a_matching_rule(knowledge: DrugKnowledge) -> None:
    assert [d for d in DRUP_DRUGS if not knowledge.entries[d].rules] == []


@pytest.mark.real_data
def test_every_gdsc_drug_with_targets_is_in_the_table(
    knowledge: DrugKnowledge,
) -> None:
    drugs = pd.read_csv(GDSC_DRUG_LIST)
    names = drugs.loc[drugs["Targets"].notna(), "Name"].str.strip().str.lower()
    assert len(names) > 200
    assert sorted(set(names) - set(knowledge.entries)) == []


@pytest.mark.real_data
def test_build_script_reproduces_the_packaged_table(tmp_path: Path) -> None:
    civic = unshipped_data("civic_20220602") / CIVIC_FILE  # CC0, but not shipped
    out = tmp_path / "drug_knowledge.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--civic", str(civic), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == PACKAGED.read_bytes()


def test_build_script_names_a_missing_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    out = tmp_path / "out.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--gdsc-drug-list",
            str(missing),
            "--civic",
            str(tmp_path / CIVIC_FILE),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--gdsc-drug-list" in result.stderr and "nope.csv" in result.stderr
    assert not out.exists()


# ---------------------------------------------------- build steps, tiny data


@pytest.mark.parametrize(
    ("description", "genes", "unmapped"),
    [
        ("MEK1, MEK2", ["MAP2K1", "MAP2K2"], []),
        ("ABL, SRC, Ephrins, PDGFR, KIT", ["ABL1", "SRC", "PDGFRA", "PDGFRB", "KIT"],
         ["Ephrins"]),
        ("Antimetabolite (DNA & RNA)", [], ["Antimetabolite (DNA & RNA)"]),
        ("JNK1, JNK2, JNK2", ["MAPK8", "MAPK9"], []),
        ("PI3K (class 1), MTORC1, MTORC2",
         ["PIK3CA", "PIK3CB", "PIK3CD", "PIK3CG", "MTOR"], []),
        (float("nan"), [], []),
    ],
)  # fmt: skip
def test_gdsc_targets_map_to_hgnc(
    build: ModuleType, description: object, genes: list, unmapped: list
) -> None:
    assert build.map_targets(description) == (genes, unmapped)


def civic_rows(*items: dict) -> pd.DataFrame:
    """CIViC rows with the defaults of a supporting level-B sensitivity item."""
    defaults = {
        "variant_type": "missense_variant",
        "alteration_type": "MUT",
        "evidence_type": "Predictive",
        "evidence_level": "B: Clinical evidence",
        "evidence_direction": "Supports",
        "clinical_significance": "Sensitivity/Response",
        "variant_origin": "Somatic",
        "evidence_description": "",
    }
    return pd.DataFrame([{**defaults, **item} for item in items])


def test_civic_items_merge_or_start_class_4(build: ModuleType) -> None:
    entries = {
        drug: DrugEntry(
            drug=drug,
            targets=targets,
            pathway="x",
            rules=tuple(build.curated_rules(drug, targets)),
        )
        for drug, targets in (("vemurafenib", ("BRAF",)), ("cetuximab", ("EGFR",)))
    }
    braf = {"variant_id": 12, "symbol": "BRAF", "variant": "V600E"}
    civic = civic_rows(
        # level A in a new tumour type: joins the label rule and its on-label types
        {**braf, "evidence_id": "EID1", "therapeutic_context": "Vemurafenib",
         "evidence_level": "A: Validated", "cancer_type": "Hairy Cell Leukemia",
         "evidence_description": "BRAF V600E predicts response"},
        {**braf, "evidence_id": "EID1", "therapeutic_context": "Vemurafenib",
         "evidence_level": "A: Validated", "cancer_type": "Hairy Cell Leukemia",
         "variant": "V640E"},  # an isoform alias of the same variant
        # combination: BRAF is not a cetuximab gene, so cetuximab gets nothing
        {**braf, "evidence_id": "EID2", "therapeutic_context": "Encorafenib,Cetuximab",
         "cancer_type": "Colorectal Cancer"},
        # single agent, gene not covered by any rule: a new class 4 rule
        {"variant_id": 7, "symbol": "KRAS", "variant": "G13D", "evidence_id": "EID3",
         "therapeutic_context": "Cetuximab", "cancer_type": "Colorectal Cancer"},
        # not used: level D, not supporting, germline polymorphism, wild type
        {**braf, "evidence_id": "EID4", "therapeutic_context": "Vemurafenib",
         "evidence_level": "D: Preclinical evidence", "cancer_type": "Melanoma"},
        {**braf, "evidence_id": "EID5", "therapeutic_context": "Vemurafenib",
         "evidence_direction": "Does Not Support", "cancer_type": "Melanoma"},
        {"variant_id": 9, "symbol": "MTHFR", "variant": "C677T", "evidence_id": "EID6",
         "therapeutic_context": "Vemurafenib", "variant_origin": "Germline",
         "cancer_type": "Melanoma"},
        {"variant_id": 8, "symbol": "KRAS", "variant": "WILDTYPE",
         "evidence_id": "EID7", "therapeutic_context": "Cetuximab",
         "cancer_type": "Colorectal Cancer"},
    )  # fmt: skip
    items = build.civic_items(civic, entries)
    assert [(i.drug, i.eid) for i in items] == [
        ("vemurafenib", "EID1"),
        ("cetuximab", "EID3"),
    ]
    merged = build.attach_civic(entries, items)
    label = merged["vemurafenib"].rules[0]
    assert label.civic_level == "A"
    assert "hairy cell leukaemia" in label.on_label_tumour_types
    assert any("EID1 (A; BRAF V600E" in source for source in label.sources)
    new = merged["cetuximab"].rules[-1]
    assert (new.matching_class, new.gene, new.protein_change) == (4, "KRAS", "G13D")


def test_a_level_a_marker_no_curated_rule_covers_becomes_class_1(
    build: ModuleType,
) -> None:
    entries = {"midostaurin": DrugEntry(drug="midostaurin", pathway="x")}
    civic = civic_rows(
        {"variant_id": 3, "symbol": "FLT3", "variant": "MUTATION",
         "evidence_id": "EID5261", "therapeutic_context": "Midostaurin",
         "evidence_level": "A: Validated", "cancer_type": "Acute Myeloid Leukemia"},
    )  # fmt: skip
    rule = build.attach_civic(entries, build.civic_items(civic, entries))[
        "midostaurin"
    ].rules[0]
    assert (rule.matching_class, rule.gene, rule.kinds) == (1, "FLT3", ("mutation",))
    assert rule.on_label_tumour_types == ("acute myeloid leukaemia",)
