"""Rows spread over a Dask cluster: feature matrices for XGBoost's own Dask
interface (training), and profiles to rank (scoring, by :func:`models.rank_drugs`
on each worker, so both paths give the same ranking).

Dask is imported inside the functions: the service and the local command line
never pay for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from features import Profile
from models._bundle import ResponderModel
from models._ranking import EXPLAIN_TOP, DrugScore, rank_drugs

if TYPE_CHECKING:
    import dask.array as da
    from distributed import Client

ROWS_PER_PARTITION = 20_000  # 43 MB of float32 a block at GDSC's 532 columns
PROFILES_PER_PARTITION = 1_000  # a block's rankings: about 1 s and 150 MB of objects


def partition_rows(
    client: Client, *arrays: np.ndarray, rows_per_partition: int | None = None
) -> list[da.Array]:
    """Dask arrays of ``arrays``' rows, in the same contiguous blocks for each.

    Block ``i`` is scattered to the ``i % n``-th of the cluster's ``n`` workers
    (sorted by address), so the rows are spread over the workers in a repeatable
    way. ``rows_per_partition=None`` makes one block per worker.
    """
    import dask.array as da

    workers = _workers(client)
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


def rank_drugs_on_dask(
    model: ResponderModel,
    profiles: Sequence[Profile],
    *,
    client: Client,
    top_k: int = 5,
    explain_top: int = EXPLAIN_TOP,
    rows_per_partition: int = PROFILES_PER_PARTITION,
) -> list[list[DrugScore]]:
    """:func:`models.rank_drugs` with the profiles in blocks spread over the
    cluster's workers, each holding one copy of the bundle; the rankings come
    back in submission order."""
    if not profiles:
        raise ValueError("no profiles to score")
    workers = _workers(client)
    n_blocks = max(len(workers), -(-len(profiles) // rows_per_partition))
    blocks = [
        [profiles[i] for i in block]
        for block in np.array_split(np.arange(len(profiles)), n_blocks)
        if len(block)
    ]
    remote = client.scatter(model, broadcast=True)
    options = {"top_k": top_k, "explain_top": explain_top}
    futures = [
        client.submit(
            rank_drugs, remote, block, **options, workers=[worker], pure=False
        )
        for block, worker in zip(blocks, itertools.cycle(workers))
    ]
    return [ranking for part in client.gather(futures) for ranking in part]


def _workers(client: Client) -> list[str]:
    """The cluster's worker addresses, sorted; refused when there are none."""
    workers = sorted(client.nthreads())
    if not workers:
        raise ValueError(
            "the Dask cluster has no workers: start some with `dask worker`"
        )
    return workers
