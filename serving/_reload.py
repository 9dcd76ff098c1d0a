"""Follow a registry alias: load and verify a new bundle beside the old one, then swap.

The bundle in service lives in one attribute, :attr:`ModelSlot.served`.  Request
handlers read it once when they start, so a swap (one assignment) never changes the
model under a request in flight: that request finishes on the bundle it started
with, and the old bundle is freed when its last request ends.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from features import Profile
from models import (
    BundleIntegrityError,
    ResponderModel,
    rank_drugs,
    redact_credentials,
)

logger = logging.getLogger(__name__)

# Any tumour type will do: warming up builds the request-time arrays and runs
# the trees and SHAP once.
_WARM_UP_PROFILE = Profile(tumour_type="warm-up")


class Observer(Protocol):
    """Told what a load of the bundle did (see :class:`ModelSlot`)."""

    def __call__(
        self, outcome: str, *, previous: str | None, version: str | None
    ) -> None: ...


@dataclass(frozen=True)
class ServedBundle:
    """A verified, warmed-up bundle and the registry version it came from."""

    model: ResponderModel
    version: str
    loaded_at: datetime


@dataclass(frozen=True)
class ReloadFailure:
    """Why the alias' version is not in service (the previous bundle still is)."""

    version: str | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class ReloadResult:
    """What one check of the alias did.

    ``error`` is None exactly when the version in service is the alias' version
    after the check.
    """

    previous_version: str | None
    version: str | None
    changed: bool
    seconds: float
    error: str | None


class ModelSlot:
    """The bundle in service, and how it follows the registry alias.

    Parameters
    ----------
    load
        Download (if needed), verify and load the bundle the alias points at now;
        returns it with its version.
    lookup
        Ask the registry which version the alias points at now; None when the
        service serves a local bundle, which has nothing to follow.
    observe
        Told of every load and failed load: the outcome (``loaded`` first,
        ``swapped`` later; ``refused`` when verification failed, ``failed``
        otherwise), the version served before and the version served or tried.
    """

    def __init__(
        self,
        load: Callable[[], tuple[ResponderModel, str]],
        *,
        lookup: Callable[[], str] | None = None,
        observe: Observer | None = None,
    ) -> None:
        self._observe = observe
        self.served: ServedBundle | None = None
        self.last_failure: ReloadFailure | None = None
        self._load = load
        self._lookup = lookup
        # One load at a time: a periodic check and the endpoint never load twice.
        self._lock = threading.Lock()
        self._refused: str | None = None
        self._stop = threading.Event()

    @property
    def follows_alias(self) -> bool:
        """Whether there is a registry alias to follow (not a local bundle)."""
        return self._lookup is not None

    def load_first(self) -> None:
        """Load the first bundle to serve; a failure is recorded, not raised."""
        with self._lock:
            self._swap_in(None)

    def reload_now(self, *, periodic: bool = False) -> ReloadResult:
        """Serve the version the alias points at now, if it is not served already.

        The new bundle is loaded, verified and warmed up beside the old one, then
        swapped in; if any of that fails, the old one keeps serving and the failure
        is recorded in :attr:`last_failure`.  A periodic check skips a version that
        already failed verification (its artifacts will not change) until the alias
        moves; an explicit call always tries.
        """
        started = time.perf_counter()
        with self._lock:
            previous = self.served
            error = self._follow(periodic=periodic)
            current = self.served
        return ReloadResult(
            previous_version=previous.version if previous else None,
            version=current.version if current else None,
            changed=current is not previous,
            seconds=time.perf_counter() - started,
            error=error,
        )

    def _follow(self, *, periodic: bool) -> str | None:
        if self._lookup is None:
            return (
                "the service serves a local bundle (REDISCOVER_BUNDLE) or the one "
                "its Bento carries; only a registry alias can be reloaded"
            )
        try:
            target = self._lookup()
        except Exception as exc:
            return self._fail(None, "the registry lookup of the alias failed", exc)
        if self.served is not None and self.served.version == target:
            self.last_failure = None
            return None
        failure = self.last_failure
        if periodic and failure and failure.version == target == self._refused:
            return failure.reason
        return self._swap_in(target)

    def _swap_in(self, target: str | None) -> str | None:
        previous = self.served
        started = time.perf_counter()
        try:
            model, version = self._load()
            rank_drugs(model, [_WARM_UP_PROFILE], top_k=1)
        except BundleIntegrityError as exc:
            self._refused = target
            reason = f"{_bundle(target)} failed verification: {exc}"
            return self._fail(target, reason, outcome="refused")
        except Exception as exc:
            return self._fail(target, f"{_bundle(target)} failed to load", exc)
        self.served = ServedBundle(model, version, datetime.now(UTC))
        self.last_failure, self._refused = None, None
        old_version = None if previous is None else previous.version
        self._tell("loaded" if previous is None else "swapped", old_version, version)
        seconds = time.perf_counter() - started
        if previous is None:
            logger.info(
                "model version %s (%d drugs) ready in %.1f s",
                version,
                len(model.drugs),
                seconds,
            )
        else:
            logger.info(
                "model version %s -> %s swapped in %.1f s",
                previous.version,
                version,
                seconds,
            )
        return None

    def _tell(self, outcome: str, previous: str | None, version: str | None) -> None:
        if self._observe is not None:
            self._observe(outcome, previous=previous, version=version)

    def _fail(
        self,
        target: str | None,
        reason: str,
        exc: Exception | None = None,
        *,
        outcome: str = "failed",
    ) -> str:
        if exc is None:
            logger.error("%s", reason)
        else:
            # Other libraries' messages may quote URIs: they go to the log only,
            # with any credentials blanked, never to clients.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            message = redact_credentials(str(exc))
            name = type(exc).__name__
            logger.error("%s: %s: %s at\n%s", reason, name, message, frames)
            reason = f"{reason} ({name}); see the server log"
        if self.served is not None:
            logger.error("still serving model version %s", self.served.version)
        self.last_failure = ReloadFailure(target, reason, datetime.now(UTC))
        served = None if self.served is None else self.served.version
        self._tell(outcome, served, target)
        return reason

    def start_watching(self, interval_s: float) -> threading.Thread | None:
        """Check the alias every ``interval_s`` seconds in a daemon thread.

        Returns the thread, or None when there is nothing to watch (a local bundle
        or an interval of 0).  The thread ends after :meth:`stop_watching`, or once
        this slot is garbage collected.
        """
        if self._lookup is None or interval_s <= 0:
            return None
        thread = threading.Thread(
            target=_watch,
            args=(weakref.ref(self), self._stop, interval_s),
            name="rediscover-alias-watcher",
            daemon=True,
        )
        thread.start()
        return thread

    def stop_watching(self) -> None:
        """End the periodic checks (the current one, if any, completes)."""
        self._stop.set()


def _bundle(version: str | None) -> str:
    return "model bundle" if version is None else f"model version {version}"


def _watch(
    slot_ref: weakref.ref[ModelSlot], stop: threading.Event, interval_s: float
) -> None:
    # A weak reference: a service that is dropped (a test, an ASGI app restarted)
    # takes its watcher with it instead of polling the registry forever.
    while not stop.wait(interval_s):
        slot = slot_ref()
        if slot is None:
            return
        slot.reload_now(periodic=True)
        del slot
