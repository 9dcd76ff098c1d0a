"""Peak memory and rate of ``rediscover score --in FILE --out FILE`` as the input grows.

Usage (a champion trained, e.g. ``make train``; GDSC fetched into the cache)::

    .venv/bin/python benchmarks/bench_score_files.py --config mlflow.yml \\
        --sizes 10000 100000 --out-suffix .parquet --work /tmp/bench-files

For each size, writes a JSONL file of that many profiles (GDSC cell-line profiles
drawn with replacement, seed 0, each with a new ``sample_id``), then runs the
command under ``/usr/bin/time -v`` and reports its maximum resident set size, wall
time, profiles per second (start-up and model loading included) and its RSS in
each tenth of the run (sampled each second with psutil). Memory that does not grow
with the size is the point: the command reads, scores and writes ``--chunk-size``
profiles at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def write_profiles(path: Path, n: int, *, config: Path, seed: int = 0) -> None:
    """``n`` GDSC profiles, drawn with replacement, one JSON object per line."""
    from rediscover._config_file import find_config
    from training.config import load_config
    from training.data import fetch_dataset, load_gdsc

    settings = load_config(find_config(config, from_environment=None, cwd=Path.cwd()))
    folder = fetch_dataset(
        "gdsc", settings.data.cache_dir, data_dir=settings.data.shipped_dir
    )
    pool = load_gdsc(folder).profiles
    rows = np.random.default_rng(seed).integers(len(pool), size=n)
    with path.open("w") as handle:
        for number, row in enumerate(rows.tolist()):
            profile = pool[row].model_copy(update={"sample_id": f"bench-{number}"})
            handle.write(profile.model_dump_json(exclude_none=True) + "\n")


def measure(command: list[str]) -> dict[str, Any]:
    """Max RSS (MiB) and wall seconds of ``command`` under /usr/bin/time -v, and
    its RSS sampled each second (psutil), as the maximum in each tenth of the run:
    a flat row is memory that does not grow as the input is read."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(
        ["/usr/bin/time", "-v", *command],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    samples: list[tuple[float, int]] = []
    while process.poll() is None:
        for child in psutil.Process(process.pid).children():
            with contextlib.suppress(psutil.Error):
                samples.append((time.perf_counter(), child.memory_info().rss))
        time.sleep(1)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        sys.exit(f"failed ({process.returncode}):\n{stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    assert rss is not None, stderr
    tenths = [0] * 10
    for at, value in samples:
        tenth = min(int(10 * (at - started) / seconds), 9)
        tenths[tenth] = max(tenths[tenth], value)
    return {
        "max_rss_mib": int(rss.group(1)) / 1024,
        "seconds": seconds,
        "rss_mib_by_tenth": [round(v / 2**20) for v in tenths],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("mlflow.yml"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out-suffix", default=".parquet")
    parser.add_argument("--chunk-size", type=int, default=250)
    parser.add_argument("--work", type=Path, default=Path("bench-files"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rediscover = str(Path(sys.executable).parent / "rediscover")
    results = []
    for n in args.sizes:
        source = args.work / f"profiles-{n}.jsonl"
        if not source.exists():
            write_profiles(source, n, config=args.config)
        out = args.work / f"scores-{n}{args.out_suffix}"
        command = [
            rediscover, "--config", str(args.config), "score", "--in", str(source),
            "--out", str(out), "--force", "--progress", "never",
            "--chunk-size", str(args.chunk_size),
        ]  # fmt: skip
        result = {"profiles": n, **measure(command), "out_bytes": out.stat().st_size}
        result["profiles_per_second"] = n / result["seconds"]
        results.append(result)
        print(json.dumps(result), flush=True)
    (args.work / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
