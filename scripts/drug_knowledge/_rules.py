"""Curated sensitivity rules of a drug: label, pathway and susceptibility classes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from features import SensitivityRule, canonical_tumour_type

from ._curated import (
    ACTIVATABLE_TARGETS,
    ACTIVATING,
    AMP,
    BRCA_ON_LABEL,
    CHECKPOINT_TARGETS,
    DRUP_SOURCE,
    HR_GENES,
    HR_SOURCE,
    HRD_MIN_SCORE,
    HRD_ON_LABEL,
    HRD_SOURCE,
    LABEL_RULES,
    LOSS,
    MSI_ON_LABEL,
    MSI_SOURCE,
    MUT,
    PARP_TARGETS,
    PATHWAY_MODULES,
    SUBTYPES,
    TMB_MIN_MUT_PER_MB,
    TMB_SOURCE,
)


def expand_tumour_types(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical tumour types, with the subtypes of a parent type added."""
    canonical = [canonical_tumour_type(name) for name in names]
    expanded = [t for name in canonical for t in (name, *SUBTYPES.get(name, ()))]
    return tuple(dict.fromkeys(expanded))


def label_rules(drug: str) -> list[SensitivityRule]:
    """Class 1 rules of a drug's approved biomarker indications."""
    return [
        SensitivityRule.model_validate(
            {
                "matching_class": 1,
                "biomarker": label.biomarker,
                "gene": label.gene,
                "kinds": label.kinds,
                "protein_change": label.change,
                "partner_gene": label.partner,
                "on_label_tumour_types": expand_tumour_types(label.on_label),
                "sources": (label.source,),
            }
        )
        for label in LABEL_RULES
        if label.drug == drug
    ]


def gene_rule(
    matching_class: int, gene: str, kinds: Sequence[str], source: str
) -> SensitivityRule:
    """A gene-level rule with a readable biomarker name."""
    words = {
        MUT: "mutation",
        AMP: "amplification",
        LOSS: "loss of function",
        ACTIVATING: "mutation, amplification or fusion",
    }
    kind_text = words.get(tuple(kinds), " or ".join(kinds))
    return SensitivityRule.model_validate(
        {
            "matching_class": matching_class,
            "biomarker": f"{gene} {kind_text}",
            "gene": gene,
            "kinds": tuple(kinds),
            "sources": (source,),
        }
    )


def pathway_rules(targets: Sequence[str]) -> list[SensitivityRule]:
    """Class 2 rules: pathway modules switched on by the targets, activated targets."""
    rules = [
        gene_rule(2, gene, kinds, f"{module} pathway; {source}")
        for module, (triggers, events, source) in PATHWAY_MODULES.items()
        if triggers & set(targets)
        for gene, kinds in events
    ]
    rules += [
        gene_rule(2, gene, ACTIVATING, f"activated drug target; {DRUP_SOURCE}")
        for gene in targets
        if gene in ACTIVATABLE_TARGETS
    ]
    return rules


def susceptibility_rules(drug: str, targets: Sequence[str]) -> list[SensitivityRule]:
    """Class 3 rules: HR deficiency for PARP, MSI / TMB for checkpoint inhibitors."""
    rules: list[SensitivityRule] = []
    if PARP_TARGETS & set(targets):
        for gene in HR_GENES:
            on_label = BRCA_ON_LABEL.get(drug, ()) if gene in ("BRCA1", "BRCA2") else ()
            rule = gene_rule(3, gene, LOSS, HR_SOURCE)
            rules.append(rule.model_copy(update={"on_label_tumour_types": on_label}))
        rules.append(signature_rule("hrd_score", HRD_MIN_SCORE, HRD_ON_LABEL.get(drug)))
    if CHECKPOINT_TARGETS & set(targets):
        rules.append(signature_rule("msi_high", None, MSI_ON_LABEL.get(drug)))
        rules.append(signature_rule("tmb_mut_per_mb", TMB_MIN_MUT_PER_MB, None))
    return rules


def signature_rule(
    signature: str, min_value: float | None, on_label: Sequence[str] | None
) -> SensitivityRule:
    """A class 3 rule on MSI, TMB or HRD score."""
    if signature == "msi_high":
        biomarker, source = "msi high", MSI_SOURCE
    elif signature == "tmb_mut_per_mb":
        biomarker, source = f"tmb >= {min_value:g} mut/Mb", TMB_SOURCE
    else:
        biomarker, source = f"hrd score >= {min_value:g}", HRD_SOURCE
    return SensitivityRule.model_validate(
        {
            "matching_class": 3,
            "biomarker": biomarker,
            "signature": signature,
            "min_value": min_value,
            "on_label_tumour_types": tuple(on_label or ()),
            "sources": (source,),
        }
    )


def curated_rules(drug: str, targets: Sequence[str]) -> list[SensitivityRule]:
    """All curated rules of a drug, ordered by class, duplicates dropped."""
    rules = [
        *label_rules(drug),
        *pathway_rules(targets),
        *susceptibility_rules(drug, targets),
    ]
    unique: dict[tuple[Any, ...], SensitivityRule] = {}
    for rule in rules:
        unique.setdefault(_rule_key(rule), rule)
    return sorted(unique.values(), key=lambda rule: rule.matching_class)


def _rule_key(rule: SensitivityRule) -> tuple[Any, ...]:
    return (rule.matching_class, rule.gene, rule.kinds, rule.protein_change,
            rule.partner_gene, rule.signature)  # fmt: skip
