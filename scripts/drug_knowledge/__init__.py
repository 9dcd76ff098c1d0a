"""Build steps of ``features/drug_knowledge.json``.

The command line is ``scripts/build_drug_knowledge.py``.

Entries
    One per distinct lower-case GDSC ``Name`` (compounds screened twice are merged;
    the first pathway other than "Unclassified" wins) plus the 37 DRUP drugs
    (``DRUP_DRUGS``); drugs GDSC did not screen take synonyms, targets and pathway
    from ``curated_drugs.csv``.  GDSC ``Targets`` are mapped to HGNC symbols with
    ``TARGET_ALIASES``; descriptions naming no gene (drug classes, families,
    complexes) are kept in ``unmapped_targets``.  A synonym claimed by two drugs
    (GDSC lists "Torisel" for rapamycin and temsirolimus) is dropped from both.

Rules (DRUP matching classes; van der Velden et al., Nature 574:127, 2019)
    1. ``LABEL_RULES``: the biomarker of an FDA/EMA-approved indication, with its
       on-label tumour types.  Also every CIViC biomarker with a level A sensitivity
       item for the drug that no curated class 1 or 3 rule covers; level A
       ("validated association") is the proxy for an approved indication, so its
       tumour types become on-label (the pan-cancer term "Cancer" is dropped;
       non-small cell lung cancer includes its histological subtypes).
       Tumour-agnostic approvals (NTRK fusions) list no on-label tumour type.
    2. ``PATHWAY_MODULES`` (upstream events of the pathway, switched on by the
       drug's targets) and activating events (mutation, amplification, fusion) of
       an oncogenic kinase target in ``ACTIVATABLE_TARGETS``.
    3. ``SUSCEPTIBILITIES``: HR-gene loss or HRD score >= 42 for PARP inhibitors;
       MSI-high or TMB >= 10 mut/Mb for PD-1 / PD-L1 / CTLA-4 antibodies.
    4. CIViC sensitivity items not covered by any rule above, one rule per
       biomarker.
    CIViC items used: ``Predictive``, ``Supports``, ``Sensitivity/Response``,
    level A-C; germline items only for the HR genes (the rest are pharmacogenetic
    polymorphisms, not tumour events); expression, methylation and wild-type items
    are skipped (profiles have no such events); exon-level or indel variants count
    as any mutation of the gene.  A drug named in a combination gets the item only
    when the item's gene is one of its targets or class 2/3 genes (cetuximab does
    not inherit BRAF V600E from encorafenib + cetuximab).  An item merges into the
    first rule (by class) that covers its biomarker (same gene and kinds; the rule's
    protein change absent, equal, or the item's codon; fusion genes included) -
    level A items only into class 1 or 3 - else it starts a new rule.
"""

from features import DRUP_DRUGS

from ._build import (
    CIVIC_SOURCE,
    KNOWLEDGE_SOURCES,
    attach_civic,
    base_entries,
    build_knowledge,
    clean_synonyms,
    curated_entries,
    render,
)
from ._civic import (
    CIVIC_COLUMNS,
    Biomarker,
    CivicItem,
    civic_items,
    civic_sensitivity,
    covers,
    describe_variant,
    merge_item,
    primary_changes,
)
from ._curated import LABEL_RULES, PATHWAY_MODULES, Label
from ._curated_drugs import EXTRA_SYNONYMS, curated_drugs
from ._gdsc import GDSC_COLUMNS, TARGET_ALIASES, gdsc_entries, map_targets, split_names
from ._rules import curated_rules, expand_tumour_types

__all__ = [
    "CIVIC_COLUMNS",
    "CIVIC_SOURCE",
    "DRUP_DRUGS",
    "EXTRA_SYNONYMS",
    "GDSC_COLUMNS",
    "KNOWLEDGE_SOURCES",
    "LABEL_RULES",
    "PATHWAY_MODULES",
    "TARGET_ALIASES",
    "Biomarker",
    "CivicItem",
    "Label",
    "attach_civic",
    "base_entries",
    "build_knowledge",
    "civic_items",
    "civic_sensitivity",
    "clean_synonyms",
    "covers",
    "curated_drugs",
    "curated_entries",
    "curated_rules",
    "describe_variant",
    "expand_tumour_types",
    "gdsc_entries",
    "map_targets",
    "merge_item",
    "primary_changes",
    "render",
    "split_names",
]
