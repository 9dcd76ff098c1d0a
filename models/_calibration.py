"""Probability calibrators shipped in the bundle as plain JSON.

A calibrator maps a booster's raw probability to a calibrated one.  It is fitted in
training on out-of-fold predictions (:func:`training.fitting.fit_calibrator`) and
applied
here with numpy only, so serving needs neither scikit-learn's fitted objects nor
pickle.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import expit

# Raw probabilities are clipped this far from 0 and 1 before taking the logit.
_EPS = 1e-6


def logit(p: ArrayLike) -> np.ndarray:
    """Log-odds of probabilities, clipped to stay finite."""
    clipped = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(clipped / (1 - clipped))


class Calibrator(BaseModel):
    """A monotone map from raw to calibrated probability of response.

    ``isotonic``
        Piecewise-linear interpolation through the thresholds ``x`` -> ``y``
        (scikit-learn's ``IsotonicRegression`` with ``out_of_bounds="clip"``).
    ``sigmoid``
        Logistic recalibration: ``1 / (1 + exp(-(a * logit(p) + b)))`` with
        ``a >= 0`` (Platt scaling on the log-odds; ``a = 1, b = 0`` is the identity).
    ``identity``
        Too little data to calibrate: the raw probability is passed through.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["isotonic", "sigmoid", "identity"]
    x: list[float] = Field(default_factory=list, description="Isotonic inputs.")
    y: list[float] = Field(default_factory=list, description="Isotonic outputs.")
    a: float = Field(default=1.0, ge=0, description="Sigmoid slope on the logit.")
    b: float = Field(default=0.0, description="Sigmoid intercept.")
    n_episodes: int = Field(default=0, ge=0, description="Episodes it was fitted on.")
    n_events: int = Field(default=0, ge=0, description="Responders among them.")
    fitted_on: str = Field(
        default="drug",
        description="Whose out-of-fold predictions: the drug's own, or all drugs "
        "served by one model kind (when the drug alone has too little data).",
    )

    @model_validator(mode="after")
    def _check_thresholds(self) -> Calibrator:
        if self.method != "isotonic":
            return self
        x, y = np.asarray(self.x), np.asarray(self.y)
        if len(x) == 0 or len(x) != len(y):
            raise ValueError("isotonic calibrator needs x and y of one equal length")
        if np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
            raise ValueError("isotonic thresholds must be non-decreasing")
        if y[0] < 0 or y[-1] > 1:
            raise ValueError("isotonic outputs must lie in [0, 1]")
        return self

    def apply(self, p: ArrayLike) -> np.ndarray:
        """Calibrated probabilities for raw probabilities ``p`` (same shape)."""
        raw = np.asarray(p, dtype=float)
        if self.method == "isotonic":
            return np.interp(raw, self.x, self.y)
        if self.method == "sigmoid":
            return expit(self.a * logit(raw) + self.b)
        return raw.copy()
