"""Assembly of the drug knowledge table from GDSC, curated and CIViC entries."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from features import (
    DRUP_DRUGS,  # the simulator's 37: one list for both
    KNOWLEDGE_VERSION,
    DrugEntry,
    DrugKnowledge,
)

from ._civic import CivicItem, _item_order, civic_items, merge_item
from ._curated_drugs import (
    CLASS_SOURCE,
    CURATED_SOURCE,
    DRUG_CLASSES,
    EXTRA_SYNONYMS,
    curated_drugs,
)
from ._gdsc import gdsc_entries
from ._rules import curated_rules

logger = logging.getLogger(__name__)

# Written into the JSON as is (rebuilds must stay byte-identical); the script is
# the build's entry point, the curated tables live in scripts/drug_knowledge.
KNOWLEDGE_SOURCES = (
    "GDSC screened compounds list (cancerrxgene.org, downloaded 2019-06-24)",
    "CIViC evidence items 2022-06-02 (CC0), via pharmOncoX commit 863a9d82",
    "hand-curated FDA/EMA label biomarkers and DRUP matching classes "
    "(scripts/build_drug_knowledge.py)",
)
CIVIC_SOURCE = KNOWLEDGE_SOURCES[1]


def curated_entries(known: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Entry fields of the DRUP drugs that are not in ``known``, and of the
    immune checkpoint drug classes."""
    missing = [drug for drug in DRUP_DRUGS if drug not in set(known)]
    drugs = curated_drugs()
    unexplained = sorted(set(missing) - set(drugs))
    if unexplained:
        raise ValueError(f"DRUP drugs neither in GDSC nor curated: {unexplained}")
    curated = [(d, drugs[d], CURATED_SOURCE) for d in missing]
    curated += [(d, c, CLASS_SOURCE) for d, c in DRUG_CLASSES.items()]
    return {
        drug: {
            "synonyms": list(synonyms),
            "targets": list(targets),
            "unmapped_targets": [],
            "pathway": pathway,
            "gdsc_drug_ids": [],
            "sources": [source],
        }
        for drug, (synonyms, targets, pathway), source in curated
    }


def clean_synonyms(entries: dict[str, dict[str, Any]]) -> None:
    """Drop synonyms equal to the own key, repeated, or claimed by another drug."""
    for key, entry in entries.items():
        unique: dict[str, str] = {}
        for name in (*entry["synonyms"], *EXTRA_SYNONYMS.get(key, ())):
            unique.setdefault(name.lower(), name)
        entry["synonyms"] = [name for lower, name in unique.items() if lower != key]
    claims = Counter(s.lower() for e in entries.values() for s in e["synonyms"])
    for key, entry in entries.items():
        clashing = [s for s in entry["synonyms"] if claims[s.lower()] > 1]
        clashing += [s for s in entry["synonyms"] if s.lower() in entries]
        for synonym in sorted(set(clashing)):
            logger.info("dropping synonym %r of %s: another drug uses it", synonym, key)
        entry["synonyms"] = [s for s in entry["synonyms"] if s not in clashing]


def base_entries(drugs: pd.DataFrame) -> dict[str, DrugEntry]:
    """GDSC and curated DRUP drugs with their curated rules (no CIViC yet)."""
    fields = gdsc_entries(drugs)
    fields.update(curated_entries(fields))
    clean_synonyms(fields)
    entries = {}
    for drug in sorted(fields):
        rules = curated_rules(drug, fields[drug]["targets"])
        genes = [r.gene for r in rules if r.gene and r.matching_class in (2, 3)]
        entries[drug] = DrugEntry.model_validate(
            {
                "drug": drug,
                **fields[drug],
                "rules": rules,
                "pathway_genes": sorted(set(genes)),
            }
        )
    return entries


def attach_civic(
    entries: dict[str, DrugEntry], items: Sequence[CivicItem]
) -> dict[str, DrugEntry]:
    """Entries with the CIViC items merged into (or added to) their rules."""
    rules = {drug: list(entry.rules) for drug, entry in entries.items()}
    for item in sorted(items, key=_item_order):
        merge_item(rules[item.drug], item)
    with_civic = {item.drug for item in items}
    return {
        drug: DrugEntry.model_validate(
            {
                **entry.model_dump(exclude={"rules", "sources"}),
                "rules": rules[drug],
                "sources": [
                    *entry.sources,
                    *([CIVIC_SOURCE] if drug in with_civic else []),
                ],
            }
        )
        for drug, entry in entries.items()
    }


def build_knowledge(drugs: pd.DataFrame, civic: pd.DataFrame) -> DrugKnowledge:
    """The drug knowledge table from the GDSC drug list and CIViC evidence."""
    entries = base_entries(drugs)
    items = civic_items(civic, entries)
    logger.info("CIViC: %d (evidence item, drug) pairs used", len(items))
    return DrugKnowledge(
        knowledge_version=KNOWLEDGE_VERSION,
        sources=KNOWLEDGE_SOURCES,
        entries=attach_civic(entries, items),
    )


def render(knowledge: DrugKnowledge) -> str:
    """Deterministic JSON text of the table (sorted keys, one trailing newline)."""
    data = knowledge.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
    if DrugKnowledge.model_validate(json.loads(text)) != knowledge:
        raise RuntimeError("the drug knowledge table does not round-trip through JSON")
    return text
