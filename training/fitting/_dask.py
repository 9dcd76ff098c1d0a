"""Fit boosters on a Dask cluster with XGBoost's own Dask interface.

:class:`DaskTrainer` is a :class:`training.fitting.Trainer`: the CV loop, the final
fit and the pooled model call it exactly where they would call
:func:`training.fitting.fit_booster`, with the same parameters and seed.

Dask is imported inside the call: the local path never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xgboost as xgb

from models import partition_rows
from training.config import XGBoostConfig
from training.fitting._boosters import LabelledRows, booster_params

if TYPE_CHECKING:
    from distributed import Client


@dataclass(frozen=True)
class DaskTrainer:
    """Fits each booster with ``xgboost.dask.train`` on a ``DaskDMatrix`` whose
    rows are split into one block per worker.

    The trees are the local fit's where XGBoost's distributed algorithm is the
    local one: with ``subsample: 1`` probabilities agree to float precision. With
    ``subsample < 1`` each worker draws its own rows, so the boosters differ by
    sampling noise, about as much as a different seed does (measured on GDSC and
    in ``tests/training/test_dask.py``). Fits submitted from several threads run one
    after another: XGBoost locks the workers for each training.
    """

    client: Client

    def __call__(
        self, rows: LabelledRows, *, params: XGBoostConfig, seed: int
    ) -> xgb.Booster:
        from xgboost import dask as dxgb

        features, labels, margin = partition_rows(
            self.client, rows.X, rows.y, rows.base_margin
        )
        matrix = dxgb.DaskDMatrix(
            self.client, features, labels, base_margin=margin, missing=np.nan
        )
        settings = booster_params(params, seed=seed)
        # Each worker trains with its own thread count (`dask worker --nthreads`).
        del settings["nthread"]
        result = dxgb.train(
            self.client,
            settings,
            matrix,
            num_boost_round=params.n_estimators,
            verbose_eval=False,
        )
        booster: xgb.Booster = result["booster"]
        return booster
