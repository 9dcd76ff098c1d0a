"""One screened DRUP patient: a resampled GDSC profile and what GDSC lacks.

Steps 2 and 3 of the simulation (`training.data._simulate`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from features import Alteration, Profile
from training.data._cohort import Cohort
from training.data._drup_biomarkers import (
    _BRAF_NON_V600,
    _BRCA_EVENTS,
    _EVENT_BIOMARKERS,
    _FUSION_PARTNERS,
    EventKey,
)
from training.data._drup_params import DrupParams

# --- source profiles ------------------------------------------------------------


@dataclass(frozen=True)
class _Pools:
    """GDSC profiles by simulated tumour type and MSI status."""

    profiles: tuple[Profile, ...]
    events: tuple[frozenset[EventKey], ...]
    by_type: Mapping[tuple[str, bool], np.ndarray]


def _source_pools(source: Cohort, params: DrupParams) -> _Pools:
    profiles = source.profiles
    events = tuple(frozenset((a.gene, a.kind) for a in p.alterations) for p in profiles)
    types = np.array([p.tumour_type for p in profiles])
    msi = np.array([bool(p.msi_high) for p in profiles])
    by_type: dict[tuple[str, bool], np.ndarray] = {}
    missing = []
    for simulated in params.tumour_type_weights:
        wanted = params.source_types.get(simulated, (simulated,))
        rows = np.flatnonzero(np.isin(types, wanted))
        if rows.size == 0:
            missing.append(simulated)
        for status in (False, True):
            same = rows[msi[rows] == status]
            by_type[simulated, status] = same if same.size else rows
    if missing:
        raise ValueError(
            f"source cohort has no profile to resample for tumour type(s) {missing} "
            "(see DrupParams.source_types); pass the GDSC cohort (load_gdsc) or "
            "remove them from tumour_type_weights"
        )
    return _Pools(profiles=profiles, events=events, by_type=by_type)


# --- one screened patient -------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    tumour_type: str
    line: int
    events: frozenset[EventKey]
    dropped: frozenset[EventKey]
    braf_change: str | None
    fusions: tuple[Alteration, ...]
    msi: bool
    tmb: float
    hrd: float

    @property
    def braf_v600(self) -> bool:
        return self.braf_change is not None and self.braf_change.startswith("V600")


def _draw_candidate(
    rng: np.random.Generator, tumour_type: str, pools: _Pools, params: DrupParams
) -> _Candidate:
    msi = bool(
        rng.random()
        < params.msi_prevalence.get(tumour_type, params.msi_prevalence_default)
    )
    rows = pools.by_type[tumour_type, msi]
    line = int(rows[rng.integers(rows.size)])
    events = set(pools.events[line])
    dropped = set()
    for key in sorted(events):
        keep = params.cell_line_event_keep.get(f"{key[0]} {key[1]}")
        if keep is not None and rng.random() >= keep:
            dropped.add(key)
    events -= dropped
    braf_change = _draw_braf_change(rng, tumour_type, events, params)
    fusions = _draw_fusions(rng, tumour_type, params)
    events |= {(g, "fusion") for f in fusions for g in (f.gene, f.partner_gene) if g}
    median = (
        params.tmb_median_msi_mut_per_mb
        if msi
        else params.tmb_median_mut_per_mb.get(
            tumour_type, params.tmb_median_default_mut_per_mb
        )
    )
    # Rounded as a report would give them, so the profile shows what the truth used.
    tmb = round(median * math.exp(params.tmb_log_sd * rng.standard_normal()), 2)
    return _Candidate(
        tumour_type=tumour_type,
        line=line,
        events=frozenset(events),
        dropped=frozenset(dropped),
        braf_change=braf_change,
        fusions=fusions,
        msi=msi,
        tmb=tmb,
        hrd=_draw_hrd(rng, tumour_type, events, params),
    )


def _draw_braf_change(
    rng: np.random.Generator,
    tumour_type: str,
    events: set[EventKey],
    params: DrupParams,
) -> str | None:
    if ("BRAF", "mutation") not in events:
        return None
    v600 = params.braf_v600_fraction.get(tumour_type, params.braf_v600_fraction_default)
    if rng.random() < v600:
        return "V600E"
    return _BRAF_NON_V600[int(rng.integers(len(_BRAF_NON_V600)))]


def _draw_fusions(
    rng: np.random.Generator, tumour_type: str, params: DrupParams
) -> tuple[Alteration, ...]:
    fusions = []
    for family, partners in _FUSION_PARTNERS.items():
        prevalence = params.fusion_prevalence[family]
        if rng.random() < prevalence.get(tumour_type, prevalence.get("default", 0.0)):
            gene, partner = partners[int(rng.integers(len(partners)))]
            fusions.append(Alteration(kind="fusion", gene=gene, partner_gene=partner))
    return tuple(fusions)


def _draw_hrd(
    rng: np.random.Generator,
    tumour_type: str,
    events: set[EventKey],
    params: DrupParams,
) -> float:
    if any(key in events for key in _BRCA_EVENTS):
        p_high = params.brca_hrd_high_fraction
    else:
        p_high = params.hrd_high_prevalence.get(
            tumour_type, params.hrd_high_prevalence_default
        )
    cut = params.hrd_high_score
    score = params.hrd_sd * float(rng.standard_normal())
    if rng.random() < p_high:
        return round(max(cut, params.hrd_high_mean + score), 1)
    return round(min(max(params.hrd_low_mean + score, 0.0), cut - 0.1), 1)


def _biomarkers_of(candidate: _Candidate, params: DrupParams) -> list[str]:
    """The biomarkers (keys of `BIOMARKER_DRUGS`) a screened patient carries."""
    found = []
    if candidate.msi:
        found.append("MSI-high")
    elif candidate.tmb >= params.tmb_high_mut_per_mb:
        found.append("TMB-high")
    if candidate.braf_change is not None:
        found.append("BRAF V600" if candidate.braf_v600 else "BRAF non-V600")
    brca = any(key in candidate.events for key in _BRCA_EVENTS)
    if brca or candidate.hrd >= params.hrd_high_score:
        found.append("BRCA1/2 or HRD")
    found += [
        name
        for name, keys in _EVENT_BIOMARKERS.items()
        if any(key in candidate.events for key in keys)
    ]
    return found
