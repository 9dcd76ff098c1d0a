"""Failures inside a request: logged by where they happened, never by what they said."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from bentoml.exceptions import BentoMLException, InternalServerError

logger = logging.getLogger(__name__)


@contextmanager
def masked_failures(action: str, *, request_id: str) -> Iterator[None]:
    """Turn an unexpected exception into a 500 that carries only the request id.

    The exception's message may quote the profile, so only its type and traceback
    frames are logged. BentoML's own HTTP errors (a 404, say) pass through.
    """
    try:
        yield
    except BentoMLException:
        raise
    except Exception as exc:
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.error(
            "request_id=%s %s failed with %s at\n%s",
            request_id,
            action,
            type(exc).__name__,
            frames,
        )
        message = f"{action} failed (request_id={request_id})"
        raise InternalServerError(message) from None
