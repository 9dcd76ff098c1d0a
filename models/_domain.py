"""Is a profile like the training profiles?  Judged from aggregate statistics only.

The bundle keeps, per genomic event carried by enough training profiles, the share of
profiles that carried it, plus two cut-offs from the training profiles' own values:

surprisal
    ``-log P(profile's events)`` under independent events with those prevalences,
    over the events the training data knew.  A profile above the training profiles'
    upper quantile (99% by default) holds an unusual combination.
unseen events
    The profile's alterations on a (kind, gene) that no more than a handful of
    training profiles carried, so the models never saw it.

No training profile is stored: events carried by fewer than ``min_profiles``
training profiles are left out of the table, so none can point at one patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from features import Profile, event_tokens


def gene_token(kind: str, gene: str) -> str:
    """The event name an alteration gets at gene level (e.g. ``mutation BRAF``)."""
    return f"{kind} {gene}"


class ProfileDomain(BaseModel):
    """Aggregate event statistics of the training profiles and the two cut-offs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_profiles: int = Field(ge=1, description="Training profiles summarised.")
    min_profiles: int = Field(
        ge=1, description="Events in fewer training profiles count as unseen."
    )
    quantile: float = Field(gt=0, lt=1, description="Quantile setting the cut-offs.")
    prevalence: dict[str, float] = Field(
        description="Event -> smoothed share of training profiles carrying it."
    )
    surprisal_threshold: float = Field(description="Surprisal cut-off (nats).")
    unseen_threshold: int = Field(ge=0, description="Most unseen events tolerated.")

    @cached_property
    def _surprisal_terms(self) -> tuple[float, dict[str, float]]:
        # The surprisal of a profile with no events, and what each event changes.
        names = list(self.prevalence)
        pi = np.array([self.prevalence[n] for n in names])
        gain = np.log1p(-pi) - np.log(pi)
        return float(-np.log1p(-pi).sum()), dict(zip(names, gain.tolist(), strict=True))

    def surprisal(self, profiles: Sequence[Profile]) -> np.ndarray:
        """Negative log-probability (nats) of each profile's known events."""
        absent, gain = self._surprisal_terms
        return np.array(
            [
                absent + sum(gain[t] for t in set(event_tokens(p)) if t in gain)
                for p in profiles
            ]
        )

    def unseen_events(self, profiles: Sequence[Profile]) -> np.ndarray:
        """How many of each profile's alterations fall on an unseen (kind, gene)."""
        return np.array(
            [
                len(
                    {
                        token
                        for a in p.alterations
                        if (token := gene_token(a.kind, a.gene)) not in self.prevalence
                    }
                )
                for p in profiles
            ]
        )

    def reasons(self, profiles: Sequence[Profile]) -> list[str | None]:
        """Why each profile lies outside the training profiles, or None."""
        unseen = self.unseen_events(profiles)
        surprisal = self.surprisal(profiles)
        share = f"{100 * self.quantile:g}%"
        out = []
        for n_unseen, s in zip(unseen, surprisal, strict=True):
            why = []
            if n_unseen > self.unseen_threshold:
                why.append(
                    f"{n_unseen} alterations on genes unseen in training (more than "
                    f"{self.unseen_threshold}, the {share} quantile of training "
                    "profiles)"
                )
            if s > self.surprisal_threshold:
                why.append(
                    f"unusual combination of events (rarer than {share} of training "
                    "profiles)"
                )
            out.append("; ".join(why) or None)
        return out
