"""Per-drug explanation summaries stored in the bundle (``explanations.json``).

Aggregates only: feature importances, carrier counts and candidate subgroup rules
with their counts and rates. No profile or sample identifier is ever stored here.
Computed in training (see :mod:`training.explanation`) and read by the service to
explain a drug and a patient's score.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Counts resting on fewer episodes than this are never stored or shown.
MIN_CELL = 5


class Carriers(BaseModel):
    """How many of a drug's training episodes carry a feature; how many responded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(ge=0, description="Training episodes carrying the feature.")
    responders: int = Field(ge=0, description="Of those, how many responded.")


class Condition(BaseModel):
    """One clause of a subgroup rule: a binary feature present (or absent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature: str = Field(
        description="Vectorizer column, e.g. 'hotspot BRAF V600', or a numeric one "
        "at a cut-off, e.g. 'tmb mut per mb >= 10'."
    )
    present: bool = Field(description="True: carries it; False: does not.")


class SubgroupRule(BaseModel):
    """A candidate responder subgroup with its observed response rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(description="Readable rule, e.g. 'hotspot BRAF V600 and not …'.")
    conditions: tuple[Condition, ...]
    n_selected: int = Field(ge=0, description="Episodes the rule selects.")
    responders_selected: int = Field(ge=0)
    rate: float = Field(ge=0, le=1, description="Response rate inside the rule.")
    rate_ci: tuple[float, float] = Field(description="95% Wilson interval of rate.")
    n_outside: int = Field(ge=0, description="Episodes the rule leaves out.")
    rate_outside: float | None = Field(
        ge=0, le=1, description="Response rate outside the rule (None if empty)."
    )
    folds_found: int | None = Field(
        default=None, ge=0,
        description="CV folds where the search, run without the fold's episodes, "
        "found the same rule (None: not checked).",
    )  # fmt: skip
    n_held_out: int | None = Field(
        default=None, ge=0,
        description="Episodes it selects in those held-out folds (None under 5).",
    )  # fmt: skip
    rate_held_out: float | None = Field(
        default=None, ge=0, le=1,
        description="Response rate of those episodes (None under 5 responders "
        "or 5 non-responders).",
    )  # fmt: skip


class FeatureImportance(BaseModel):
    """Mean |SHAP| of one feature (log-odds units) of the served model on its
    training episodes (the bundle's summaries; ``rediscover explain`` ranks
    held-out SHAP values instead)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature: str
    mean_abs_shap: float = Field(ge=0)


class DrugExplanation(BaseModel):
    """What explains one drug's model, in aggregate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(ge=0, description="Training episodes of the drug.")
    responders: int = Field(ge=0)
    rate: float = Field(ge=0, le=1, description="Overall response rate.")
    top_features: tuple[FeatureImportance, ...] = Field(
        description="Most important features, most important first."
    )
    carriers: dict[str, Carriers] = Field(
        description="Per binary feature column (or numeric one at a cut-off) with "
        "at least 5 carriers: counts and responders."
    )
    subgroups: tuple[SubgroupRule, ...] = Field(
        description="Candidate responder subgroups, best first."
    )


class ExplanationSet(BaseModel):
    """All drugs' explanation summaries (the bundle's ``explanations.json``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drugs: dict[str, DrugExplanation] = Field(default_factory=dict)
