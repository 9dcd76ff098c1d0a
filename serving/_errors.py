"""Failures inside a request: logged by where they happened, never by what they said."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from bentoml.exceptions import BentoMLException, InternalServerError
from pydantic import ValidationError

from serving._boundary import current_request_id

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


class _WithoutMessages(logging.Filter):
    """Keeps a framework's exception log lines free of what the request said.

    BentoML logs every exception an API raises with its full traceback, and a
    validation error or a 404's message quotes the request (an unknown JSON key, an
    unknown drug). A client error is dropped here: the request boundary logs it as
    one line, and so is 503 (the bundle is not loaded yet, or was refused: /model
    says why). Any other exception keeps its type and frames, not its message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        exc = record.exc_info[1]
        if _is_expected(exc):
            return False
        frames = "".join(traceback.format_tb(exc.__traceback__))
        record.msg = "request_id=%s unhandled %s at\n%s"
        record.args = (current_request_id(), type(exc).__name__, frames)
        record.exc_info = None
        record.exc_text = None
        return True


def _is_expected(exc: BaseException) -> bool:
    if isinstance(exc, ValidationError):
        return True
    if isinstance(exc, BentoMLException):
        return exc.error_code.value < 500 or exc.error_code.value == 503
    return False


# The loggers BentoML and uvicorn report a request's exceptions on.
_FRAMEWORK_LOGGERS = ("bentoml._internal.server.http_app", "uvicorn.error")


def mask_framework_exception_logs() -> None:
    """Install :class:`_WithoutMessages` on BentoML's and uvicorn's request loggers."""
    for name in _FRAMEWORK_LOGGERS:
        framework_logger = logging.getLogger(name)
        if not any(isinstance(f, _WithoutMessages) for f in framework_logger.filters):
            framework_logger.addFilter(_WithoutMessages())
