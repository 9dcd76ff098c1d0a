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
    ],
)
def test_bad_alteration_names_the_field(alteration: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Profile.model_validate({"tumour_type": "melanoma", "alterations": [alteration]})
    locations = [".".join(map(str, e["loc"])) for e in error.value.errors()]
    assert any(field in loc for loc in locations), locations


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
