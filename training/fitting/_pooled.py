"""The pooled model: one XGBoost over all (profile, drug) episodes.

Drugs with a handful of patients borrow strength from the rest through shared
profile features, a drug-identity column and target-match flags.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from features import DrugKnowledge, Profile, encode_pairs
from training.config import TrainingConfig, XGBoostConfig
from training.fitting._boosters import Episodes, LabelledRows, Trainer, fit_booster


def pair_block(
    profiles: Sequence[Profile],
    rows: np.ndarray,
    drugs: Sequence[str],
    *,
    vocabulary: Sequence[str],
    knowledge: DrugKnowledge,
) -> np.ndarray:
    """Drug identity and target-match columns for each episode (profile-free part)."""
    empty = np.zeros((len(rows), 0), dtype=np.float32)
    paired = [profiles[r] for r in rows]
    return encode_pairs(
        empty, paired, list(drugs), drug_vocabulary=vocabulary, knowledge=knowledge
    )


def cross_validate_pooled(
    matrices: Sequence[np.ndarray],
    episodes: Episodes,
    *,
    block: np.ndarray,
    margins: Sequence[np.ndarray],
    settings: TrainingConfig,
    params: XGBoostConfig,
    trainer: Trainer = fit_booster,
) -> np.ndarray:
    """Out-of-fold probabilities of the pooled model, one per episode."""
    oof = np.full(len(episodes.y), np.nan)
    for fold, X in enumerate(tqdm(matrices, desc="pooled CV", unit="fold")):
        held_out = episodes.fold == fold
        if not held_out.any():
            continue
        rows = LabelledRows(
            np.hstack([X[episodes.rows], block]), episodes.y, margins[fold]
        )
        booster = trainer(rows.take(~held_out), params=params, seed=settings.seed)
        oof[held_out] = booster.predict(rows.take(held_out).matrix())
    return oof
