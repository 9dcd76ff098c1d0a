from pathlib import Path

import numpy as np
import pytest

from features import Profile, ProfileVectorizer, load_drug_knowledge
from models import BundleMetadata, CvMetrics, DrugInfo, ResponderModel
from tests.conftest import fit_drug_boosters, in_sample_uncertainty


def build_model(profiles: list[Profile], responded: np.ndarray) -> ResponderModel:
    """A real two-drug bundle: 'dabrafenib' follows the planted BRAF signal."""
    vectorizer = ProfileVectorizer(min_count=1).fit(profiles)
    names = list(vectorizer.get_feature_names_out())
    labels = {"dabrafenib": responded, "noise": np.arange(len(responded)) % 2}
    params = {"objective": "binary:logistic", "max_depth": 2, "seed": 0, "nthread": 1}
    knowledge = load_drug_knowledge()
    boosters, raw, offsets = fit_drug_boosters(
        vectorizer, profiles, labels, knowledge=knowledge, params=params, rounds=20
    )
    info = DrugInfo(
        n_training_samples=len(profiles),
        n_responders=int(responded.sum()),
        tumour_types=sorted({p.tumour_type for p in profiles}),
        label_rule="planted",
        cv=CvMetrics(auroc=0.8, auprc=0.6, prevalence=0.3, brier=0.15),
    )
    metadata = BundleMetadata(
        package_version="test",
        created_at="2026-01-01T00:00:00+00:00",
        data_source="planted",
        data_hash="0" * 64,
        population="patient",
        endpoint="clinical_benefit",
        feature_names=names,
        drugs=dict.fromkeys(labels, info),
    )
    return ResponderModel(
        vectorizer,
        boosters,
        metadata=metadata,
        knowledge=knowledge,
        uncertainty=in_sample_uncertainty(profiles, labels, raw),
        offsets=offsets,
    )


@pytest.fixture(scope="session")
def model(planted) -> ResponderModel:
    return build_model(*planted)


@pytest.fixture
def bundle(model: ResponderModel, tmp_path: Path) -> Path:
    return model.save(tmp_path / "bundle")
