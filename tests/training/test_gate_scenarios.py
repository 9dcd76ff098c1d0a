"""The promotion gate against corrupted batches on the simulated DRUP cohort (issue
12, part 5): seed 0 of ``benchmarks/bench_gate.py``. Every corruption is refused, and
for what the outcomes say (a data check), not only because the challenger is weak.
The five-seed table quoted in the README is the benchmark's own output."""

from pathlib import Path

import pytest

from features import load_drug_knowledge
from tests.training.conftest import bench_gate
from training.data import Cohort

pytestmark = [pytest.mark.slow, pytest.mark.real_data]

REPO = Path(__file__).resolve().parents[2]
DATA_CHECKS = {
    "data_consistency", "drug_consistency", "calibration", "drug_calibration",
    "drug_history", "response_rate",
}  # fmt: skip


def test_every_corrupted_batch_is_refused_for_its_outcomes(
    gdsc: Cohort, tmp_path: Path
) -> None:
    bench = bench_gate()
    config = bench.small_config(REPO / "mlflow.yml", tmp_path)
    rows = bench.run_seed(
        0, gdsc=gdsc, config=config, knowledge=load_drug_knowledge(),
        scenarios=["inflated", "deflated", "shuffled", "flipped_drug"],
    )  # fmt: skip
    failed = {row["scenario"]: set(row["failed"]) for row in rows}
    assert not any(row["promoted"] for row in rows), failed
    assert all(checks & DATA_CHECKS for checks in failed.values()), failed
    # The batch: 55.5% responders where ~35% were expected.
    assert {"calibration", "response_rate"} <= failed["inflated"]
    assert {"calibration", "response_rate"} <= failed["deflated"]
    rates = {row["scenario"]: row["batch_response_rate"] for row in rows}
    assert rates["inflated"] > 0.5 and rates["deflated"] < 0.2


def test_a_drug_turned_over_near_half_goes_against_its_history(
    gdsc: Cohort, tmp_path: Path
) -> None:
    # Seed 2 turns over nivolumab, whose new response rate was 0.484 (0.516
    # turned over): the rate does not move and the champion ranks within the drug
    # near chance, so every other check passed it; its cohorts' order reverses.
    bench = bench_gate()
    config = bench.small_config(REPO / "mlflow.yml", tmp_path)
    (row,) = bench.run_seed(
        2, gdsc=gdsc, config=config, knowledge=load_drug_knowledge(),
        scenarios=["flipped_drug"],
    )  # fmt: skip
    assert not row["promoted"]
    assert "drug_history" in row["failed"], row["failed"]
    assert "against their history: nivolumab" in row["messages"]["drug_history"]
