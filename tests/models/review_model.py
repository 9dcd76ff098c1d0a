"""A small real bundle for the explanation and review-page tests.

Seven drugs trained on seeded synthetic profiles with planted biology (BRAF-mutant
tumours respond to dabrafenib and trametinib, BCR-ABL1 to imatinib, EGFR to
erlotinib, BRCA1/2 to olaparib; two cytotoxics respond at random), and an
explanation summary computed from the same training data the way a bundle stores
it: aggregates only, carrier cells of fewer than 5 samples left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from features import (
    Alteration,
    Profile,
    ProfileVectorizer,
    canonical_tumour_type,
    load_drug_knowledge,
)
from models import (
    BundleMetadata,
    Carriers,
    Condition,
    CvMetrics,
    DrugExplanation,
    DrugInfo,
    ExplanationSet,
    FeatureImportance,
    ResponderModel,
    SubgroupRule,
    wilson_interval,
)
from tests.conftest import fit_drug_boosters, in_sample_uncertainty

TUMOUR_TYPES = (
    "melanoma",
    "colorectal",
    "lung adenocarcinoma",
    "breast",
    "ovarian",
    "chronic myeloid leukaemia",
)
BACKGROUND_GENES = ("TP53", "KRAS", "PIK3CA", "APC", "PTEN", "EGFR", "BRCA2")
MIN_CARRIERS = 5


@dataclass(frozen=True)
class ReviewFixture:
    """The model and the training data it was fitted on."""

    model: ResponderModel
    profiles: list[Profile]
    outcomes: dict[str, np.ndarray]


def _profile(rng: np.random.Generator, index: int) -> Profile:
    tumour_type = str(rng.choice(TUMOUR_TYPES))
    genes = rng.choice(BACKGROUND_GENES, size=rng.integers(0, 3), replace=False)
    events = [Alteration(kind="mutation", gene=str(g)) for g in genes]
    if rng.random() < (0.6 if tumour_type == "melanoma" else 0.1):
        change = str(rng.choice(["V600E", "V600E", "V600K", "G469A"]))
        events.append(Alteration(kind="mutation", gene="BRAF", protein_change=change))
    if rng.random() < (0.8 if tumour_type == "chronic myeloid leukaemia" else 0.02):
        events.append(Alteration(kind="fusion", gene="BCR", partner_gene="ABL1"))
    return Profile(
        sample_id=f"R{index:04d}",
        tumour_type=tumour_type,
        alterations=tuple(events),
        tmb_mut_per_mb=float(rng.gamma(2.0, 3.0)),
        msi_high=bool(rng.random() < 0.05),
    )


def _outcomes(
    rng: np.random.Generator, profiles: list[Profile]
) -> dict[str, np.ndarray]:
    def has(gene: str, kind: str = "mutation") -> np.ndarray:
        return np.array(
            [any(a.kind == kind and gene in (a.gene, a.partner_gene)
                 for a in p.alterations) for p in profiles]
        )  # fmt: skip

    braf, kras = has("BRAF"), has("KRAS")
    truth = {
        "dabrafenib": np.where(braf, 0.85, 0.08),
        "trametinib": np.where(braf, 0.7, np.where(kras, 0.35, 0.08)),
        "imatinib": np.where(has("ABL1", "fusion"), 0.9, 0.05),
        "erlotinib": np.where(has("EGFR"), 0.8, 0.06),
        "olaparib": np.where(has("BRCA2"), 0.7, 0.1),
        "cisplatin": np.full(len(profiles), 0.25),
        "paclitaxel": np.full(len(profiles), 0.2),
    }
    return {drug: rng.random(len(p)) < p for drug, p in truth.items()}


def build_review_model(*, n_profiles: int = 400, seed: int = 0) -> ReviewFixture:
    """Train the seven-drug model and attach its explanation summary."""
    rng = np.random.default_rng(seed)
    profiles = [_profile(rng, i) for i in range(n_profiles)]
    outcomes = _outcomes(rng, profiles)
    vectorizer = ProfileVectorizer(min_count=MIN_CARRIERS).fit(profiles)
    X = vectorizer.transform(profiles)
    names = [str(n) for n in vectorizer.get_feature_names_out()]
    params = {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "seed": 0}
    params["nthread"] = 1
    knowledge = load_drug_knowledge()
    boosters, raw, offsets = fit_drug_boosters(
        vectorizer, profiles, outcomes, knowledge=knowledge, params=params, rounds=25
    )
    tumour_types = sorted({canonical_tumour_type(p.tumour_type) for p in profiles})
    metadata = BundleMetadata(
        package_version="test",
        created_at="2026-01-01T00:00:00+00:00",
        data_source="synthetic review cohort",
        data_hash=hashlib.sha256(X.tobytes()).hexdigest(),
        population="patient",
        endpoint="clinical_benefit",
        feature_names=names,
        drugs={
            drug: DrugInfo(
                n_training_samples=n_profiles,
                n_responders=int(y.sum()),
                tumour_types=tumour_types,
                label_rule="synthetic",
                cv=CvMetrics(auroc=0.8, auprc=0.5, prevalence=y.mean(), brier=0.15),
            )
            for drug, y in outcomes.items()
        },
    )
    bare = ResponderModel(
        vectorizer,
        boosters,
        metadata=metadata,
        knowledge=knowledge,
        uncertainty=in_sample_uncertainty(profiles, outcomes, raw),
        offsets=offsets,
    )
    explanations = summarise_training(bare, profiles, outcomes)
    model = ResponderModel(
        vectorizer,
        boosters,
        metadata=metadata,
        knowledge=bare.knowledge,
        uncertainty=bare.uncertainty,
        offsets=offsets,
        explanations=explanations,
    )
    return ReviewFixture(model, profiles, outcomes)


def summarise_training(
    model: ResponderModel,
    profiles: list[Profile],
    outcomes: Mapping[str, np.ndarray],
    *,
    n_top: int = 8,
) -> ExplanationSet:
    """Importances, carrier counts and one-feature subgroup rules of every drug,
    counted on its training data (in-sample SHAP: good enough for a fixture)."""
    X = model.vectorizer.transform(profiles)
    names = list(model.vectorizer.get_feature_names_out())
    contributions = model.explain(profiles)
    binary = [j for j in range(X.shape[1]) if set(np.unique(X[:, j])) <= {0.0, 1.0}]
    drugs = {}
    for drug, y in outcomes.items():
        y = np.asarray(y, dtype=bool)
        # Profile columns only: the drug's target-match flags follow them.
        importance = np.abs(contributions[drug][:, : len(names)]).mean(axis=0)
        top = np.argsort(-importance, kind="stable")[:n_top]
        carriers = {
            names[j]: Carriers(
                n=int(X[:, j].sum()), responders=int(y[X[:, j] == 1].sum())
            )
            for j in binary
            if X[:, j].sum() >= MIN_CARRIERS
        }
        rules = [_rule(names[j], X[:, j] == 1, y) for j in top if names[j] in carriers]
        drugs[drug] = DrugExplanation(
            n=len(y),
            responders=int(y.sum()),
            rate=float(y.mean()),
            top_features=tuple(
                FeatureImportance(feature=names[i], mean_abs_shap=float(importance[i]))
                for i in top
                if importance[i] > 0
            ),
            carriers=carriers,
            subgroups=tuple(sorted(rules, key=lambda r: -r.rate)[:3]),
        )
    return ExplanationSet(drugs=drugs)


def _rule(feature: str, selected: np.ndarray, y: np.ndarray) -> SubgroupRule:
    k, n = int(y[selected].sum()), int(selected.sum())
    low, high = wilson_interval(k, n)
    outside = ~selected
    return SubgroupRule(
        rule=feature,
        conditions=(Condition(feature=feature, present=True),),
        n_selected=n,
        responders_selected=k,
        rate=k / n,
        rate_ci=(float(low), float(high)),
        n_outside=int(outside.sum()),
        rate_outside=float(y[outside].mean()) if outside.any() else None,
    )
