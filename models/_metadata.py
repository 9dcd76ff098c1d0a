"""Bundle metadata: what a model was trained on and how well it did."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# 2: drug knowledge and the pooled booster in the bundle; 3: uncertainty.json;
# 4: explanations.json; 5: offsets.json (tumour-type rates as the boosters'
# base margin), target-match columns in per-drug boosters, drugs served by rate;
# 6: lineage rates and biomarker fits in offsets.json, responders per score bin;
# 7: forest.npz (the boosters' trees as flat arrays)
FORMAT_VERSION = 7
# Whom the outcomes were measured in, and what they measure. A cell-line label
# (ln IC50 below the drug's threshold) is not a patient's response.
Population = Literal["cell_line", "patient"]
Endpoint = Literal[
    "ic50_sensitivity", "activity_area_sensitivity", "clinical_benefit",
    "objective_response",
]  # fmt: skip
# rate: the drug's shrunk tumour-type rate alone (no genomic signal learned);
# biomarker: a logistic regression on the drug's known biomarker alone
ServedBy = Literal["rate", "biomarker", "per-drug", "pooled"]
# Kinds scored without a booster.
NO_BOOSTER: tuple[ServedBy, ...] = ("rate", "biomarker")


class CvMetrics(BaseModel):
    """Grouped k-fold cross-validation metrics of one drug's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auroc: float | None = Field(description="Pooled out-of-fold AUROC.")
    auroc_ci: tuple[float, float] | None = Field(
        default=None, description="Bootstrap 95% interval of the AUROC."
    )
    auprc: float | None = Field(description="Pooled out-of-fold average precision.")
    prevalence: float = Field(description="Responder fraction (AUPRC of chance).")
    brier: float = Field(description="Brier score of out-of-fold probabilities.")


class DrugInfo(BaseModel):
    """What one drug's model saw in training."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_training_samples: int
    n_responders: int
    tumour_types: list[str] = Field(description="Canonical tumour types in training.")
    label_rule: str = Field(description="How responders were called for this drug.")
    served_by: ServedBy = Field(
        default="per-drug", description="Which model scores this drug."
    )
    cv: CvMetrics = Field(description="Cross-validated metrics of the served model.")
    cv_rate: CvMetrics | None = Field(
        default=None, description="The drug's shrunk tumour-type rate alone."
    )
    cv_biomarker: CvMetrics | None = Field(
        default=None,
        description="The drug's known biomarker alone (where it has one that varies).",
    )
    cv_per_drug: CvMetrics | None = Field(
        default=None, description="The drug's own model, when it had enough data."
    )
    cv_pooled: CvMetrics | None = Field(
        default=None, description="The pooled model, on this drug's episodes."
    )


class BundleMetadata(BaseModel):
    """Provenance and per-drug facts shipped inside every bundle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = FORMAT_VERSION
    package_version: str
    created_at: str
    data_source: str
    data_hash: str
    population: Population = Field(description="Whom the outcomes were measured in.")
    endpoint: Endpoint = Field(description="What ``responded`` means.")
    feature_names: list[str] = Field(description="Profile features (vectorizer).")
    pooled_feature_names: list[str] = Field(
        default_factory=list,
        description="Pooled model columns: profile, drug identity, target match.",
    )
    drugs: dict[str, DrugInfo]
    booster_files: dict[str, str] = Field(default_factory=dict)
