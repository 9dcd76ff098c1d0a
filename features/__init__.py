"""Tumour profiles and how they become feature vectors."""

from features._knowledge import (
    DRUP_DRUGS,
    KNOWLEDGE_VERSION,
    MATCH_FEATURE_NAMES,
    DrugEntry,
    DrugKnowledge,
    Match,
    SensitivityRule,
    load_drug_knowledge,
)
from features._pairs import DRUG_PREFIX, encode_pairs, pair_feature_names
from features._schema import Alteration, AlterationKind, Profile
from features._tumour_types import (
    TUMOUR_TYPE_LINEAGE,
    TUMOUR_TYPE_SYNONYMS,
    canonical_tumour_type,
    lineage_of,
)
from features._vectorizer import ProfileVectorizer, as_profiles, event_tokens

__all__ = [
    "DRUG_PREFIX",
    "DRUP_DRUGS",
    "KNOWLEDGE_VERSION",
    "MATCH_FEATURE_NAMES",
    "TUMOUR_TYPE_LINEAGE",
    "TUMOUR_TYPE_SYNONYMS",
    "Alteration",
    "AlterationKind",
    "DrugEntry",
    "DrugKnowledge",
    "Match",
    "Profile",
    "ProfileVectorizer",
    "SensitivityRule",
    "as_profiles",
    "canonical_tumour_type",
    "encode_pairs",
    "event_tokens",
    "lineage_of",
    "load_drug_knowledge",
    "pair_feature_names",
]
