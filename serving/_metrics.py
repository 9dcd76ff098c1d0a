"""The service's own Prometheus figures, served on ``/metrics`` beside BentoML's.

=========================================  =========================================
``rediscover_requests_total``               requests answered, by ``route`` (a known
                                            path, else ``other``), ``method`` and
                                            ``status``
``rediscover_request_duration_seconds``     time to answer, by ``route`` (histogram)
``rediscover_model_served``                 workers serving each ``model_version``
``rediscover_scored_results_total``         drug scores returned by ``/score`` and
                                            ``/score_batch``, by ``in_domain``
                                            (``"true"``/``"false"``)
``rediscover_model_reloads_total``          checks of the alias that changed or failed,
                                            by ``outcome``: ``swapped``, ``refused``
                                            (failed verification), ``failed``
=========================================  =========================================

A route label is one of the service's own paths, never the path a client sent.
Under ``bentoml serve`` every worker writes to BentoML's multiprocess directory and
``/metrics`` sums them; counters only grow, so a share is a ratio of rates, e.g.
``rate(rediscover_scored_results_total{in_domain="false"}[5m])`` over the sum.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

# Request latencies from a /livez (~1 ms) to a 1,000-profile batch (tens of s).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True)
class ServiceMetrics:
    """The collectors behind the table in the module docstring."""

    requests: Counter
    latency: Histogram
    served: Gauge
    scored: Counter
    reloads: Counter

    def observe_request(
        self, route: str, method: str, status: int, seconds: float
    ) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def observe_scores(self, *, in_domain: int, out_of_domain: int) -> None:
        """Count drug scores returned, in and out of the training domain."""
        self.scored.labels(in_domain="true").inc(in_domain)
        self.scored.labels(in_domain="false").inc(out_of_domain)

    def observe_model(
        self, outcome: str, *, previous: str | None, version: str | None
    ) -> None:
        """Record a load (``loaded``, ``swapped``) or a failed one (``refused``,
        ``failed``) of the bundle this worker serves."""
        if outcome in ("loaded", "swapped") and version is not None:
            if previous is not None:
                self.served.labels(model_version=previous).set(0)
            self.served.labels(model_version=version).set(1)
        if outcome != "loaded":
            self.reloads.labels(outcome=outcome).inc()


@functools.cache
def service_metrics() -> ServiceMetrics:
    """This process's collectors, created on first use.

    Prometheus collectors belong to a process (a second registration of the same
    name fails), so every service instance in it shares one set. They are made
    at first use, not at import: ``prometheus_client`` picks its multiprocess mode
    when imported, and a BentoML worker sets ``PROMETHEUS_MULTIPROC_DIR`` only
    after it has imported the service.
    """
    import prometheus_client as prom

    _forget_dead_workers()
    return ServiceMetrics(
        requests=prom.Counter(
            "rediscover_requests",
            "Requests answered, by route, method and status.",
            ["route", "method", "status"],
        ),
        latency=prom.Histogram(
            "rediscover_request_duration_seconds",
            "Seconds to answer a request, by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
        ),
        served=prom.Gauge(
            "rediscover_model_served",
            "Workers serving each model version (1 per worker serving it).",
            ["model_version"],
            multiprocess_mode="livesum",
        ),
        scored=prom.Counter(
            "rediscover_scored_results",
            "Drug scores returned by /score and /score_batch, by in_domain.",
            ["in_domain"],
        ),
        reloads=prom.Counter(
            "rediscover_model_reloads",
            "Alias checks that swapped in a new version or failed, by outcome.",
            ["outcome"],
        ),
    )


def _forget_dead_workers() -> None:
    """Drop the per-worker gauge files of workers that are gone.

    BentoML removes a worker's files when it exits cleanly; a killed worker's
    stay, and ``rediscover_model_served`` would count it forever. A worker that
    starts, the killed one's replacement included, removes them.
    """
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    from prometheus_client import multiprocess

    for path in Path(folder).glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
