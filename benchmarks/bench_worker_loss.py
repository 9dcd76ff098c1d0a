"""What a worker killed under load costs: requests lost, and time to recover.

Usage (any bundle folder; the server runs on loopback with its own BentoML home)::

    .venv/bin/python benchmarks/bench_worker_loss.py --bundle PATH

Serves the bundle with ``bentoml serve`` (``--workers``, default 2), keeps
``--clients`` threads (default 16, one keep-alive client each) sending ``/score``
back to back, kills one worker with SIGKILL after ``--before`` seconds and keeps
the load on for ``--after`` seconds more.  BentoML's process manager starts a
replacement; it serves once its bundle is loaded (``REDISCOVER_STARTUP_WAIT``,
``--startup-wait`` here).  With ``--fresh`` every request opens a new connection,
as clients without keep-alive do.  Reports every answer that was not a 200 (no
answer at all: the connection died with the worker), the killed worker's open
connections at the kill (at most one request in flight on each), when the
replacement process appeared and when it logged its bundle ready, and the
throughput before, while and after.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil  # BentoML's dependency
from _processes import serve_command, spawned

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER = "_bentoml_impl.worker.service"
READY = "drugs) ready in"  # serving._reload's line once a worker's bundle is in
PROFILES = [
    {"tumour_type": "melanoma",
     "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}]},
    {"tumour_type": "chronic myeloid leukaemia",
     "alterations": [{"kind": "fusion", "gene": "BCR", "partner_gene": "ABL1"}]},
    {"tumour_type": "colorectal", "msi_high": True, "tmb_mut_per_mb": 40.0},
]  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """One request: when it was sent and answered (``perf_counter``), and how it
    ended (an HTTP status, or the transport error's name)."""

    sent: float
    done: float
    outcome: str


@contextmanager
def started_server(
    args: argparse.Namespace, home: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``bentoml serve`` of the bundle, yielded once every worker has its bundle."""
    env = {
        **os.environ,
        "REDISCOVER_BUNDLE": str(args.bundle),
        "REDISCOVER_WORKERS": str(args.workers),
        "REDISCOVER_STARTUP_WAIT": str(args.startup_wait),
        "BENTOML_HOME": str(home),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = serve_command("serving.service:Rediscover", args.port)
    with spawned(command, env=env, cwd=REPO_ROOT, log_path=log_path) as process:
        deadline = time.monotonic() + 300
        while len(workers(process)) < args.workers or (
            ready_lines(log_path) < args.workers
        ):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"server not ready:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process


def workers(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The server's worker processes."""
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if WORKER in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # gone, or a zombie not reaped yet: not a worker
            continue
    return found


def ready_lines(log_path: Path) -> int:
    """How many workers have logged their bundle ready so far."""
    return log_path.read_text(errors="replace").count(READY)


def load(
    url: str, clients: int, stop_load: threading.Event, *, fresh: bool
) -> tuple[list[threading.Thread], list[list[Answer]]]:
    """Start ``clients`` threads sending ``/score`` until ``stop_load``, each on a
    keep-alive connection, or on a new connection per request when ``fresh``;
    their threads, and the answers, which fill the lists as they come."""
    answers: list[list[Answer]] = [[] for _ in range(clients)]
    headers = {"Connection": "close"} if fresh else {}

    def work(index: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
            i = index
            while not stop_load.is_set():
                body = {"profile": PROFILES[i % len(PROFILES)]}
                sent = time.perf_counter()
                try:
                    outcome = str(client.post("/score", json=body).status_code)
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                answers[index].append(Answer(sent, time.perf_counter(), outcome))
                i += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    return threads, answers


def _since(start: float, end: float | None) -> float | None:
    return None if end is None else end - start


def throughput(answers: list[Answer], start: float, end: float) -> float:
    """200s answered per second between ``start`` and ``end``."""
    done = [a for a in answers if a.outcome == "200" and start <= a.done < end]
    return len(done) / (end - start) if end > start else 0.0


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Serve, load, kill one worker, recover; the figures as a dict."""
    log_path = tmp / "server.log"
    with started_server(args, tmp / "bentoml", log_path) as process:
        victim = workers(process)[0]
        stop_load = threading.Event()
        url = f"http://127.0.0.1:{args.port}"
        threads, answers = load(url, args.clients, stop_load, fresh=args.fresh)
        began = time.perf_counter()
        time.sleep(args.before)
        connections = sum(
            c.status == psutil.CONN_ESTABLISHED for c in victim.net_connections()
        )
        killed = time.perf_counter()
        victim.send_signal(signal.SIGKILL)
        respawned = ready = None
        before = {p.pid for p in workers(process)} | {victim.pid}
        readies = ready_lines(log_path)
        while time.perf_counter() - killed < 120 and ready is None:
            if respawned is None and {p.pid for p in workers(process)} - before:
                respawned = time.perf_counter()
            if ready_lines(log_path) > readies:
                ready = time.perf_counter()
            time.sleep(0.05)
        time.sleep(args.after)
        stop_load.set()
        ended = time.perf_counter()
        for thread in threads:  # their last requests answered before the server stops
            thread.join(timeout=60)
    flat = sorted((a for client in answers for a in client), key=lambda a: a.sent)
    failed = [a for a in flat if a.outcome != "200"]
    recovered = ready or ended
    return {
        "workers": args.workers, "clients": args.clients, "fresh": args.fresh,
        "startup_wait_s": args.startup_wait,
        "requests": len(flat),
        "outcomes": dict(Counter(a.outcome for a in flat)),
        "failed": len(failed),
        "failed_sent_before_kill": sum(a.sent < killed for a in failed),
        "failures_after_replacement_ready": sum(a.done > recovered for a in failed),
        "last_failure_after_kill_s": max((a.done - killed for a in failed),
                                         default=None),
        "killed_worker_connections": connections,
        "replacement_process_after_s": _since(killed, respawned),
        "replacement_ready_after_s": _since(killed, ready),
        "throughput_before": throughput(flat, began + 1, killed),
        "throughput_until_ready": throughput(flat, killed, recovered),
        "throughput_after_ready": throughput(flat, recovered, ended),
        "load_average_1min": os.getloadavg()[0],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True, help="bundle folder")
    parser.add_argument("--workers", type=int, default=2, help="default: 2")
    parser.add_argument("--clients", type=int, default=16, help="default: 16")
    parser.add_argument("--port", type=int, default=3601, help="default: 3601")
    parser.add_argument(
        "--before", type=float, default=8, help="seconds of load before the kill"
    )
    parser.add_argument(
        "--after", type=float, default=8, help="seconds of load after recovery"
    )
    parser.add_argument(
        "--startup-wait", type=float, default=300,
        help="REDISCOVER_STARTUP_WAIT of the server (0: serve while loading)",
    )  # fmt: skip
    parser.add_argument(
        "--fresh", action="store_true",
        help="a new connection per request (Connection: close), so the kernel "
        "hands connections to whichever worker accepts, the replacement included",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="rediscover-worker-loss-") as tmp:
        figures = measure(args, Path(tmp))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
