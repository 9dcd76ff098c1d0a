"""What one patient's report says: the model, the profile, the ranking and the
explanations of its first drugs, gathered once so rendering only formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from features import Profile
from models import (
    BundleMetadata,
    DrugScore,
    PatientExplanation,
    ResponderModel,
    explain_patient,
    rank_drugs,
)

TOP = 15  # drugs in the ranked table
EXPLAINED = 3  # drugs, from the top, each with its own section and waterfall
WATERFALL_STEPS = 10  # features shown as their own waterfall bar


@dataclass(frozen=True)
class PatientReport:
    """Everything the report page shows for one profile.

    ``ranked`` is the first drugs of the evidence ranking (the order a DRUP
    tumour board uses, README "How drugs are ranked"), ``n_drugs`` how many the
    model scored in all, ``explained`` the explanations of the first drugs of
    ``ranked``. ``read_from`` names where the profile came from (file names, or
    the HTTP request) and ``ignored`` what those sources held that the profile
    leaves out.
    """

    profile: Profile
    model_version: str
    metadata: BundleMetadata
    ranked: tuple[DrugScore, ...]
    n_drugs: int
    explained: tuple[PatientExplanation, ...]
    generated_at: datetime
    read_from: tuple[str, ...]
    ignored: tuple[str, ...]


def build_report(
    model: ResponderModel,
    profile: Profile,
    *,
    model_version: str,
    generated_at: datetime,
    top: int = TOP,
    explained: int = EXPLAINED,
    read_from: Sequence[str] = (),
    ignored: Sequence[str] = (),
) -> PatientReport:
    """Rank every drug for ``profile`` and explain the first ``explained``.

    Parameters
    ----------
    model
        A loaded bundle.
    profile
        The tumour profile (never logged).
    model_version
        The bundle's registry version (or ``local``), printed on the page.
    generated_at
        When the report is made (the caller's clock, so tests can fix it).
    top
        Drugs in the ranked table (1 or more).
    explained
        Drugs from the top of the table given a waterfall and training counts.
    read_from, ignored
        Where the profile was read from, and what was left out while reading it.
    """
    if top < 1 or explained < 0:
        raise ValueError(
            f"top must be 1 or more and explained 0 or more; got top={top}, "
            f"explained={explained}"
        )
    # The table shows no per-drug SHAP features: the waterfalls below explain.
    ranking = rank_drugs(model, [profile], top_k=0, explain_top=0)[0]
    shown = tuple(ranking[:top])
    explanations = tuple(
        explain_patient(model, profile, score.drug, top_k=WATERFALL_STEPS)
        for score in shown[:explained]
    )
    return PatientReport(
        profile=profile,
        model_version=model_version,
        metadata=model.metadata,
        ranked=shown,
        n_drugs=len(ranking),
        explained=explanations,
        generated_at=generated_at,
        read_from=tuple(read_from),
        ignored=tuple(ignored),
    )
