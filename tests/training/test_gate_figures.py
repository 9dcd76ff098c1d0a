"""The gate's figures in the README are the benchmark's own: re-derived from the rows
``benchmarks/bench_gate.py`` wrote to ``benchmarks/results/gate.json``."""

import json
import re
from pathlib import Path

from tests.training.conftest import bench_gate

REPO = Path(__file__).resolve().parents[2]


def test_the_readme_quotes_the_gate_benchmark_rows() -> None:
    saved = json.loads((REPO / "benchmarks" / "results" / "gate.json").read_text())
    rates = bench_gate().rates(saved["rows"])
    assert rates == saved["rates"]
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### The gate against corrupted batches") :]
    promotions = re.search(r"False promotions: (\d+) of (\d+) corrupted", section)
    refusals = re.search(r"False refusals: (\d+) of (\d+) genuine", section)
    assert promotions is not None and refusals is not None
    assert tuple(map(int, promotions.groups())) == (
        rates["false_promotions"],
        rates["corrupted_runs"],
    )
    assert tuple(map(int, refusals.groups())) == (
        rates["false_refusals"],
        rates["genuine_runs"],
    )
    # The table: promoted per scenario, as "k / n" in its row.
    for scenario, label in (
        ("genuine", "genuine"),
        ("inflated", "inflated"),
        ("deflated", "deflated"),
        ("shuffled", "shuffled"),
        ("flipped_drug", "one drug turned over"),
    ):
        lines = section.splitlines()
        row = next(line for line in lines if line.startswith(f"| {label} |"))
        per = rates["per_scenario"][scenario]
        assert f"| {per['promoted']} / {per['runs']} |" in row, row
