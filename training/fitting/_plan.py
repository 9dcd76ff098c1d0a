"""What a training run fits, and how: the arguments every fitting step shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

from features import DrugKnowledge
from training.config import Config
from training.fitting._boosters import Trainer, fit_booster


@dataclass(frozen=True)
class FitPlan:
    """The config, the drugs to fit, the drug knowledge (target-match flags and
    biomarker baselines) and the trainer of every booster (:func:`fit_booster`
    here, or :class:`training.fitting.DaskTrainer` on a cluster).

    Cross-validation, the final fit and the evaluation take one plan, so the
    choices of a run travel together and cannot disagree between its steps.
    """

    config: Config
    _: KW_ONLY
    drugs: Sequence[str]
    knowledge: DrugKnowledge
    trainer: Trainer = fit_booster
