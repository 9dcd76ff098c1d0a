"""Tumour profiles and how they become feature vectors."""

from features._schema import Alteration, AlterationKind, Profile
from features._tumour_types import (
    TUMOUR_TYPE_LINEAGE,
    TUMOUR_TYPE_SYNONYMS,
    canonical_tumour_type,
    lineage_of,
)
from features._vectorizer import ProfileVectorizer, as_profiles, event_tokens

__all__ = [
    "TUMOUR_TYPE_LINEAGE",
    "TUMOUR_TYPE_SYNONYMS",
    "Alteration",
    "AlterationKind",
    "Profile",
    "ProfileVectorizer",
    "as_profiles",
    "canonical_tumour_type",
    "event_tokens",
    "lineage_of",
]
