"""Split-conformal prediction sets for a binary outcome, from calibrated scores.

The nonconformity score of an episode is ``1 - p(observed label)`` (LAC: least
ambiguous set-valued classifier), with ``p`` the calibrated probability.  Training
stores, per group, the conformal quantile of held-out scores: one for both outcomes
(marginal coverage) or one per outcome (coverage among responders and among
non-responders alike).  A new score's set holds every label whose nonconformity does
not exceed that label's threshold.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field

RESPONDER, NON_RESPONDER = 1, 0


class GroupThresholds(BaseModel):
    """Conformal thresholds of one group of held-out episodes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    non_responder: float = Field(
        ge=0, le=1, description="0 is in the set when p <= this."
    )
    responder: float = Field(
        ge=0, le=1, description="1 is in the set when 1 - p <= this."
    )
    n: int = Field(ge=0, description="Held-out episodes behind the thresholds.")
    fitted_on: str = Field(
        description="Whose episodes: the drug's in one tumour type, the drug's, or "
        "all drugs served by its model kind."
    )


class ConformalThresholds(BaseModel):
    """One drug's conformal thresholds: per tumour type (Mondrian) where the drug had
    enough held-out episodes of that type, else ``default``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by_outcome: bool = Field(
        description="True: coverage holds among responders and non-responders "
        "separately; false: over all episodes."
    )
    default: GroupThresholds
    by_tumour_type: dict[str, GroupThresholds] = Field(default_factory=dict)

    def thresholds(self, tumour_types: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Non-responder and responder thresholds for each (canonical) tumour type."""
        groups = [self.by_tumour_type.get(t, self.default) for t in tumour_types]
        return (
            np.array([g.non_responder for g in groups], dtype=float),
            np.array([g.responder for g in groups], dtype=float),
        )


def prediction_sets(
    p: ArrayLike, non_responder: ArrayLike, responder: ArrayLike
) -> list[tuple[int, ...]]:
    """Conformal prediction set of each calibrated probability.

    0 is in the set when ``p <= non_responder``, 1 when ``1 - p <= responder``.
    Where both would be left out, the set holds the more probable label instead
    (coverage can only rise), so no set is empty.
    """
    p = np.asarray(p, dtype=float)
    has_zero = p <= np.asarray(non_responder, dtype=float)
    has_one = 1 - p <= np.asarray(responder, dtype=float)
    sets = []
    for zero, one, prob in zip(has_zero, has_one, p, strict=True):
        labels = (NON_RESPONDER,) * bool(zero) + (RESPONDER,) * bool(one)
        sets.append(labels or ((RESPONDER,) if prob >= 0.5 else (NON_RESPONDER,)))
    return sets
