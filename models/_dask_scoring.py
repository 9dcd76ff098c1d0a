"""Score many profiles on a Dask cluster with XGBoost's own Dask interface.

Only the booster calls move to the cluster: the design matrix is built here, split
into row blocks spread over the workers, and each booster predicts its blocks where
they lie. Calibration, conformal sets and ranking then run exactly as in
:func:`models.rank_drugs`, so both paths give the same ranking.

Dask is imported inside the functions: the service and the local command line
never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from features import Profile, canonical_tumour_type
from models._bundle import ResponderModel
from models._ranking import DrugScore, rank_drugs

if TYPE_CHECKING:
    import dask.array as da
    from distributed import Client

ROWS_PER_PARTITION = 20_000  # 43 MB of float32 a block at GDSC's 532 columns


def partition_rows(
    client: Client, *arrays: np.ndarray, rows_per_partition: int | None = None
) -> list[da.Array]:
    """Dask arrays of ``arrays``' rows, in the same contiguous blocks for each.

    Block ``i`` is scattered to the ``i % n``-th of the cluster's ``n`` workers
    (sorted by address), so the rows are spread over the workers in a repeatable
    way. ``rows_per_partition=None`` makes one block per worker.
    """
    import dask.array as da

    workers = sorted(client.nthreads())
    if not workers:
        raise ValueError(
            "the Dask cluster has no workers: start some with `dask worker`"
        )
    n_rows = len(arrays[0])
    if n_rows == 0:
        raise ValueError("no rows to partition over the Dask workers")
    n_blocks = (
        len(workers)
        if rows_per_partition is None
        else max(len(workers), -(-n_rows // rows_per_partition))
    )
    blocks = [b for b in np.array_split(np.arange(n_rows), n_blocks) if len(b)]
    pieces: list[list[da.Array]] = [[] for _ in arrays]
    for i, block in enumerate(blocks):
        worker = [workers[i % len(workers)]]
        for array, parts in zip(arrays, pieces, strict=True):
            part = array[block[0] : block[-1] + 1]
            # hash=False: equal blocks of different arrays must not share one key.
            future = client.scatter(part, workers=worker, hash=False)
            parts.append(da.from_delayed(future, shape=part.shape, dtype=part.dtype))
    return [da.concatenate(parts) for parts in pieces]


def explain_on_dask(
    model: ResponderModel,
    profiles: Sequence[Profile],
    design: dict[str, np.ndarray],
    *,
    client: Client,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> dict[str, np.ndarray]:
    """:meth:`ResponderModel.explain` by ``xgboost.dask.predict``: TreeSHAP
    contributions per drug, shape (n_profiles, n_features + 1), base value last
    (each drug's tumour-type offset included, as in the local path)."""
    from xgboost import dask as dxgb

    types = [canonical_tumour_type(p.tumour_type) for p in profiles]
    lazy, out = {}, {}
    for drug, X in design.items():
        fixed = model.fixed_margin(profiles, drug, types)
        if fixed is not None:
            out[drug] = fixed[:, None]
            continue
        margin = model.offsets.drugs[drug].margin(types)
        booster = model.booster(drug)
        features, offsets = partition_rows(
            client, X, margin, rows_per_partition=rows_per_partition
        )
        matrix = dxgb.DaskDMatrix(client, features, base_margin=offsets, missing=np.nan)
        lazy[drug] = dxgb.predict(
            client, booster, matrix, pred_contribs=True, validate_features=False
        )
    # One graph for all drugs: the workers predict every block in parallel.
    computed = client.gather(client.compute(list(lazy.values())))
    return {**out, **dict(zip(lazy, computed, strict=True))}


def rank_drugs_on_dask(
    model: ResponderModel,
    profiles: Sequence[Profile],
    *,
    client: Client,
    top_k: int = 5,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> list[list[DrugScore]]:
    """:func:`models.rank_drugs` with the booster calls on the Dask cluster."""
    on_dask = _DaskExplained(model, client, rows_per_partition=rows_per_partition)
    return rank_drugs(on_dask, profiles, top_k=top_k)


class _DaskExplained(ResponderModel):
    """The same bundle, whose SHAP values come from the cluster."""

    def __init__(
        self, model: ResponderModel, client: Client, *, rows_per_partition: int
    ) -> None:
        super().__init__(
            model.vectorizer, model.boosters, metadata=model.metadata,
            knowledge=model.knowledge, uncertainty=model.uncertainty,
            offsets=model.offsets, pooled=model.pooled,
            explanations=model.explanations,
        )  # fmt: skip
        self._client = client
        self._rows_per_partition = rows_per_partition

    def explain(
        self,
        profiles: Sequence[Profile],
        *,
        design: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        return explain_on_dask(
            self,
            profiles,
            self.design(profiles) if design is None else design,
            client=self._client,
            rows_per_partition=self._rows_per_partition,
        )
