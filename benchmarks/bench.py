"""Speed of training, start-up, HTTP scoring and in-process scoring, each against
a floor measured in the same run.

Usage (``make bench``; under 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench.py --out bench.json
    .venv/bin/python benchmarks/bench.py --sections http,inprocess --bundle PATH --quick

Every figure is the median over repeats with its interquartile range, beside a
floor: the same kind of work with the part under test left out (interpreter start
for a command, reading the files for a bundle load, ``/livez`` on the same server
for a request, the flat forest's margins for a ranking).  Absolute times move
with the machine and its load; the ratio to the floor is what compares across
machines and commits.

The code measured is the code this interpreter imports (``models`` and the
checkout around it): run the script with another checkout's interpreter to
measure that checkout.  Sections:

training
    ``rediscover train`` on all GDSC drugs with CV in a throw-away tracking store,
    one run: wall time and peak memory; its bundle feeds the other sections unless
    ``--bundle`` is given.
startup
    ``rediscover --help``, ``ResponderModel.load`` and a cold ``bentoml serve`` to
    its first ``/score``.
http
    ``/score`` at concurrency 1, 8 and 32 and ``/score_batch`` of 10 profiles from
    a bounded load generator on loopback (threads, one keep-alive client each).
contention
    ``/score`` one request at a time while three large batches (``--batch-profiles``
    profiles, ``top_k=50``) run, against ``/score`` alone on the same server: the
    head-of-line scenario of issue 16.
inprocess
    ``rank_drugs`` for one profile (scores only, and with SHAP for the top 10
    drugs) and for 1,000 profiles.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from itertools import cycle, islice
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import yaml
from _processes import free_port, serve_command, spawned

import models
from features import Profile

# The checkout whose code is measured: the one this interpreter imports.
CODE_ROOT = Path(models.__file__).resolve().parents[1]
SECTIONS = ("training", "startup", "http", "contention", "inprocess")
SERVICE = "serving.service:Rediscover"
NO_FOREST = "floor: n/a (no flat forest in this version)"
CODE_FOLDERS = ("features", "models", "serving", "training", "rediscover")

# Textbook profiles, one per row of the README's "How drugs are ranked".
PROFILES: dict[str, dict[str, Any]] = {
    "BRAF V600E melanoma": {
        "tumour_type": "melanoma",
        "alterations": [
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}
        ],
    },
    "BCR-ABL1 chronic myeloid leukaemia": {
        "tumour_type": "chronic myeloid leukaemia",
        "alterations": [{"kind": "fusion", "gene": "BCR", "partner_gene": "ABL1"}],
    },
    "EGFR L858R lung adenocarcinoma": {
        "tumour_type": "lung adenocarcinoma",
        "alterations": [
            {"kind": "mutation", "gene": "EGFR", "protein_change": "L858R"}
        ],
    },
    "MSI-high colorectal": {
        "tumour_type": "colorectal",
        "msi_high": True,
        "tmb_mut_per_mb": 40.0,
    },
}


@dataclass(frozen=True)
class Repeats:
    """How many times each figure is measured."""

    commands: int  # short subprocesses: --help, python -c pass, --version
    loads: int  # bundle loads
    cold_starts: int  # server starts
    rounds: int  # HTTP rounds per concurrency level
    requests: dict[int, int]  # HTTP requests per round, by concurrency
    batch_requests: int  # /score_batch requests per round
    one_profile: int  # in-process rankings of one profile
    batch: int  # in-process rankings of 1,000 profiles
    contended: int  # /score requests sent while large batches run


# A table, in the field order above: full runs, and --quick ones.
FULL = Repeats(10, 10, 3, 4, {1: 50, 8: 100, 32: 100}, 15, 60, 5, 40)
QUICK = Repeats(3, 3, 1, 2, {1: 10, 8: 16, 32: 32}, 3, 10, 1, 10)


@dataclass(frozen=True)
class Figure:
    """One row of the table: a median with its spread, its floor and their ratio."""

    section: str
    figure: str
    unit: str  # "s", "MB", "req/s" or "count"
    values: list[float]
    floor: str | None = None  # what the floor is, or why there is none
    floor_values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor_values) if self.floor_values else None

    @property
    def ratio(self) -> float | None:
        floor = self.floor_median
        return self.median / floor if floor else None

    def as_dict(self) -> dict[str, Any]:
        """The row for the JSON output (values in ``unit``, spread as IQR)."""
        return {
            **asdict(self),
            "median": self.median,
            "iqr": quartiles(self.values),
            "floor_median": self.floor_median,
            "floor_iqr": quartiles(self.floor_values) if self.floor_values else None,
            "ratio": self.ratio,
            "n": len(self.values),
            "floor_n": len(self.floor_values),
        }


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The 25th and 75th percentiles (linear interpolation)."""
    low, high = np.percentile(values, [25, 75])
    return float(low), float(high)


def time_calls(
    call: Callable[[], object], *, repeats: int, warmup: int = 1
) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``call`` after ``warmup`` calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


# --- subprocesses and servers -------------------------------------------------


def run_child(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    expect: int = 0,
) -> tuple[float, float]:
    """Run ``command`` to its end (exit code ``expect``); its wall seconds and
    peak resident memory (MB).

    The memory is ``ru_maxrss`` of this child alone (``os.wait4``), its threads
    included; ``rediscover train`` fits with threads, not processes.
    """
    with (log or Path(os.devnull)).open("ab") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:  # Ctrl-C or SIGTERM: leave no child behind
            child.kill()
            child.wait()
            raise
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != expect:
        tail = log.read_text()[-3000:] if log else ""
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{tail}")
    return seconds, usage.ru_maxrss / 1024  # kB on Linux


def server_env(bundle: Path, home: Path, *, workers: int | None) -> dict[str, str]:
    """The environment of a ``bentoml serve`` of ``bundle`` with its own home."""
    env = {
        **os.environ,
        "REDISCOVER_BUNDLE": str(bundle),
        "BENTOML_HOME": str(home),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    if workers is not None:  # overrides @bentoml.service(workers=...)
        env["BENTOML_CONFIG_OPTIONS"] = f"services.rediscover.workers={workers}"
    return env


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, float]]:
    """Start ``bentoml serve`` on a free port; yield its URL and start time
    (``time.perf_counter``); stop its whole process group on exit."""
    port = free_port()
    started = time.perf_counter()
    command = serve_command(SERVICE, port)
    with spawned(command, env=env, cwd=CODE_ROOT, log_path=log_path):
        yield f"http://127.0.0.1:{port}", started


def poll_until_ok(
    url: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    timeout: float = 300,
    log_path: Path,
) -> float:
    """Ask ``path`` every 20 ms until it answers 200; the ``perf_counter`` then."""
    deadline = time.perf_counter() + timeout
    with httpx.Client(base_url=url, timeout=10) as client:
        while time.perf_counter() < deadline:
            if send(client, path, body):
                return time.perf_counter()
            time.sleep(0.02)
    raise SystemExit(
        f"no 200 from {path} in {timeout} s:\n{log_path.read_text()[-3000:]}"
    )


def send(client: httpx.Client, path: str, body: dict[str, Any] | None) -> bool:
    """One request (GET without a body, POST with one); true on 200."""
    try:
        if body is None:
            return client.get(path).status_code == 200
        return client.post(path, json=body).status_code == 200
    except httpx.HTTPError:
        return False


# --- training -------------------------------------------------------------------


def write_config(tmp: Path) -> Path:
    """The checkout's ``mlflow.yml`` with store, artifacts and caches in ``tmp``."""
    config = yaml.safe_load((CODE_ROOT / "mlflow.yml").read_text())
    config["tracking"]["uri"] = f"sqlite:///{tmp}/mlflow.db"
    config["tracking"]["artifact_root"] = str(tmp / "mlartifacts")
    config["data"]["cache_dir"] = str(tmp / "data-cache")
    config["data"]["shipped_dir"] = str(CODE_ROOT / "data")
    config["serving"]["cache_dir"] = str(tmp / "serving-cache")
    path = tmp / "mlflow.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def trained_bundle(artifact_root: Path) -> Path:
    """The newest bundle folder (``*/artifacts/bundle``) under ``artifact_root``."""
    found = [
        checksums.parent
        for checksums in artifact_root.rglob("artifacts/bundle/checksums.json")
    ]
    if not found:
        raise SystemExit(f"training left no bundle under {artifact_root}")
    return max(found, key=lambda folder: folder.stat().st_mtime)


def bench_training(tmp: Path, repeats: Repeats) -> tuple[list[Figure], Path]:
    """Train all GDSC drugs from scratch once; figures and the bundle trained."""
    config = write_config(tmp)
    rediscover = str(Path(sys.executable).parent / "rediscover")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_TRACKING_URI", "REDISCOVER_CONFIG")
    }
    log = tmp / "training.log"
    run_child(
        [rediscover, "--config", str(config), "data", "fetch", "gdsc"],
        env=env,
        cwd=tmp,
        log=log,
    )
    floor = [
        run_child([rediscover, "--version"], env=env, cwd=tmp)
        for _ in range(repeats.commands)
    ]
    print("training all GDSC drugs with CV (a few minutes) ...", flush=True)
    trained = run_child(
        [rediscover, "--config", str(config), "train"], env=env, cwd=tmp, log=log
    )
    figure = "rediscover train, all drugs, CV"
    # run_child measures wall seconds, then peak RSS (MB).
    figures = [
        Figure(
            "training",
            f"{figure}: {measure}",
            unit,
            [trained[i]],
            floor=f"rediscover --version: {measure}",
            floor_values=[run[i] for run in floor],
        )
        for i, (measure, unit) in enumerate((("wall", "s"), ("peak RSS", "MB")))
    ]
    return figures, trained_bundle(tmp / "mlartifacts")


# --- start-up -------------------------------------------------------------------


def read_files(folder: Path) -> int:
    """Read every file under ``folder`` as bytes; the number of bytes read."""
    return sum(len(f.read_bytes()) for f in sorted(folder.rglob("*")) if f.is_file())


def time_cold_start(
    bundle: Path, tmp: Path, *, workers: int | None
) -> tuple[float, float]:
    """Seconds from ``bentoml serve`` to the first 200 from ``/livez`` and to the
    first 200 from ``POST /score`` (the bundle loads after the probes answer)."""
    home = Path(tempfile.mkdtemp(prefix="bentoml-home-", dir=tmp))
    log_path = tmp / "cold-start.log"
    body = {"profile": PROFILES["BRAF V600E melanoma"]}
    with serving(server_env(bundle, home, workers=workers), log_path) as (url, started):
        livez = poll_until_ok(url, "/livez", log_path=log_path)
        score = poll_until_ok(url, "/score", body=body, log_path=log_path)
    return livez - started, score - started


def bench_startup(
    bundle: Path, tmp: Path, repeats: Repeats, *, workers: int | None
) -> list[Figure]:
    """The command line's start, a bundle load, and a server's cold start."""
    section = "startup"
    python = [sys.executable, "-c", "pass"]
    rediscover = [str(Path(sys.executable).parent / "rediscover"), "--help"]
    floor = [run_child(python)[0] for _ in range(repeats.commands)]
    helps = [run_child(rediscover)[0] for _ in range(repeats.commands)]
    usage_error = [*rediscover[:1], "score", "--no-such-option"]
    errors = [run_child(usage_error, expect=2)[0] for _ in range(repeats.commands)]
    loads = time_calls(
        lambda: models.ResponderModel.load(bundle), repeats=repeats.loads
    )
    reads = time_calls(lambda: read_files(bundle), repeats=repeats.loads)
    starts = [
        time_cold_start(bundle, tmp, workers=workers)
        for _ in range(repeats.cold_starts)
    ]
    return [
        Figure(section, "rediscover --help", "s", helps, "python -c pass", floor),
        Figure(
            section,
            "rediscover score --no-such-option (usage error)",
            "s",
            errors,
            "python -c pass",
            floor,
        ),
        Figure(
            section,
            "ResponderModel.load(bundle)",
            "s",
            loads,
            "read the bundle's files as bytes",
            reads,
        ),
        Figure(
            section,
            "cold start to first /score 200",
            "s",
            [s for _, s in starts],
            "first /livez 200, same start",
            [livez for livez, _ in starts],
        ),
    ]


# --- HTTP -----------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One bounded burst of requests at a fixed concurrency."""

    latencies: list[float]  # seconds, every request
    errors: int  # requests not answered 200
    wall: float  # seconds from the first request sent to the last answered

    @property
    def throughput(self) -> float:
        return (len(self.latencies) - self.errors) / self.wall

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q))


def run_round(
    url: str,
    path: str,
    bodies: Sequence[dict[str, Any] | None],
    *,
    concurrency: int,
    n_requests: int,
) -> Round:
    """Send ``n_requests`` requests from ``concurrency`` threads, each with its own
    keep-alive client, request i carrying ``bodies[i % len(bodies)]``."""
    start = threading.Barrier(concurrency + 1, timeout=120)
    answers: list[list[tuple[float, bool]]] = [[] for _ in range(concurrency)]

    def work(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            send(client, "/livez", None)  # opens the connection, untimed
            start.wait()
            for i in range(worker, n_requests, concurrency):
                sent = time.perf_counter()
                ok = send(client, path, bodies[i % len(bodies)])
                answers[worker].append((time.perf_counter() - sent, ok))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    flat = [answer for worker in answers for answer in worker]
    return Round([s for s, _ in flat], sum(not ok for _, ok in flat), wall)


def run_rounds(
    url: str,
    path: str,
    bodies: Sequence[dict[str, Any] | None],
    *,
    concurrency: int,
    n_requests: int,
    rounds: int,
) -> list[Round]:
    """``rounds`` rounds of :func:`run_round`, one after the other."""
    return [
        run_round(url, path, bodies, concurrency=concurrency, n_requests=n_requests)
        for _ in range(rounds)
    ]


def load_figures(
    name: str, rounds: list[Round], floor: list[Round], *, floor_name: str
) -> list[Figure]:
    """p50, p99, throughput and errors of ``rounds``, each against ``floor``'s."""
    measures: dict[str, tuple[str, Callable[[Round], float]]] = {
        "p50": ("s", lambda r: r.percentile(50)),
        "p99": ("s", lambda r: r.percentile(99)),
        "throughput": ("req/s", lambda r: r.throughput),
        "errors per round": ("count", lambda r: float(r.errors)),
    }
    return [
        Figure(
            "http",
            f"{name} {measure}",
            unit,
            [of(r) for r in rounds],
            f"{floor_name} {measure}",
            [of(r) for r in floor],
        )
        for measure, (unit, of) in measures.items()
    ]


def warm_up(
    url: str, scores: list[dict[str, Any]], batch: list[dict[str, Any]], *,
    log_path: Path, n_requests: int = 20,
) -> None:  # fmt: skip
    """Wait for ``/readyz``, then send untimed requests: the first ones after a
    start are slower, and a cold start is measured on its own."""
    poll_until_ok(url, "/readyz", log_path=log_path)
    poll_until_ok(url, "/score_batch", body=batch[0], log_path=log_path)
    for i in range(n_requests):
        poll_until_ok(url, "/score", body=scores[i % len(scores)], log_path=log_path)


def bench_http(
    bundle: Path, tmp: Path, repeats: Repeats, *, workers: int | None
) -> list[Figure]:
    """/score at concurrency 1, 8, 32 and /score_batch at 1, against /livez at the
    same concurrency, on one server started once."""
    profiles = list(PROFILES.values())
    scores = [{"profile": profile} for profile in profiles]
    batch = [{"profiles": [profiles[i % len(profiles)] for i in range(10)]}]
    home = Path(tempfile.mkdtemp(prefix="bentoml-home-", dir=tmp))
    log_path = tmp / "http-server.log"
    figures = []
    with serving(server_env(bundle, home, workers=workers), log_path) as (url, _):
        warm_up(url, scores, batch, log_path=log_path)
        loads: list[tuple[str, Sequence[dict[str, Any]], int, int]] = [
            ("/score", scores, c, n) for c, n in repeats.requests.items()
        ]
        loads.append(("/score_batch", batch, 1, repeats.batch_requests))
        for path, bodies, concurrency, n in loads:
            livez = run_rounds(
                url,
                "/livez",
                [None],
                concurrency=concurrency,
                n_requests=n,
                rounds=repeats.rounds,
            )
            answered = run_rounds(
                url,
                path,
                bodies,
                concurrency=concurrency,
                n_requests=n,
                rounds=repeats.rounds,
            )
            name = f"{path} c={concurrency} ({n} req/round)"
            floor_name = f"/livez c={concurrency}"
            figures += load_figures(name, answered, livez, floor_name=floor_name)
            if (path, concurrency) == ("/score", 1):
                alone = (answered, livez)
    return figures + against_in_process(bundle, *alone, repeats=repeats)


def against_in_process(
    bundle: Path, answered: list[Round], livez: list[Round], *, repeats: Repeats
) -> list[Figure]:
    """``/score`` at one client against the same ranking in this process plus
    ``/livez`` (what HTTP and the framework add), and its p99 against its p50."""
    model = models.ResponderModel.load(bundle)
    profiles = [Profile.model_validate(p) for p in PROFILES.values()]
    options = {"top_k": 5, **({"explain_top": 10} if has_flat_forest(model) else {})}
    in_process = statistics.median(
        t
        for profile in profiles
        for t in time_ranking(
            model, [profile], repeats=repeats.one_profile // len(profiles), **options
        )
    )
    p50 = [r.percentile(50) for r in answered]
    return [
        Figure(
            "http", "/score c=1 p50", "s", p50,
            "in-process rank_drugs(top_k=5, explain_top=10) + /livez p50",
            [in_process + r.percentile(50) for r in livez],
        ),
        Figure(
            "http", "/score c=1 p99", "s", [r.percentile(99) for r in answered],
            "/score c=1 p50", p50,
        ),
    ]  # fmt: skip


# --- contention -----------------------------------------------------------------

# The scenario: three large batches at once, each asking for 50 SHAP
# features per explained drug (explain_top stays at its default, 10).
CONTENDING_BATCHES = 3
CONTENDING_TOP_K = 50


@dataclass
class Answer:
    """One request's outcome: seconds, status (0: no answer) and Retry-After."""

    seconds: float
    status: int
    retry_after: str | None


def send_timed(client: httpx.Client, path: str, body: dict[str, Any]) -> Answer:
    """POST ``body``, reading the whole answer; how long it took and how it ended."""
    sent = time.perf_counter()
    try:
        with client.stream("POST", path, json=body) as response:
            for _ in response.iter_raw():
                pass  # read and drop: a 1,000-profile answer is ~160 MB
    except httpx.HTTPError:
        return Answer(time.perf_counter() - sent, 0, None)
    seconds = time.perf_counter() - sent
    return Answer(seconds, response.status_code, response.headers.get("retry-after"))


def response_bound(n_drugs: int, profiles: int) -> int:
    """A response bound (bytes) that admits ``profiles`` at ``top_k=50``: the
    service's own estimate (README, "Limits and status codes"), plus 10%."""
    per_profile = n_drugs * 600 + min(10, n_drugs) * 80 * CONTENDING_TOP_K
    return int(1.1 * profiles * per_profile)


def run_batches(
    url: str, body: dict[str, Any], stop: threading.Event
) -> tuple[list[threading.Thread], list[list[Answer]]]:
    """Start ``CONTENDING_BATCHES`` clients, each sending ``body`` to
    ``/score_batch`` again and again until ``stop``; their threads and answers."""
    answers: list[list[Answer]] = [[] for _ in range(CONTENDING_BATCHES)]

    def work(index: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as client:
            while not stop.is_set():
                answers[index].append(send_timed(client, "/score_batch", body))
                if answers[index][-1].status == 503:
                    time.sleep(float(answers[index][-1].retry_after or 1))

    threads = [
        threading.Thread(target=work, args=(i,), daemon=True)
        for i in range(CONTENDING_BATCHES)
    ]
    for thread in threads:
        thread.start()
    return threads, answers


def score_alone(url: str, n: int) -> list[Answer]:
    """``n`` ``/score`` requests one after the other, textbook profiles in turn."""
    bodies = [{"profile": p} for p in PROFILES.values()]
    with httpx.Client(base_url=url, timeout=300) as client:
        return [send_timed(client, "/score", bodies[i % len(bodies)]) for i in range(n)]


def bench_contention(
    bundle: Path, tmp: Path, repeats: Repeats, *, workers: int | None, profiles: int
) -> list[Figure]:
    """``/score`` one at a time while three batches of ``profiles`` profiles with
    ``top_k=50`` run, against ``/score`` alone on the same server just before."""
    n_drugs = len(models.ResponderModel.load(bundle).drugs)
    bound = response_bound(n_drugs, profiles)
    env = server_env(bundle, Path(tempfile.mkdtemp(dir=tmp)), workers=workers)
    env["REDISCOVER_MAX_RESPONSE_BYTES"] = str(bound)
    batch = {
        "profiles": [p for p in islice(cycle(PROFILES.values()), profiles)],
        "top_k": CONTENDING_TOP_K,
    }
    log_path = tmp / "contention-server.log"
    with serving(env, log_path) as (url, _):
        warm_up(url, [{"profile": p} for p in PROFILES.values()],
                [{"profiles": batch["profiles"][:10]}], log_path=log_path)  # fmt: skip
        alone = score_alone(url, repeats.contended)
        stop = threading.Event()
        threads, batches = run_batches(url, batch, stop)
        try:
            time.sleep(3)  # the three batches are read, parsed and being ranked
            contended = score_alone(url, repeats.contended)
        finally:
            stop.set()
        for thread in threads:  # their last batch answered (not on Ctrl-C)
            thread.join()
    print(f"contention: response bound raised to {bound} bytes for {profiles} "
          f"profiles x top_k={CONTENDING_TOP_K}", flush=True)  # fmt: skip
    return contention_figures(alone, contended, [a for b in batches for a in b])


def contention_figures(
    alone: list[Answer], contended: list[Answer], batches: list[Answer]
) -> list[Figure]:
    """p50 and p99 of answered ``/score`` (200) against ``/score`` alone; the share
    of fast 503s with Retry-After; the batches' own outcomes."""

    def seconds(answers: list[Answer], status: int) -> list[float]:
        return [a.seconds for a in answers if a.status == status]

    def percentile(values: list[float], q: float) -> list[float]:
        return [float(np.percentile(values, q))] if values else []

    ok, ok_alone = seconds(contended, 200), seconds(alone, 200)
    busy = [a for a in contended if a.status == 503 and a.retry_after]
    other = [a for a in contended if a.status not in (200, 503)]
    section, under = "contention", f"/score under {CONTENDING_BATCHES} batches"
    figures = [
        Figure(section, f"{under}: p50 (answered 200)", "s", percentile(ok, 50),
               "/score alone p50", percentile(ok_alone, 50)),
        Figure(section, f"{under}: p99 (answered 200)", "s", percentile(ok, 99),
               "/score alone p99", percentile(ok_alone, 99)),
        Figure(section, f"{under}: share 503 + Retry-After", "count",
               [len(busy) / len(contended)]),
        Figure(section, f"{under}: other failures", "count", [float(len(other))]),
        Figure(section, "batches meanwhile: answered 200", "count",
               [float(len(seconds(batches, 200)))]),
        Figure(section, "batches meanwhile: 503 + Retry-After", "count",
               [float(sum(a.status == 503 for a in batches))]),
        Figure(section, "batches meanwhile: other failures", "count",
               [float(sum(a.status not in (200, 503) for a in batches))]),
    ]  # fmt: skip
    if busy:
        figures.append(Figure(section, f"{under}: slowest 503", "s",
                              [max(a.seconds for a in busy)]))  # fmt: skip
    if seconds(batches, 200):
        figures.append(Figure(section, "batches meanwhile: latency", "s",
                              seconds(batches, 200)))  # fmt: skip
    return [f for f in figures if f.values]


# --- in-process -----------------------------------------------------------------


def textbook_batch(n: int, *, seed: int) -> list[Profile]:
    """``n`` profiles drawn at random (``seed``) from the textbook ones."""
    profiles = [Profile.model_validate(p) for p in PROFILES.values()]
    picks = np.random.default_rng(seed).integers(len(profiles), size=n)
    return [profiles[i] for i in picks]


def has_flat_forest(model: models.ResponderModel) -> bool:
    """True when this version has ``model.scorer`` and ``rank_drugs(explain_top=)``."""
    takes_explain_top = "explain_top" in inspect.signature(models.rank_drugs).parameters
    return takes_explain_top and hasattr(model, "scorer")


def time_ranking(
    model: models.ResponderModel, profiles: list[Profile], *, repeats: int,
    **options: int,
) -> list[float]:  # fmt: skip
    """Seconds of ``rank_drugs(model, profiles, **options)``, after 3 warm-ups."""
    # Untyped on purpose: the signature changes under this script (explain_top),
    # and the same code measures both versions.
    rank_drugs = cast(Callable[..., object], models.rank_drugs)
    return time_calls(
        lambda: rank_drugs(model, profiles, **options), repeats=repeats, warmup=3
    )


def bench_inprocess(bundle: Path, repeats: Repeats) -> list[Figure]:
    """rank_drugs for one profile (scores; SHAP of the top 10) and for 1,000,
    against the flat forest's margins of the same profiles."""
    model = models.ResponderModel.load(bundle)
    one = [Profile.model_validate(PROFILES["BRAF V600E melanoma"])]
    many = textbook_batch(1000, seed=0)
    if not has_flat_forest(model):
        return inprocess_old_api(model, one, many, repeats)
    scorer = model.scorer  # type: ignore[attr-defined]
    floor = "forest.margins(scorer.inputs(...)), same profiles"
    floor_one = time_calls(
        lambda: scorer.forest.margins(scorer.inputs(one)),
        repeats=repeats.one_profile, warmup=3,
    )  # fmt: skip
    floor_many = time_calls(
        lambda: scorer.forest.margins(scorer.inputs(many)), repeats=repeats.batch
    )

    def scores_and_shap() -> None:
        scores = scorer.score(one, rank_by="evidence")
        top = [c for c in scores.order[0, :10].tolist() if c in scorer.boosted]
        scorer.shap(scores, 0, top)

    arrays = time_calls(
        lambda: scorer.score(one, rank_by="evidence"),
        repeats=repeats.one_profile, warmup=3,
    )  # fmt: skip
    arrays_shap = time_calls(scores_and_shap, repeats=repeats.one_profile, warmup=3)
    objects = time_ranking(
        model, one, top_k=0, explain_top=0, repeats=repeats.one_profile
    )
    objects_shap = time_ranking(
        model, one, top_k=5, explain_top=10, repeats=repeats.one_profile
    )
    batch_arrays = time_calls(
        lambda: scorer.score(many, rank_by="evidence"), repeats=repeats.batch
    )
    batch_objects = time_ranking(
        model, many, top_k=0, explain_top=0, repeats=repeats.batch
    )
    # What rank_drugs computed before the flat forest: XGBoost's SHAP values of
    # every drug, one booster call each (the floor here: the arrays above).
    xgboost = time_calls(lambda: model.explain(many), repeats=repeats.batch)
    drugs = f"{len(model.drugs)} drugs"
    one_x, many_x = f"1 profile x {drugs}", f"1,000 profiles x {drugs}"
    return [
        Figure("inprocess", f"{one_x}: scores and ranking (arrays)", "s",
               arrays, floor, floor_one),
        Figure("inprocess", f"{one_x}: + SHAP of top 10 (arrays)", "s",
               arrays_shap, floor, floor_one),
        Figure("inprocess", f"{one_x}: rank_drugs(top_k=0), DrugScore objects", "s",
               objects, floor, floor_one),
        Figure("inprocess", f"{one_x}: rank_drugs(top_k=5, explain_top=10)", "s",
               objects_shap, floor, floor_one),
        Figure("inprocess", f"{many_x}: scores and ranking (arrays)", "s",
               batch_arrays, floor, floor_many),
        Figure("inprocess", f"{many_x}: rank_drugs(top_k=0), DrugScore objects",
               "s", batch_objects, floor, floor_many),
        Figure("inprocess", f"{many_x}: XGBoost SHAP drug by drug, as before",
               "s", xgboost, "scores and ranking (arrays), same profiles",
               batch_arrays),
    ]  # fmt: skip


def inprocess_old_api(
    model: models.ResponderModel, one: list[Profile], many: list[Profile],
    repeats: Repeats,
) -> list[Figure]:  # fmt: skip
    """What a version without the flat forest offers, without a floor: rank_drugs,
    which computes SHAP of every drug whatever ``top_k``."""
    print(f"inprocess: {NO_FOREST}", flush=True)
    scores = time_ranking(model, one, top_k=0, repeats=repeats.one_profile)
    explained = time_ranking(model, one, top_k=5, repeats=repeats.one_profile)
    batch = time_ranking(model, many, top_k=0, repeats=repeats.batch)
    drugs = f"{len(model.drugs)} drugs"
    return [
        Figure("inprocess", f"1 profile x {drugs}: rank_drugs(top_k=0), SHAP of all",
               "s", scores, NO_FOREST),
        Figure("inprocess", f"1 profile x {drugs}: rank_drugs(top_k=5), SHAP of all",
               "s", explained, NO_FOREST),
        Figure("inprocess", f"1,000 profiles x {drugs}: rank_drugs(top_k=0)", "s",
               batch, NO_FOREST),
    ]  # fmt: skip


# --- output ---------------------------------------------------------------------


def show(value: float, unit: str) -> str:
    """``value`` in ``unit`` for people: seconds as µs, ms or s."""
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.0f} µs"
        return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "count":
        return f"{value:g}"
    return f"{value:.1f} {unit}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as a fixed-width text table, one row each."""
    header = (
        "section",
        "figure",
        "median",
        "IQR",
        "floor",
        "floor median",
        "ratio",
        "n",
    )
    rows = [header]
    for f in figures:
        low, high = quartiles(f.values)
        spread = (
            "-" if len(f.values) < 2 else f"{show(low, f.unit)} - {show(high, f.unit)}"
        )
        floor = "-" if f.floor_median is None else show(f.floor_median, f.unit)
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}x"
        n = f"{len(f.values)}" + (f" / {len(f.floor_values)}" if f.floor_values else "")
        rows.append(
            (
                f.section,
                f.figure,
                show(f.median, f.unit),
                spread,
                f.floor or "-",
                floor,
                ratio,
                n,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def git(*args: str) -> str:
    """Output of ``git args`` in the measured checkout ('' when git fails)."""
    done = subprocess.run(
        ["git", "-C", str(CODE_ROOT), *args], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def machine_info() -> dict[str, Any]:
    """CPUs, load, Python, package versions and the commit measured."""
    packages = (
        "xgboost",
        "xgboost-cpu",
        "bentoml",
        "mlflow",
        "numpy",
        "httpx",
        "rediscover",
    )
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_average_1_5_15": os.getloadavg(),
        "platform": platform.platform(),
        "python": sys.version,
        "packages": {name: package_version(name) for name in packages},
        "code_root": str(CODE_ROOT),
        "git_commit": git("rev-parse", "HEAD"),
        # The last commit that changed the code measured, and uncommitted changes
        # to it (benchmarks/ and docs left out).
        "code_commit": git("log", "-1", "--format=%H", "--", *CODE_FOLDERS),
        "code_dirty": git("status", "--porcelain", "--", *CODE_FOLDERS),
    }


# --- command line ---------------------------------------------------------------


def section_list(text: str) -> list[str]:
    """``--sections``: a comma list of known section names, in run order."""
    asked = {name.strip() for name in text.split(",") if name.strip()}
    unknown = asked - set(SECTIONS)
    if unknown or not asked:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(sorted(unknown)) or '(none given)'}; "
            f"accepted: {', '.join(SECTIONS)}"
        )
    return [name for name in SECTIONS if name in asked]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--sections",
        type=section_list,
        default=list(SECTIONS),
        help=f"comma list of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--bundle",
        type=Path,
        help="bundle folder to measure; skips training unless "
        "--sections names it (default: the bundle training makes)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench.json"), help="JSON output"
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats: a smoke test"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="BentoML workers of every server started "
        "(default: the service's own setting)",
    )
    parser.add_argument(
        "--batch-profiles",
        type=int,
        default=1000,
        help="profiles in each large batch of the contention section (default: "
        "1000; the server's response bound is raised to fit them)",
    )
    args = parser.parse_args(argv)
    if (
        "training" not in args.sections
        and args.bundle is None
        and set(args.sections) - {"training"}
    ):
        parser.error("--bundle is needed when the training section does not run")
    return args


def run_sections(args: argparse.Namespace, repeats: Repeats, tmp: Path) -> list[Figure]:
    """The figures of every section asked for, in the order of ``SECTIONS``."""
    figures, bundle = [], args.bundle
    if "training" in args.sections:
        trained, made = bench_training(tmp, repeats)
        figures += trained
        bundle = bundle or made
    if "startup" in args.sections:
        print("startup ...", flush=True)
        figures += bench_startup(bundle, tmp, repeats, workers=args.workers)
    if "http" in args.sections:
        print("http ...", flush=True)
        figures += bench_http(bundle, tmp, repeats, workers=args.workers)
    if "contention" in args.sections:
        print("contention ...", flush=True)
        figures += bench_contention(
            bundle, tmp, repeats, workers=args.workers, profiles=args.batch_profiles
        )
    if "inprocess" in args.sections:
        print("inprocess ...", flush=True)
        figures += bench_inprocess(bundle, repeats)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sections asked for; print the table and write the JSON."""
    args = parse_args(argv)
    # A SIGTERM unwinds like Ctrl-C, so every server started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    repeats = QUICK if args.quick else FULL
    info = machine_info()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rediscover-bench-") as tmp:
        figures = run_sections(args, repeats, Path(tmp))
    seconds = time.perf_counter() - started
    info["load_average_end"] = os.getloadavg()
    bundle = args.bundle or "trained in this run (deleted)"
    dirty = " (uncommitted changes)" if info["code_dirty"] else ""
    print(f"\n{table(figures)}\n")
    print(f"{len(figures)} figures in {seconds:.0f} s; bundle: {bundle}")
    print(
        f"code: {CODE_ROOT} at {info['git_commit'][:12]}, last changed in "
        f"{info['code_commit'][:12]}{dirty}"
    )
    print(
        f"{info['cpus_usable']} CPUs; load average (1 min) "
        f"{info['load_average_1_5_15'][0]:.2f} at start, "
        f"{info['load_average_end'][0]:.2f} at end"
    )
    options = {**vars(args), "bundle": str(bundle), "repeats": asdict(repeats)}
    document = {
        "machine": info,
        "options": options,
        "seconds": seconds,
        "rows": [f.as_dict() for f in figures],
    }
    args.out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
