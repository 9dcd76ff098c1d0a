"""Calibration, conformal sets, probability intervals and the out-of-domain flag.

Everything here was fitted in training on out-of-fold predictions (see
:func:`training.fitting.fit_uncertainty`) and is stored in the bundle as
``uncertainty.json``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models._calibration import Calibrator
from models._conformal import ConformalThresholds, prediction_sets
from models._domain import ProfileDomain
from models._interval import INTERVAL_LEVEL, ScoreBins
from models._metadata import ServedBy


class DrugUncertainty(BaseModel):
    """One drug's calibrator, conformal thresholds and score bins."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    served_by: ServedBy
    calibrator: Calibrator
    conformal: ConformalThresholds
    bins: ScoreBins


class UncertaintyModel(BaseModel):
    """Per-drug uncertainty and the training profiles' domain, as plain data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coverage: float = Field(gt=0, lt=1, description="Nominal coverage of the sets.")
    interval_level: float = Field(default=INTERVAL_LEVEL, gt=0, lt=1)
    drugs: dict[str, DrugUncertainty]
    domain: ProfileDomain

    def calibrated(self, drug: str, raw: np.ndarray) -> np.ndarray:
        """Raw probabilities of one drug on its calibrated scale (unchanged for a
        drug without held-out predictions)."""
        known = self.drugs.get(drug)
        return raw if known is None else known.calibrator.apply(raw)

    def assess(
        self,
        drug: str,
        raw: np.ndarray,
        tumour_types: Sequence[str],
        *,
        seen_tumour_types: Collection[str],
        profile_reasons: Sequence[str | None],
    ) -> Assessment:
        """Calibrated probabilities, intervals, sets and domain flags of one drug.

        Parameters
        ----------
        drug
            The drug scored.
        raw
            The booster's probabilities, one per profile.
        tumour_types
            Each profile's canonical tumour type.
        seen_tumour_types
            Tumour types in the drug's training data.
        profile_reasons
            :meth:`ProfileDomain.reasons` of the profiles (shared by all drugs).
        """
        raw = np.asarray(raw, dtype=float)
        known = self.drugs.get(drug)
        if known is None:
            why = f"drug {drug!r} has no held-out training predictions"
            return Assessment(
                probability=raw,
                low=np.zeros_like(raw),
                high=np.ones_like(raw),
                sets=[(0, 1)] * len(raw),
                reasons=[why] * len(raw),
            )
        probability = self.calibrated(drug, raw)
        low, high = known.bins.interval(probability)
        non_responder, responder = known.conformal.thresholds(list(tumour_types))
        reasons = [
            _joined(
                None
                if t in seen_tumour_types
                else f"tumour type {t!r} not in {drug}'s training data",
                profile_reason,
            )
            for t, profile_reason in zip(tumour_types, profile_reasons, strict=True)
        ]
        return Assessment(
            probability=probability,
            low=low,
            high=high,
            sets=prediction_sets(probability, non_responder, responder),
            reasons=reasons,
        )


def _joined(*reasons: str | None) -> str | None:
    return "; ".join(r for r in reasons if r) or None


@dataclass(frozen=True)
class Assessment:
    """One drug's calibrated view of several profiles (arrays aligned to them)."""

    probability: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sets: list[tuple[int, ...]]
    reasons: list[str | None]

    @property
    def in_domain(self) -> np.ndarray:
        """True where no out-of-domain reason was found."""
        return np.array([r is None for r in self.reasons], dtype=bool)
