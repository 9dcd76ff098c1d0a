"""How long the service takes to follow the alias to a new version, under load.

Usage (any bundle folder; a throw-away registry and server are made in a temp dir)::

    .venv/bin/python benchmarks/bench_reload.py --bundle PATH --repeat 3

Registers the bundle as version 1, serves it with ``bentoml serve``, keeps one
client sending ``/score`` back to back, then ``--repeat`` times registers the bundle
again as a new version (a new artifact: a real download), moves ``champion`` to it
and calls ``POST /admin/reload``.  Reports the reload time the endpoint measured
(download, verification, load, warm-up, swap), the wall time from the alias move to
the first ``/score`` answered by the new version, and every failed request.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import mlflow

from models import BUNDLE_DIGEST_TAG, bundle_digest

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL = "rediscover"
PROFILE = {
    "tumour_type": "melanoma",
    "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
}


def register(client: mlflow.MlflowClient, experiment_id: str, bundle: Path) -> str:
    """Log ``bundle`` to a new run and register it as the next version."""
    run = client.create_run(experiment_id)
    client.log_artifacts(run.info.run_id, str(bundle), artifact_path="bundle")
    client.set_terminated(run.info.run_id)
    if not client.search_registered_models(f"name = '{MODEL}'"):
        client.create_registered_model(MODEL)
    source = f"{run.info.artifact_uri}/bundle"
    # The service refuses a version without its bundle's digest.
    tags = {BUNDLE_DIGEST_TAG: bundle_digest(bundle)}
    version = client.create_model_version(MODEL, source, run.info.run_id, tags=tags)
    return str(version.version)


def start_server(
    env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """``bentoml serve`` on a free port; returns it once ``/readyz`` answers 200."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "bentoml", "serve", "serving.service:Rediscover"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit(f"server not ready:\n{log_path.read_text()[-3000:]}")


class Traffic(threading.Thread):
    """One client sending /score back to back: (time, status, version, seconds)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.answers: list[tuple[float, int, str | None, float]] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    response = client.post("/score", json={"profile": PROFILE})
                    ok = response.status_code == 200
                    version = response.json()["model_version"] if ok else None
                    status = response.status_code
                except httpx.HTTPError:
                    status, version = 0, None
                done = time.monotonic()
                self.answers.append((done, status, version, done - started))


def time_reloads(
    client: mlflow.MlflowClient, experiment: str, url: str, *, bundle: Path,
    token: str, repeat: int, traffic: Traffic,
) -> tuple[list[float], list[float]]:  # fmt: skip
    """Endpoint-reported reload seconds, and alias move -> first answer by it."""
    reloads, switches = [], []
    for _ in range(repeat):
        version = register(client, experiment, bundle)
        moved = time.monotonic()
        client.set_registered_model_alias(MODEL, "champion", version)
        answer = httpx.post(
            f"{url}/admin/reload",
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        ).json()
        assert answer["error"] is None and answer["version"] == version, answer
        while not any(v == version for _, _, v, _ in traffic.answers):
            time.sleep(0.01)
        reloads.append(answer["seconds"])
        switches.append(
            min(t for t, _, v, _ in traffic.answers if v == version) - moved
        )
        time.sleep(2)
    return reloads, switches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True, help="bundle folder")
    parser.add_argument("--repeat", type=int, default=3, help="reloads to time")
    args = parser.parse_args()
    token = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        artifacts = (Path(tmp) / "artifacts").as_uri()
        experiment = client.create_experiment("bench", artifact_location=artifacts)
        first = register(client, experiment, args.bundle)
        client.set_registered_model_alias(MODEL, "champion", first)
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": uri,
            "REDISCOVER_CACHE_DIR": f"{tmp}/cache",
            "REDISCOVER_RELOAD_INTERVAL": "0",
            "REDISCOVER_RELOAD_TOKEN": token,
            "BENTOML_HOME": f"{tmp}/bentoml",
            "BENTOML_DO_NOT_TRACK": "True",
        }
        env.pop("REDISCOVER_BUNDLE", None)
        started = time.monotonic()
        process, url = start_server(env, Path(tmp) / "server.log")
        print(f"cold start to /readyz 200: {time.monotonic() - started:.1f} s")
        traffic = Traffic(url)
        traffic.start()
        try:
            time.sleep(3)
            reloads, switches = time_reloads(
                client, experiment, url, bundle=args.bundle, token=token,
                repeat=args.repeat, traffic=traffic,
            )  # fmt: skip
        finally:
            traffic.stop.set()
            traffic.join()
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    size = sum(f.stat().st_size for f in args.bundle.rglob("*") if f.is_file())
    failed = sum(status != 200 for _, status, _, _ in traffic.answers)
    latencies = [1000 * seconds for *_, seconds in traffic.answers]
    print(f"bundle {args.bundle}: {size / 1e6:.1f} MB")
    print(
        f"reload (download, verify, load, warm up, swap): median "
        f"{statistics.median(reloads):.2f} s of {[round(r, 2) for r in reloads]}"
    )
    print(
        "alias move -> first /score answered by the new version: median "
        f"{statistics.median(switches):.2f} s of {[round(s, 2) for s in switches]}"
    )
    print(
        f"/score during the run: {len(latencies)} requests, {failed} failed, "
        f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms"
    )


if __name__ == "__main__":
    main()
