"""Public HTTP request and response models of the scoring service.

Requests wrap :class:`features.Profile` rather than copying its fields.  They forbid
unknown fields and hide submitted values from validation errors, so a rejected
profile never ends up echoed in a response body or a log line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from features import Profile

_EXAMPLE_PROFILE = {
    "sample_id": "S-0001",
    "tumour_type": "melanoma",
    "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
    "tmb_mut_per_mb": 12.5,
    "msi_high": False,
}
_REQUEST_CONFIG = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
_TOP_K = Field(
    default=5,
    ge=0,
    le=50,
    description="How many features, by absolute SHAP value, to report per drug.",
    examples=[5],
)


class ScoreRequest(BaseModel):
    """One tumour profile to rank drugs for."""

    model_config = _REQUEST_CONFIG

    profile: Profile = Field(
        description="The tumour's biomarker profile.", examples=[_EXAMPLE_PROFILE]
    )
    top_k: int = _TOP_K


class ScoreBatchRequest(BaseModel):
    """Several tumour profiles, each ranked independently."""

    model_config = _REQUEST_CONFIG

    profiles: list[Profile] = Field(
        min_length=1,
        max_length=1000,
        description="Tumour profiles (1 to 1000).",
        examples=[[_EXAMPLE_PROFILE]],
    )
    top_k: int = _TOP_K


class FeatureContributionOut(BaseModel):
    """A feature that drove one drug's score for this profile."""

    model_config = ConfigDict(frozen=True)

    feature: str = Field(
        description="Readable feature name.", examples=["mutation BRAF"]
    )
    value: float | None = Field(
        description="The feature's value in the profile (null: not measured).",
        examples=[1.0],
    )
    shap: float = Field(
        description="SHAP contribution to the uncalibrated model's log-odds of "
        "response (see raw_probability).",
        examples=[1.7],
    )


class BiomarkerMatchOut(BaseModel):
    """Rule-based evidence: which alteration matches the drug, and how strongly."""

    model_config = ConfigDict(frozen=True)

    matching_class: int = Field(
        ge=1,
        le=4,
        description="DRUP matching class: 1 on-label marker in another tumour type, "
        "2 upstream variant in the drug's pathway, 3 unique susceptibility "
        "(BRCA/HRD, MSI/TMB), 4 other published evidence.",
        examples=[1],
    )
    alteration: str = Field(
        description="The matching alteration.", examples=["mutation BRAF V600E"]
    )
    evidence: str = Field(
        description="Where the match comes from.", examples=["CIViC EID 1234"]
    )
    on_label: bool = Field(
        description="True when the drug is approved for this biomarker in this "
        "tumour type (not an off-label use).",
        examples=[False],
    )


class DrugScoreOut(BaseModel):
    """One drug's predicted probability of response for one profile."""

    model_config = ConfigDict(frozen=True)

    drug: str = Field(
        description="Lower-case generic drug name.", examples=["dabrafenib"]
    )
    probability: float = Field(
        ge=0,
        le=1,
        description="Calibrated probability of response: the model's probability "
        "mapped through a calibrator fitted on cross-validated (held-out) "
        "predictions (isotonic with plenty of data, sigmoid otherwise; shared by "
        "the drugs of one model kind when a drug has too few). Drugs are ranked "
        "by it.",
        examples=[0.81],
    )
    raw_probability: float = Field(
        ge=0,
        le=1,
        description="The model's own, uncalibrated probability; the SHAP values in "
        "top_features add up to its log-odds.",
        examples=[0.86],
    )
    interval: tuple[float, float] = Field(
        description="95% Wilson interval of the calibrated probability read as a "
        "response rate among n patients, n being the held-out training episodes "
        "of this drug whose calibrated probability fell in the same score bin (a "
        "drug with few episodes has one bin). Wide when the probability rests on "
        "few patients; it does not bound the model's own error.",
        examples=[[0.68, 0.9]],
    )
    prediction_set: list[Literal[0, 1]] = Field(
        description="Split-conformal prediction set (1 = responder, 0 = "
        "non-responder) that holds the true outcome with probability `coverage` "
        "among this drug's patients (per tumour type where the drug had enough "
        "held-out episodes; per outcome if the bundle was trained so). Both labels "
        "means the model cannot call this patient at that coverage.",
        examples=[[1]],
    )
    coverage: float = Field(
        gt=0, lt=1, description="Nominal coverage of prediction_set.", examples=[0.9]
    )
    in_domain: bool = Field(
        description="False when the drug, the tumour type (for this drug) or the "
        "profile lies outside the training data; the score is then an "
        "extrapolation and `reason` says why.",
        examples=[True],
    )
    reason: str | None = Field(
        description="Why the score is out of domain; null when in domain.",
        examples=[None, "tumour type 'mesothelioma' not in dabrafenib's training data"],
    )
    rank: int = Field(
        ge=1,
        description="1 = most likely to respond (highest calibrated probability).",
        examples=[1],
    )
    n_training_samples: int = Field(
        description="Samples the drug's model was trained on.", examples=[212]
    )
    tumour_type_seen: bool = Field(
        description="Whether the drug's training data held this tumour type; "
        "false means the score borrows from other tumour types.",
        examples=[True],
    )
    served_by: Literal["per-drug", "pooled"] = Field(
        description="Which model scored the drug: its own, or the pooled model that "
        "borrows strength across drugs (chosen per drug by cross-validation).",
        examples=["per-drug"],
    )
    matched_biomarker: BiomarkerMatchOut | None = Field(
        description="The profile's match to the drug's known biomarkers (DRUP "
        "matching class 1-4), or null when nothing matches.",
        examples=[
            {
                "matching_class": 1,
                "alteration": "mutation BRAF V600E",
                "evidence": "BRAF V600 is the on-label marker of dabrafenib",
                "on_label": False,
            }
        ],
    )
    top_features: list[FeatureContributionOut] = Field(
        description="Features with the largest absolute SHAP values, largest first. "
        "SHAP explains the uncalibrated model's log-odds (raw_probability), not the "
        "calibrated probability; calibration is monotone, so a feature that raises "
        "the raw probability never lowers the calibrated one.",
        examples=[[{"feature": "mutation BRAF", "value": 1.0, "shap": 1.7}]],
    )


class _Scored(BaseModel):
    model_config = ConfigDict(frozen=True)

    model_version: str = Field(
        description="Registry version of the model bundle that scored the request.",
        examples=["7"],
    )
    request_id: str = Field(
        description="Opaque id of this request, also in the server log.",
        examples=["3f2b9c0e8d1a4b6c9e7f5a2d1c0b9a8e"],
    )


class ScoreResponse(_Scored):
    """Every drug ranked for one profile, most likely responder first."""

    results: list[DrugScoreOut] = Field(
        description="All drugs, sorted by calibrated probability, descending."
    )


class ScoreBatchResponse(_Scored):
    """One ranked drug list per submitted profile, in submission order."""

    results: list[list[DrugScoreOut]] = Field(
        description="Per profile, all drugs sorted by calibrated probability, "
        "descending."
    )


class CvMetricsOut(BaseModel):
    """Cross-validated performance of one drug's model."""

    model_config = ConfigDict(frozen=True)

    auroc: float | None = Field(description="Out-of-fold AUROC.", examples=[0.74])
    auroc_ci: tuple[float, float] | None = Field(
        description="Bootstrap 95% interval of the AUROC.", examples=[[0.68, 0.8]]
    )
    auprc: float | None = Field(
        description="Out-of-fold average precision.", examples=[0.41]
    )
    prevalence: float = Field(
        description="Responder fraction (the AUPRC of chance).", examples=[0.22]
    )
    brier: float = Field(description="Out-of-fold Brier score.", examples=[0.15])


class DrugModelOut(BaseModel):
    """What one drug's model was trained on and how well it did."""

    model_config = ConfigDict(frozen=True)

    n_training_samples: int = Field(description="Training samples.", examples=[212])
    n_responders: int = Field(description="Responders among them.", examples=[47])
    tumour_types: list[str] = Field(
        description="Canonical tumour types in training.", examples=[["melanoma"]]
    )
    label_rule: str = Field(
        description="How responders were called.", examples=["ln_ic50 below -1 SD"]
    )
    cv: CvMetricsOut = Field(description="Cross-validation metrics.")


class ModelInfo(BaseModel):
    """The model bundle being served."""

    model_config = ConfigDict(frozen=True)

    model_version: str = Field(description="Registry version.", examples=["7"])
    package_version: str = Field(
        description="rediscover version that built the bundle.", examples=["0.1.0"]
    )
    created_at: str = Field(
        description="When the bundle was built (ISO 8601).",
        examples=["2026-05-01T12:00:00+00:00"],
    )
    data_source: str = Field(description="Training data.", examples=["gdsc_v17"])
    data_hash: str = Field(
        description="SHA-256 of the training data.", examples=["9c1e...e2"]
    )
    drugs: dict[str, DrugModelOut] = Field(description="Per-drug facts, by drug.")
