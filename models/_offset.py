"""Each drug's response rate per tumour type: the offset its boosters start from;
and, for a drug served by its known biomarker alone, that biomarker's logistic fit.

A drug's trees explain what the genome adds to the rate its label shows in the
profile's tumour type, not the tumour type itself: the rate (shrunk across tumour
types by empirical Bayes, fitted inside every training fold) is given to XGBoost
as ``base_margin``, so the SHAP base value is that rate's log-odds and the
features move the score from there. Aggregates only: a tumour type is listed only
when it held at least `MIN_CELL` of the drug's episodes; rarer types, and types
the drug never saw, get their lineage's rate (OncoTree tissue, listed by the same
rule), else the drug's pooled rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from features import lineage_of
from models._calibration import logit


class TumourTypeRates(BaseModel):
    """One drug's shrunk response rate per tumour type, and its pooled rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pooled: float = Field(ge=0, le=1, description="The drug's rate over all types.")
    rates: dict[str, float] = Field(
        default_factory=dict,
        description="Canonical tumour type -> shrunk rate (types with enough data).",
    )
    lineages: dict[str, float] = Field(
        default_factory=dict,
        description="Lineage -> shrunk rate (lineages with enough data): the rate "
        "of a tumour type not listed.",
    )

    def rate(self, tumour_types: Sequence[str]) -> np.ndarray:
        """The rate for each canonical tumour type: its own, else its lineage's,
        else the pooled rate."""
        return np.array([self._rate(t) for t in tumour_types])

    def _rate(self, tumour_type: str) -> float:
        if (own := self.rates.get(tumour_type)) is not None:
            return own
        return self.lineages.get(lineage_of(tumour_type) or "", self.pooled)

    def margin(self, tumour_types: Sequence[str]) -> np.ndarray:
        """The rates' log-odds: the boosters' ``base_margin``."""
        return logit(self.rate(tumour_types))


class BiomarkerFit(BaseModel):
    """A logistic regression on the drug's known biomarker alone
    (`features.DrugKnowledge.biomarker_score`: TMB, HRD score, or the matching
    class): log-odds = ``intercept`` + ``slope`` x log(1 + score)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intercept: float
    slope: float

    def margin(self, scores: np.ndarray) -> np.ndarray:
        """The log-odds for each biomarker score."""
        return self.intercept + self.slope * np.log1p(scores)


class Offsets(BaseModel):
    """Every drug's :class:`TumourTypeRates`, and the :class:`BiomarkerFit` of each
    drug served by its biomarker (``offsets.json`` in the bundle)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drugs: dict[str, TumourTypeRates] = Field(default_factory=dict)
    biomarker: dict[str, BiomarkerFit] = Field(default_factory=dict)
