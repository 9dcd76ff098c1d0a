import pytest
from pydantic import ValidationError

from features import Alteration, Profile, canonical_tumour_type, lineage_of


def test_gene_symbols_are_case_insensitive() -> None:
    event = Alteration(kind="mutation", gene=" braf ", protein_change="p.v600e")
    assert (event.gene, event.protein_change, event.codon) == ("BRAF", "V600E", "V600")


@pytest.mark.parametrize(
    ("alteration", "field"),
    [
        ({"kind": "banana", "gene": "BRAF"}, "kind"),
        ({"kind": "mutation", "gene": ""}, "gene"),
        ({"kind": "mutation", "gene": "BR AF"}, "gene"),
        ({"kind": "mutation", "gene": "BRAF", "colour": "red"}, "colour"),
        (
            {"kind": "mutation", "gene": "BRAF", "protein_change": "nonsense"},
            "protein_change",
        ),
        # Only the start of this used to be checked.
        (
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E-anything"},
            "protein_change",
        ),
        (
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600"},
            "protein_change",
        ),
        # str.upper() would turn these into "SS" and "FI", which look like symbols.
        ({"kind": "mutation", "gene": "ß"}, "gene"),
        ({"kind": "fusion", "gene": "BCR", "partner_gene": "ﬁ"}, "partner_gene"),
    ],
)
def test_bad_alteration_names_the_field(alteration: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Profile.model_validate({"tumour_type": "melanoma", "alterations": [alteration]})
    locations = [".".join(map(str, e["loc"])) for e in error.value.errors()]
    assert any(field in loc for loc in locations), locations


@pytest.mark.parametrize(
    ("given", "stored", "codon"),
    [
        ("V600E", "V600E", "V600"),
        ("P.v600e", "V600E", "V600"),
        ("R661*", "R661*", "R661"),
        ("E746_A750del", "E746_A750DEL", "E746"),
        ("E746_S752delinsV", "E746_S752DELINSV", "E746"),
        ("P72Rfs*17", "P72RFS*17", "P72"),
        ("X125_splice", "X125_SPLICE", "X125"),
    ],
)
def test_hgvs_protein_changes_are_accepted(given: str, stored: str, codon: str) -> None:
    event = Alteration(kind="mutation", gene="EGFR", protein_change=given)
    assert (event.protein_change, event.codon) == (stored, codon)


def test_partner_gene_only_for_fusions() -> None:
    with pytest.raises(ValidationError, match="partner_gene"):
        Alteration(kind="mutation", gene="BCR", partner_gene="ABL1")
    assert (
        Alteration(kind="fusion", gene="bcr", partner_gene="abl1").partner_gene
        == "ABL1"
    )


def test_profile_is_frozen() -> None:
    profile = Profile(tumour_type="Melanoma")
    assert profile.tumour_type == "melanoma"
    with pytest.raises(ValidationError):
        profile.tumour_type = "colorectal"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "canonical", "lineage"),
    [
        ("skin", "melanoma", "skin"),
        ("large_intestine", "colorectal", "bowel"),
        ("Chronic_myeloid_leukaemia", "chronic myeloid leukaemia", "myeloid"),
        ("LUAD", "lung adenocarcinoma", "lung"),
        ("a tumour nobody has seen", "a tumour nobody has seen", None),
    ],
)
def test_tumour_type_synonyms(name: str, canonical: str, lineage: str | None) -> None:
    assert canonical_tumour_type(name) == canonical
    assert lineage_of(name) == lineage
