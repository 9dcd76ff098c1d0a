"""Public HTTP request and response models of the scoring service.

Requests wrap :class:`features.Profile` rather than copying its fields.  They forbid
unknown fields and hide submitted values from validation errors, so a rejected
profile never ends up echoed in a response body or a log line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from features import Profile
from models import EXPLAIN_TOP, Endpoint, Population, RankBy, ServedBy
from reporting import TOP

_EXAMPLE_PROFILE = {
    "sample_id": "S-0001",
    "tumour_type": "melanoma",
    "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
    "tmb_mut_per_mb": 12.5,
    "msi_high": False,
}
_REQUEST_CONFIG = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


def _whole_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A count: strict, so JSON true and "5" are refused rather than read as 1 or 5; a
# number with no fraction (5.0) is 5, as JSON Schema's "integer" (the published
# schema) says, and 5.5 is refused.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
_TOP_K = Field(
    default=5,
    strict=True,
    ge=0,
    le=50,
    description="How many features, by absolute SHAP value, to report per "
    "explained drug (see `explain_top`).",
    examples=[5],
)
_EXPLAIN_TOP = Field(
    default=EXPLAIN_TOP,
    strict=True,
    ge=0,
    le=1000,
    description="How many drugs, from the top of the ranking, get their top SHAP "
    "features; the others' `top_features` are empty (SHAP costs more than a "
    "score). Any drug can be explained in full with `/explain`.",
    examples=[EXPLAIN_TOP],
)


_RANK_BY: Any = Field(
    default="evidence",
    description="How drugs are ordered: `evidence` (DRUP matching class first, "
    "1 best, unmatched last; then calibrated probability), `probability` "
    "(calibrated probability alone) or `lift` (probability minus the drug's rate "
    "in the tumour type). See the README, 'How drugs are ranked'.",
    examples=["evidence"],
)


class ScoreRequest(BaseModel):
    """One tumour profile to rank drugs for."""

    model_config = _REQUEST_CONFIG

    profile: Profile = Field(
        description="The tumour's biomarker profile.", examples=[_EXAMPLE_PROFILE]
    )
    top_k: WholeNumber = _TOP_K
    explain_top: WholeNumber = _EXPLAIN_TOP
    rank_by: RankBy = _RANK_BY


class ScoreBatchRequest(BaseModel):
    """Several tumour profiles, each ranked independently."""

    model_config = _REQUEST_CONFIG

    profiles: list[Profile] = Field(
        min_length=1,
        max_length=1000,
        description="Tumour profiles (1 to 1000), as many as fit the response "
        "bound: profiles x (drugs x 600 + explained drugs x 80 x top_k) bytes at "
        "most "
        "REDISCOVER_MAX_RESPONSE_BYTES (default 32 MiB), else 400 naming this "
        "field and how many fit.",
        examples=[[_EXAMPLE_PROFILE]],
    )
    top_k: WholeNumber = _TOP_K
    explain_top: WholeNumber = _EXPLAIN_TOP
    rank_by: RankBy = _RANK_BY


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
        description="Calibrated probability of the bundle's endpoint (for a "
        "cell-line bundle: that cell lines like this tumour are sensitive, not a "
        "patient's response; see `population` and `endpoint` of the response): "
        "the model's probability mapped through a calibrator fitted on "
        "cross-validated (held-out) predictions (isotonic with plenty of data, "
        "sigmoid otherwise; shared by the drugs of one model kind when a drug has "
        "too few).",
        examples=[0.81],
    )
    base_rate: float = Field(
        ge=0,
        le=1,
        description="The drug's response rate in this tumour type in the training "
        "data, shrunk across tumour types (empirical Bayes; the drug's overall rate "
        "for a type with fewer than 5 episodes), on the same calibrated scale as "
        "`probability`: where the model's score starts.",
        examples=[0.35],
    )
    lift: float = Field(
        ge=-1,
        le=1,
        description="probability - base_rate: what the genome adds to the tumour "
        "type's rate for this drug (0 for a drug served by its rate).",
        examples=[0.46],
    )
    raw_probability: float = Field(
        ge=0,
        le=1,
        description="The model's own, uncalibrated probability; the SHAP values in "
        "top_features add up to its log-odds.",
        examples=[0.86],
    )
    interval: tuple[float, float] = Field(
        description="95% Wilson interval of the response rate observed among the "
        "held-out training episodes of this drug whose calibrated probability "
        "fell in the same score bin (quantile bins of >= 30 episodes; a drug with "
        "few episodes has one bin): what happened to patients scored like this "
        "one. It is an interval of that bin's rate, not a bound on this "
        "patient's probability. Wilson's 95% is its construction; measured on "
        "held-out simulated patients it held the bin's true rate about 90% of "
        "the time.",
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
        description="Position in the list ordered by the request's `rank_by`.",
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
    served_by: ServedBy = Field(
        description="Which model scored the drug (chosen per drug by "
        "cross-validated Brier score, ties to the simpler): its own, the pooled "
        "model that borrows strength across drugs, `biomarker`: a logistic fit on "
        "the drug's known biomarker alone (TMB, HRD score or matching class), "
        "because no booster beat it, or `rate`: the tumour type's rate alone, "
        "because nothing beat it (no genomic signal learned).",
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
        description="Features with the largest absolute SHAP values, largest first, "
        "for the first `explain_top` drugs of the ranking (empty for the others, "
        "and for a drug served by its rate or biomarker, which has no features). "
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
    population: Population = Field(
        description="Whom the model's training outcomes were measured in.",
        examples=["cell_line"],
    )
    endpoint: Endpoint = Field(
        description="What a response is for this model: `ic50_sensitivity` (ln "
        "IC50 below the drug's threshold in a cell line), `clinical_benefit` "
        "(CR/PR or SD >= 16 weeks), `objective_response` (CR/PR).",
        examples=["ic50_sensitivity"],
    )
    request_id: str = Field(
        description="Opaque id of this request, also in the server log.",
        examples=["3f2b9c0e8d1a4b6c9e7f5a2d1c0b9a8e"],
    )


class ScoreResponse(_Scored):
    """Every drug ranked for one profile, most likely responder first."""

    results: list[DrugScoreOut] = Field(
        description="All drugs, in the request's `rank_by` order."
    )


class ScoreBatchResponse(_Scored):
    """One ranked drug list per submitted profile, in submission order."""

    results: list[list[DrugScoreOut]] = Field(
        description="Per profile, all drugs in the request's `rank_by` order."
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


class ReloadErrorOut(BaseModel):
    """Why the service does not serve the version the alias points at."""

    model_config = ConfigDict(frozen=True)

    version: str | None = Field(
        description="The refused registry version (null: the registry did not "
        "answer, or the first load failed before a version was known).",
        examples=["8"],
    )
    reason: str = Field(
        description="What failed; the server log has the details.",
        examples=["model version 8 failed verification: SHA-256 mismatch for ..."],
    )
    at: datetime = Field(
        description="When it failed (ISO 8601, UTC).",
        examples=["2026-05-02T08:30:00+00:00"],
    )


class ReloadOut(BaseModel):
    """What ``POST /admin/reload`` did."""

    model_config = ConfigDict(frozen=True)

    previous_version: str | None = Field(
        description="Version in service before the call (null: none yet).",
        examples=["7"],
    )
    version: str | None = Field(
        description="Version in service after the call.", examples=["8"]
    )
    changed: bool = Field(
        description="Whether a new bundle was swapped in.", examples=[True]
    )
    seconds: float = Field(
        description="How long the check, download, verification, warm-up and swap "
        "took.",
        examples=[2.4],
    )
    error: str | None = Field(
        description="Why the alias' version was refused (HTTP 409; the version "
        "above keeps serving); null on success.",
        examples=[None],
    )


class ModelInfo(BaseModel):
    """The model bundle being served."""

    model_config = ConfigDict(frozen=True)

    model_version: str = Field(
        description="Registry version in service ('local' for a local bundle).",
        examples=["7"],
    )
    alias: str | None = Field(
        description="Registry alias the service follows (null for a local bundle).",
        examples=["champion"],
    )
    loaded_at: datetime = Field(
        description="When this version went into service (ISO 8601, UTC).",
        examples=["2026-05-02T08:00:00+00:00"],
    )
    last_reload_error: ReloadErrorOut | None = Field(
        description="Why the alias' current version is not in service (the version "
        "above still is); null when the service is up to date.",
        examples=[None],
    )
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


class ExplainRequest(BaseModel):
    """One tumour profile and one drug whose score to explain."""

    model_config = _REQUEST_CONFIG

    profile: Profile = Field(
        description="The tumour's biomarker profile.", examples=[_EXAMPLE_PROFILE]
    )
    drug: str = Field(
        min_length=1,
        max_length=128,
        description="A drug the model scores (generic name or synonym).",
        examples=["dabrafenib"],
    )
    top_k: WholeNumber = Field(
        default=10,
        strict=True,
        ge=0,
        le=50,
        description="Features shown as their own waterfall step, by absolute SHAP "
        "value; the rest are grouped into one step.",
        examples=[10],
    )


class ReportRequest(BaseModel):
    """One tumour profile to write the tumour-board report for."""

    model_config = _REQUEST_CONFIG

    profile: Profile = Field(
        description="The tumour's biomarker profile.", examples=[_EXAMPLE_PROFILE]
    )
    top: WholeNumber = Field(
        default=TOP,
        strict=True,
        ge=1,
        le=1000,
        description="Drugs in the report's ranked table, from the top of the "
        "evidence ranking; the first three also get a waterfall each.",
        examples=[TOP],
    )


class WaterfallStepOut(BaseModel):
    """One bar of the waterfall, in probability units."""

    model_config = ConfigDict(frozen=True)

    feature: str = Field(
        description="Feature name, or 'other N features' for the rest grouped.",
        examples=["mutation BRAF"],
    )
    value: float | None = Field(
        description="The feature's value in the profile (null: not measured, or a "
        "group).",
        examples=[1.0],
    )
    shap: float = Field(
        description="SHAP contribution to the raw log-odds.", examples=[2.9]
    )
    start: float = Field(
        ge=0, le=1, description="Raw probability before this step.", examples=[0.2]
    )
    end: float = Field(
        ge=0, le=1, description="Raw probability after this step.", examples=[0.81]
    )
    delta: float = Field(
        description="end - start: the step in probability units.", examples=[0.61]
    )


class KeyAlterationOut(BaseModel):
    """The alteration behind the score, and how training samples with it fared."""

    model_config = ConfigDict(frozen=True)

    feature: str = Field(
        description="Feature column of the alteration.",
        examples=["hotspot BRAF V600"],
    )
    chosen_by: Literal["matched biomarker", "largest positive SHAP"] = Field(
        description="The drug's matched biomarker when it has a column, else the "
        "profile's alteration with the largest positive SHAP value.",
        examples=["matched biomarker"],
    )
    n: int | None = Field(
        description="The drug's training samples carrying it (null: fewer than 5, "
        "or no counts stored).",
        examples=[57],
    )
    responders: int | None = Field(
        description="How many of those responded.", examples=[51]
    )
    statement: str = Field(
        description="The same in words.",
        examples=["51 of 57 training samples with dabrafenib and hotspot BRAF V600 "
                  "responded (89%)"],
    )  # fmt: skip


class FeatureImportanceOut(BaseModel):
    """A feature's weight in the drug's model overall."""

    model_config = ConfigDict(frozen=True)

    feature: str = Field(examples=["mutation BRAF"])
    mean_abs_shap: float = Field(
        description="Mean absolute SHAP value (log-odds).", examples=[1.4]
    )


class SubgroupRuleOut(BaseModel):
    """A candidate responder subgroup of the drug's training data."""

    model_config = ConfigDict(frozen=True)

    rule: str = Field(examples=["hotspot BRAF V600 and not tumour type: colorectal"])
    n_selected: int = Field(description="Samples the rule selects.", examples=[57])
    responders_selected: int = Field(description="Responders among them.")
    rate: float = Field(description="Response rate inside the rule.", examples=[0.89])
    rate_ci: tuple[float, float] = Field(
        description="95% Wilson interval of rate.", examples=[[0.79, 0.95]]
    )
    n_outside: int = Field(description="Samples the rule leaves out.")
    rate_outside: float | None = Field(
        description="Response rate outside the rule (null if none).", examples=[0.1]
    )
    folds_found: int | None = Field(
        default=None,
        description="Cross-validation folds whose rule search, run without the "
        "fold, found the same rule (null: not checked).",
        examples=[5],
    )
    n_held_out: int | None = Field(
        default=None,
        description="Samples it selects in those held-out folds (null under 5).",
    )
    rate_held_out: float | None = Field(
        default=None,
        description="Response rate of those held-out samples (null unless 5 or more "
        "responders and 5 or more non-responders).",
        examples=[0.85],
    )


class DrugSummaryOut(BaseModel):
    """The drug's global explanation, stored in the bundle at training time."""

    model_config = ConfigDict(frozen=True)

    n: int = Field(description="Training samples of the drug.", examples=[400])
    responders: int = Field(description="Responders among them.", examples=[80])
    rate: float = Field(description="Overall response rate.", examples=[0.2])
    top_features: list[FeatureImportanceOut] = Field(
        description="Most important features, most important first."
    )
    subgroups: list[SubgroupRuleOut] = Field(
        description="Candidate responder subgroups, best first."
    )


class ExplainResponse(_Scored):
    """Why one drug scored as it did for one profile."""

    drug: str = Field(description="The drug explained.", examples=["dabrafenib"])
    base_rate: float = Field(
        ge=0,
        le=1,
        description="The drug's response rate in this tumour type (shrunk across "
        "types): the model starts from it, and the waterfall shows what the genome "
        "adds.",
        examples=[0.18],
    )
    base_probability: float = Field(
        ge=0,
        le=1,
        description="The model's base value as a probability: the tumour type's "
        "rate moved by the trees' average over training samples; where the "
        "waterfall starts.",
        examples=[0.2],
    )
    raw_probability: float = Field(
        ge=0,
        le=1,
        description="The model's uncalibrated probability: where the waterfall ends.",
        examples=[0.94],
    )
    steps: list[WaterfallStepOut] = Field(
        description="SHAP contributions converted to probability sequentially: "
        "features by decreasing |SHAP|, each step = sigmoid(running log-odds + "
        "SHAP) - sigmoid(running log-odds), so the steps add up from "
        "base_probability to raw_probability."
    )
    score: DrugScoreOut = Field(
        description="The drug's entry of POST /score for this profile: calibrated "
        "probability, interval, prediction set, domain flag, matched biomarker."
    )
    key_alteration: KeyAlterationOut | None = Field(
        description="The alteration behind the score and its training counts; null "
        "when the profile carries no alteration that raises the score."
    )
    summary: DrugSummaryOut | None = Field(
        description="The drug's global top features and subgroups; null when the "
        "model stores none."
    )


class ErrorOut(BaseModel):
    """Every error answer: what went wrong, and the id the server log has."""

    model_config = ConfigDict(frozen=True)

    error: str = Field(
        description="What went wrong, without the submitted values.",
        examples=["no model bundle is in service yet"],
    )
    request_id: str = Field(
        description="Opaque id of this request, also in the server log line.",
        examples=["3f2b9c0e8d1a4b6c9e7f5a2d1c0b9a8e"],
    )


class FieldErrorOut(BaseModel):
    """One invalid field: where it is and what is accepted, never its value."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="pydantic's error type.", examples=["missing"])
    loc: list[str | int] = Field(
        description="Path to the field: keys and list indices; empty for the "
        "whole body.",
        examples=[["profile", "alterations", 0, "kind"]],
    )
    msg: str = Field(
        description="What is wrong and what is accepted.",
        examples=["Field required"],
    )


class ValidationErrorOut(ErrorOut):
    """400: the body is not valid JSON, or fields are missing, unknown or invalid."""

    detail: list[FieldErrorOut] = Field(description="One entry per invalid field.")
