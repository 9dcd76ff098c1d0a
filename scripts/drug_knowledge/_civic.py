"""CIViC evidence items as sensitivity rules of the drugs they name."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pandas as pd

from features import DrugEntry, SensitivityRule

from ._curated import AMP, FUSION, HR_GENES, LOSS, MUT, NSCLC
from ._gdsc import split_names
from ._rules import expand_tumour_types

# CIViC disease names -> canonical tumour types (only where the synonym table lacks
# them); "cancer" is CIViC's pan-cancer term and names no tumour type.
CIVIC_TUMOUR_TYPES: dict[str, str | None] = {
    "cancer": None,
    "lung non-small cell carcinoma": NSCLC,
    "gastric adenocarcinoma": "stomach",
    "stomach carcinoma": "stomach",
    "stomach cancer": "stomach",
    "transitional cell carcinoma": "bladder",
    "congenital fibrosarcoma": "fibrosarcoma",
    "gastrointestinal stromal tumor": "gastrointestinal stromal tumour",
    "ovarian cancer": "ovarian",
    "pancreatic cancer": "pancreatic",
    "prostate cancer": "prostate",
    "endometrial cancer": "endometrial",
}
SKIPPED_VARIANTS = frozenset({
    "WILDTYPE", "SERUM LEVELS", "INTRON POLYMORPHISM", "ALTERNATIVE TRANSCRIPT",
    "ALK ALTERNATIVE ISOFORM", "ALK INTRON 19 ATI ISOFORM", "ALK(ATI)",
})  # fmt: skip
CIVIC_GENE_ALIASES = {"ABL": "ABL1"}
CIVIC_COLUMNS = (
    "evidence_id", "variant_id", "variant_type", "variant", "alteration_type",
    "symbol", "therapeutic_context", "cancer_type", "evidence_description",
    "evidence_type", "evidence_level", "evidence_direction", "clinical_significance",
    "variant_origin",
)  # fmt: skip
FUSION_TYPES = frozenset({"TRANSLOCATION_FUSION", "TRANSLOCATION_FUSION_MUT"})
UNUSABLE_TYPES = frozenset({"EXP", "EXP_OVER", "EXP_UNDER", "METHYL"})
_CHANGE = re.compile(r"^[A-Z](\d+)[A-Z*]$")
_CODON = re.compile(r"^[A-Z](\d+)$")


class Biomarker(NamedTuple):
    """A CIViC variant in the terms of a sensitivity rule."""

    biomarker: str
    gene: str
    kinds: tuple[str, ...]
    change: str | None
    partner: str | None


class CivicItem(NamedTuple):
    """One CIViC evidence item attributed to one drug of the table."""

    drug: str
    eid: str
    level: str
    marker: Biomarker
    tumour_types: tuple[str, ...]
    source: str


# --------------------------------------------------------------- CIViC items


def civic_sensitivity(civic: pd.DataFrame) -> pd.DataFrame:
    """Predictive, supporting, sensitivity items of level A-C, usable events only."""
    level = civic["evidence_level"].astype(str).str[0]
    keep = (
        (civic["evidence_type"] == "Predictive")
        & (civic["evidence_direction"] == "Supports")
        & (civic["clinical_significance"] == "Sensitivity/Response")
        & level.isin(["A", "B", "C"])
        & civic["therapeutic_context"].notna()
        & ~civic["alteration_type"].isin(UNUSABLE_TYPES)
        & ~civic["variant_type"].fillna("").str.contains("synonymous")
        & ((civic["variant_origin"] != "Germline") | civic["symbol"].isin(HR_GENES))
    )
    items = civic.loc[keep].assign(level=level[keep])
    return items.assign(variant=items["variant"].fillna("").astype(str))


def primary_changes(civic: pd.DataFrame) -> dict[int, str]:
    """Per CIViC variant, the protein change (or codon) its descriptions name most.

    pharmOncoX lists every alias of a variant (``V600E``, ``V640E`` from another
    isoform, ``V600``); the one written in the evidence texts is the variant's name.
    """
    primary: dict[int, str] = {}
    for variant_id, rows in civic.groupby("variant_id", sort=True):
        aliases = set(rows["variant"].dropna().astype(str))
        for pattern in (_CHANGE, _CODON):
            found = sorted(a for a in aliases if pattern.match(a))
            if found:
                texts = set(rows["evidence_description"].dropna().astype(str))
                primary[int(str(variant_id))] = min(
                    found, key=lambda a: (-_mentions(a, texts), _position(a), a)
                )
                break
    return primary


def _mentions(alias: str, texts: set[str]) -> int:
    word = re.compile(rf"\b{re.escape(alias)}\b")
    return sum(1 for text in texts if word.search(text))


def _position(alias: str) -> int:
    return int(re.sub(r"\D", "", alias))


def describe_variant(rows: pd.DataFrame, change: str | None) -> Biomarker | None:
    """The rule form of one evidence item's variant, None if profiles can't show it."""
    types = set(rows["alteration_type"])
    names = [v for v in dict.fromkeys(rows["variant"]) if v]
    if {name.upper() for name in names} & SKIPPED_VARIANTS:
        return None
    symbol = str(rows["symbol"].iloc[0])
    if types & FUSION_TYPES:
        genes = [CIVIC_GENE_ALIASES.get(g, g) for g in symbol.split("-", 1)]
        partner = genes[1] if len(genes) > 1 else None
        return Biomarker(f"{'-'.join(genes)} fusion", genes[0], FUSION, None, partner)
    gene = CIVIC_GENE_ALIASES.get(symbol, symbol)
    if "CNA" in types and "AMPLIFICATION" in names:
        return Biomarker(f"{gene} amplification", gene, AMP, None, None)
    if ("CNA" in types and "DELETION" in names) or types & {"MUT_LOF", "MUT_LOF_FS"}:
        return Biomarker(f"{gene} loss of function", gene, LOSS, None, None)
    if change is not None:
        return Biomarker(f"{gene} {change}", gene, MUT, change, None)
    return Biomarker(f"{gene} mutation", gene, MUT, None, None)


def civic_tumour_types(cancer_type: object) -> tuple[str, ...]:
    """Canonical tumour types of a CIViC disease name (none for pan-cancer)."""
    name = " ".join(str(cancer_type).strip().lower().split())
    mapped = CIVIC_TUMOUR_TYPES.get(name, name)
    return () if mapped is None else expand_tumour_types([mapped])


def civic_items(civic: pd.DataFrame, entries: dict[str, DrugEntry]) -> list[CivicItem]:
    """CIViC sensitivity items attributed to the drugs of the table."""
    names = {n.lower(): k for k, e in entries.items() for n in (k, *e.synonyms)}
    primary = primary_changes(civic)
    items = []
    for eid, rows in civic_sensitivity(civic).groupby("evidence_id", sort=True):
        change = primary.get(int(rows["variant_id"].iloc[0]))
        marker = describe_variant(rows, change)
        if marker is None:
            continue
        drugs = split_names(rows["therapeutic_context"].iloc[0])
        for drug in sorted({names[d.lower()] for d in drugs if d.lower() in names}):
            if _attributable(entries[drug], marker, len(drugs)):
                items.append(civic_item(drug, str(eid), rows, marker, change))
    return items


def civic_item(
    drug: str, eid: str, rows: pd.DataFrame, marker: Biomarker, change: str | None
) -> CivicItem:
    """One item for one drug, with a readable source line."""
    first = rows.iloc[0]
    names = [v for v in dict.fromkeys(rows["variant"]) if v]
    variant = change or (names[0] if names else marker.kinds[0])
    level, disease = str(first["level"]), str(first["cancer_type"])
    source = f"CIViC {eid} ({level}; {first['symbol']} {variant}; {disease})"
    return CivicItem(drug, eid, level, marker, civic_tumour_types(disease), source)


def _attributable(entry: DrugEntry, marker: Biomarker, n_drugs: int) -> bool:
    # In a combination, an item speaks for a drug only through that drug's genes.
    related = {*entry.targets, *entry.pathway_genes}
    return n_drugs == 1 or bool({marker.gene, marker.partner} & related)


# ------------------------------------------------------ merging CIViC into rules


def covers(rule: SensitivityRule, marker: Biomarker) -> bool:
    """Whether every event the CIViC biomarker describes satisfies the rule."""
    if rule.gene is None or (rule.kinds and not set(marker.kinds) <= set(rule.kinds)):
        return False
    if marker.kinds == FUSION:
        needed = {rule.gene, rule.partner_gene} - {None}
        return needed <= {marker.gene, marker.partner}
    if rule.gene != marker.gene:
        return False
    change = marker.change
    codon = change[:-1] if change is not None and _CHANGE.match(change) else None
    return rule.protein_change is None or rule.protein_change in (change, codon)


def merge_item(rules: list[SensitivityRule], item: CivicItem) -> None:
    """Add a CIViC item to the first rule covering it, or append a new rule."""
    allowed = (1, 3) if item.level == "A" else (1, 2, 3, 4)
    on_label = item.tumour_types if item.level == "A" else ()
    for index, rule in enumerate(rules):
        if rule.matching_class in allowed and covers(rule, item.marker):
            level = min(filter(None, (rule.civic_level, item.level)))
            rules[index] = rule.model_copy(
                update={
                    "civic_level": level,
                    "sources": tuple(dict.fromkeys((*rule.sources, item.source))),
                    "on_label_tumour_types": tuple(
                        dict.fromkeys((*rule.on_label_tumour_types, *on_label))
                    ),
                }
            )
            return
    rules.append(new_civic_rule(item, on_label))
    rules.sort(key=lambda rule: rule.matching_class)


def new_civic_rule(item: CivicItem, on_label: tuple[str, ...]) -> SensitivityRule:
    """A class 1 (level A) or class 4 rule made from one CIViC item."""
    marker = item.marker
    return SensitivityRule.model_validate(
        {
            "matching_class": 1 if item.level == "A" else 4,
            "biomarker": marker.biomarker,
            "gene": marker.gene,
            "kinds": marker.kinds,
            "protein_change": marker.change,
            "partner_gene": marker.partner,
            "on_label_tumour_types": on_label,
            "civic_level": item.level,
            "sources": (item.source,),
        }
    )


def _item_order(item: CivicItem) -> tuple[Any, ...]:
    # Level A first, then broad biomarkers before narrow ones, so that narrow items
    # merge into the broad rules instead of starting their own.
    marker = item.marker
    specificity = (
        (marker.partner is not None)
        + (marker.change is not None)
        + bool(marker.change and _CHANGE.match(marker.change))
    )
    eid_number = int(item.eid.removeprefix("EID"))
    return (item.level, specificity, marker.gene, marker.biomarker, eid_number)
