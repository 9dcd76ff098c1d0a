"""A batch scored in chunks that yield: never a long hold on the worker.

``POST /score_batch`` may carry a thousand profiles, seconds of work. Done in one
call it would hold the worker's scoring thread, and its serialisation the event
loop, while a single ``/score`` waits behind it. Here each chunk of profiles is
ranked and turned into JSON in the worker's batch thread, one chunk per turn; the
event loop runs between chunks, and a cancelled request (timed out, or its
client gone) starts no further chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import anyio
from pydantic import BaseModel

from features import Profile

# Drug scores ranked per chunk: ~0.1-0.3 s of work on a 2-core machine for the
# 248-drug GDSC bundle (16 profiles), so a cancellation waits at most that long.
DRUG_SCORES_PER_CHUNK = 4096


def chunk_size(n_drugs: int) -> int:
    """Profiles per chunk for a model scoring ``n_drugs`` drugs."""
    return max(1, DRUG_SCORES_PER_CHUNK // max(1, n_drugs))


async def rank_in_chunks(
    rank_chunk: Callable[[Sequence[Profile]], list[bytes]],
    profiles: Sequence[Profile],
    *,
    chunk: int,
    limiter: anyio.CapacityLimiter,
) -> list[bytes]:
    """Each profile's ranking as JSON, ``chunk`` profiles per call of ``rank_chunk``
    in a thread of ``limiter``; cancelling the caller stops after the chunk that
    is running."""
    rankings: list[bytes] = []
    for start in range(0, len(profiles), chunk):
        part = profiles[start : start + chunk]
        rankings += await anyio.to_thread.run_sync(rank_chunk, part, limiter=limiter)
    return rankings


def batch_body(header: BaseModel, rankings: Sequence[bytes]) -> bytes:
    """The response JSON: ``header`` (the response model with empty ``results``)
    with each profile's ranking spliced into its ``results``."""
    empty = header.model_dump_json().encode()
    tail = b'"results":[]}'
    if not empty.endswith(tail):  # the splice needs `results` as the last field
        raise ValueError(f"{type(header).__name__} must end with its results field")
    return b"".join((empty[: -len(b"]}")], b",".join(rankings), b"]}"))
