"""Textbook profiles through the served ranking: where the expected drugs land.

The panel (``panel.yaml`` beside this module) holds public knowledge with a
citation per row: BRAF V600E melanoma should put BRAF/MEK inhibitors near the top,
BCR-ABL1 chronic myeloid leukaemia ABL inhibitors, and so on. It is a check, run
on a trained bundle, and never used to choose hyper-parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from features import Profile
from models import RANK_BY, RankBy, ResponderModel, rank_drugs

PANEL_FILE = Path(__file__).with_name("panel.yaml")
TOP = 3  # an expected drug within the first TOP passes the row


class PanelRow(BaseModel):
    """One textbook profile and the drug class it should rank near the top."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    profile: Profile
    drug_class: str
    expected: tuple[str, ...] = Field(min_length=1)
    citation: str = Field(min_length=1)
    population: Literal["any", "patient"]


def load_panel(path: Path = PANEL_FILE) -> list[PanelRow]:
    """The panel's rows, validated (a bad row names its position and field)."""
    rows = yaml.safe_load(path.read_text())
    return [PanelRow.model_validate(row) for row in rows]


def run_panel(
    model: ResponderModel,
    rows: Sequence[PanelRow],
    *,
    rank_by: Sequence[RankBy] = RANK_BY,
) -> pd.DataFrame:
    """One row per panel row and ranking rule: the best rank of an expected drug
    the bundle scores, the top drugs, and whether the row passed (an expected
    drug within the first `TOP`). Rows the bundle cannot answer (no expected
    drug scored, or a patient-only row on a cell-line bundle) are marked
    ``applicable`` False."""
    records = []
    for row in rows:
        scored = [d for d in row.expected if d in model.metadata.drugs]
        applicable = bool(scored) and (
            row.population == "any" or model.metadata.population == "patient"
        )
        for rule in rank_by:
            ranked = rank_drugs(model, [row.profile], top_k=0, rank_by=rule)[0]
            best = min((s.rank for s in ranked if s.drug in scored), default=None)
            records.append(
                {
                    "profile": row.name,
                    "drug_class": row.drug_class,
                    "rank_by": rule,
                    "applicable": applicable,
                    "best_rank": best,
                    "n_drugs": len(ranked),
                    "passed": applicable and best is not None and best <= TOP,
                    "top": ", ".join(s.drug for s in ranked[:TOP]),
                    "citation": row.citation,
                }
            )
    return pd.DataFrame(records)
