"""The ResponderModel bundle: how it is saved, loaded, verified and explained."""

from models._bundle import BundleIntegrityError, ResponderModel, verify_bundle
from models._metadata import BundleMetadata, CvMetrics, DrugInfo
from models._ranking import DrugScore, FeatureContribution, rank_drugs
from models._registry import load_registered_bundle

__all__ = [
    "BundleIntegrityError",
    "BundleMetadata",
    "CvMetrics",
    "DrugInfo",
    "DrugScore",
    "FeatureContribution",
    "ResponderModel",
    "load_registered_bundle",
    "rank_drugs",
    "verify_bundle",
]
