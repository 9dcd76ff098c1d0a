"""Latency of /score against a floor measured on the same server in the same run.

Usage (with a server running, e.g. ``make serve``)::

    .venv/bin/python benchmarks/bench_score.py --url http://127.0.0.1:3000 --n 50

The floor is BentoML's built-in ``/livez`` on the same process: the cost of HTTP and
the framework alone.  Ratios, not absolute times, are what compare across machines.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

PROFILE = {
    "tumour_type": "melanoma",
    "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
    "msi_high": False,
}


def time_requests(
    client: httpx.Client, n: int, method: str, path: str, **kw: object
) -> list[float]:
    """Wall-clock seconds of n sequential requests (after one warm-up)."""
    client.request(method, path, **kw).raise_for_status()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.request(method, path, **kw).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="server URL")
    parser.add_argument("--n", type=int, default=50, help="requests per endpoint")
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=60) as client:
        floor = statistics.median(time_requests(client, args.n, "GET", "/livez"))
        cases = {
            "score (1 profile)": {"json": {"profile": PROFILE, "top_k": 5}},
            "score_batch (10 profiles)": {
                "json": {"profiles": [PROFILE] * 10, "top_k": 5}
            },
        }
        path = {
            "score (1 profile)": "/score",
            "score_batch (10 profiles)": "/score_batch",
        }
        print(f"floor /livez median {1000 * floor:.1f} ms over {args.n} requests")
        for name, kw in cases.items():
            median = statistics.median(
                time_requests(client, args.n, "POST", path[name], **kw)
            )
            print(
                f"{name}: median {1000 * median:.1f} ms = {median / floor:.0f}x floor"
            )


if __name__ == "__main__":
    main()
