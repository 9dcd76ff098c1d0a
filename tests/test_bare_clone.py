"""A bare clone trains on the data it ships: no ``../shared``, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models import load_registered_bundle

REPO = Path(__file__).resolve().parents[1]
DRUGS = ("dabrafenib", "nilotinib", "trametinib")  # each has a DeepCDR threshold
BRAF_MELANOMA = {
    "tumour_type": "melanoma",
    "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
}


def _run(clone: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "rediscover", "--config", "tiny.yml", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, f"rediscover {' '.join(args)}:\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
def test_a_bare_clone_fetches_and_trains_named_threshold_labelled_drugs(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    clone = tmp_path / "rediscover"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(clone)],
        check=True,
        capture_output=True,
    )
    assert not (clone.parent / "shared").exists()
    (clone / "tiny.yml").write_text(
        f"tracking:\n  uri: sqlite:///{tmp_path}/mlflow.db\n"
        "  artifact_root: mlartifacts\n"
        "training:\n  cv_folds: 2\n  n_bootstrap: 0\n"
        "xgboost:\n  n_estimators: 10\n"
    )
    # The clone's own packages, not this checkout's editable install.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REDISCOVER_", "MLFLOW_"))
    } | {"PYTHONPATH": str(clone), "PIP_NO_INDEX": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import training; print(training.__file__)"],
        cwd=clone, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(clone)

    fetched = _run(clone, env, "data", "fetch", "gdsc")
    assert str(clone / ".cache" / "data" / "gdsc1000_v17") in fetched
    trained = _run(clone, env, "train", "--drugs", ",".join(DRUGS))
    assert f"trained {len(DRUGS)} drugs" in trained

    model, version = load_registered_bundle(
        tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
        model_name="rediscover",
        alias="champion",
        cache_dir=tmp_path / "serving-cache",
    )
    metadata = model.metadata
    assert version == "1"
    assert sorted(metadata.drugs) == sorted(DRUGS)
    assert {d: i.label_rule for d, i in metadata.drugs.items()} == dict.fromkeys(
        DRUGS, "threshold"
    )
    assert metadata.data_source == "gdsc1000_v17"

    profile = clone / "braf.json"
    profile.write_text(json.dumps(BRAF_MELANOMA))
    scores = json.loads(_run(clone, env, "score", str(profile), "--json"))
    ranked = [row["drug"] for row in scores["results"][0]]
    assert ranked[0] in {"dabrafenib", "trametinib"}
    assert time.monotonic() - started < 180
