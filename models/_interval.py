"""The score bin's evidence: among the held-out training episodes whose calibrated
score fell in the same bin as a new score, how many responded, with the Wilson
score interval of that observed rate (a binomial proportion: the interval is of
the bin's response rate, not of one patient's probability)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, model_validator

INTERVAL_LEVEL = 0.95


class ScoreBins(BaseModel):
    """How many held-out episodes fell in each calibrated-score bin, and how many
    of them responded.

    Bin ``i`` holds scores in ``[edges[i - 1], edges[i])`` (open-ended at both ends),
    so ``len(n) == len(edges) + 1``.  Only counts are stored, never episodes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    edges: list[float] = Field(default_factory=list)
    n: list[int] = Field(description="Held-out episodes per bin.")
    events: list[int] = Field(description="Responders among them.")

    @model_validator(mode="after")
    def _check_counts(self) -> ScoreBins:
        if len(self.n) != len(self.edges) + 1 or len(self.events) != len(self.n):
            raise ValueError("need one count per bin: len(n) == len(edges) + 1")
        if np.any(np.diff(self.edges) <= 0):
            raise ValueError("bin edges must increase")
        if any(not 0 <= k <= n for k, n in zip(self.events, self.n, strict=True)):
            raise ValueError("a bin's responders must lie between 0 and its episodes")
        return self

    def _bin(self, p: ArrayLike) -> np.ndarray:
        return np.searchsorted(self.edges, np.asarray(p, dtype=float), side="right")

    def support(self, p: ArrayLike) -> np.ndarray:
        """Held-out episodes in each score's bin."""
        return np.asarray(self.n)[self._bin(p)]

    def interval(self, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Wilson interval (95%) of the response rate observed among the held-out
        episodes in each score's bin."""
        index = self._bin(p)
        return wilson_interval(
            np.asarray(self.events)[index], np.asarray(self.n)[index]
        )


def wilson_interval(
    events: ArrayLike, n: ArrayLike, *, level: float = INTERVAL_LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion; (0, 1) where ``n`` is 0.

    ``events`` may be fractional (a rate times ``n``).
    """
    k, total = np.asarray(events, dtype=float), np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    safe = np.maximum(total, 1.0)
    rate = np.clip(k / safe, 0.0, 1.0)
    centre = (rate + z**2 / (2 * safe)) / (1 + z**2 / safe)
    half = (z / (1 + z**2 / safe)) * np.sqrt(
        rate * (1 - rate) / safe + z**2 / (4 * safe**2)
    )
    empty = total == 0
    low = np.where(empty, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(empty, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high
