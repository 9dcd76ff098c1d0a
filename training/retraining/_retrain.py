"""Retrain on grown data and let the promotion gate decide (``rediscover retrain``).

1. Train a challenger on the whole new cohort exactly as ``rediscover train``
   does (cross-validation, then the final fit), in an MLflow run tagged
   ``kind=retrain``.
2. Find the champion's training cohort through its ``data_hash`` tag
   (``find_cohort``, e.g. `training.data.read_cohort_version` on the store) and
   log the drift report of the new cohort against it.
3. Compare both on the episodes the champion never saw (`holdout_frame`:
   the champion scores them with its registered bundle, the challenger with its
   grouped out-of-fold predictions, so neither trained on them), check the new
   outcomes against the champion's calibrated probabilities and the old
   response rate, and apply the gate (`assess`, `apply_gate`).
4. Register the challenger (the alias moves come last, so a crash anywhere
   leaves the champion untouched), then, under the promotion lock, re-read the
   champion: passed and unchanged -> the challenger becomes ``champion`` and the
   old one ``previous``; otherwise it becomes ``challenger`` with the reasons.
   The moves and the ``decision`` tags are one transaction
   (`training.registry.alias_section`): a kill midway is finished by the next
   registry command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import mlflow
from mlflow.entities import Metric

from features import DrugKnowledge
from models import ResponderModel, alias_version, load_registered_version
from training.config import Config
from training.data import Cohort
from training.fitting import (
    CrossValidation,
    FitPlan,
    cross_validate_cohort,
    select_drugs,
    train_bundle,
)
from training.registry import (
    CHALLENGER,
    CHAMPION,
    MAX_REASON,
    SHORT_HASH,
    alias_section,
    client_for,
    log_cohort,
    log_training,
    move_alias,
    register_version,
    set_champion,
    summarise_cohort,
    tracked_run,
)
from training.retraining._assess import assess
from training.retraining._drift_tracking import log_drift
from training.retraining._gate import GateResult, HoldOutMetrics, refuse

logger = logging.getLogger(__name__)

# What ``find_cohort`` raises when the champion's cohort version is not there.
LOOKUP_ERRORS = (ValueError, LookupError, FileNotFoundError)
_MAX_TAG = 5000


@dataclass(frozen=True)
class RetrainResult:
    """What ``rediscover retrain`` did."""

    version: str  # the challenger's registry version
    promoted: bool  # whether it became champion
    decision: str  # why it is champion or challenger
    compared_with: str | None  # the champion the gate compared against
    gate: GateResult | None  # None: there was no champion (first model)
    holdout: HoldOutMetrics | None  # None: nothing could be compared
    run_id: str
    seconds: float


def retrain(
    cohort: Cohort,
    *,
    config: Config,
    source: str,
    find_cohort: Callable[[str], Cohort],
    knowledge: DrugKnowledge,
    by: str,
    reason: str,
) -> RetrainResult:
    """Train a challenger on ``cohort``, gate it against the champion, register it.

    Parameters
    ----------
    cohort
        The latest cohort version.
    source
        Its name, recorded as the bundle's data source.
    find_cohort
        The cohort with a given data hash (the champion's ``data_hash`` tag);
        raises ValueError, LookupError or FileNotFoundError when there is none,
        and the gate then fails with that reason.
    by, reason
        Who retrains and why: recorded with every alias move.
    """
    started = time.perf_counter()
    client = client_for(config.tracking)
    compared_with = alias_version(client, config.tracking.registered_model, CHAMPION)
    tags = {
        "kind": "retrain",
        "data_source": source,
        "compared_with": str(compared_with),
    }
    with tracked_run(config, kind="retrain", tags=tags) as run_id:
        log_cohort(cohort, name=source, use="training")
        drugs = select_drugs(cohort, config=config)
        plan = FitPlan(config, drugs=drugs, knowledge=knowledge)
        cv = cross_validate_cohort(cohort, plan=plan)
        model = train_bundle(cohort, plan=plan, data_source=source, cv=cv)
        log_training(config, run_id, model, seconds=time.perf_counter() - started)
        gate, holdout = None, None
        if compared_with is not None:
            gate, holdout = judge(
                cohort, cv, model, config=config, run_id=run_id,
                champion_version=compared_with, find_cohort=find_cohort,
            )  # fmt: skip
            log_gate(client, run_id, gate, holdout)
        version = register_version(
            config, run_id, model, cohort_summary=summarise_cohort(cohort),
            tags=gate_tags(gate, holdout, compared_with=compared_with),
        )  # fmt: skip
        promoted, decision = decide(
            config, version, compared_with=compared_with, gate=gate, by=by,
            reason=reason,
        )  # fmt: skip
    return RetrainResult(
        version=version, promoted=promoted, decision=decision,
        compared_with=compared_with, gate=gate, holdout=holdout, run_id=run_id,
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def judge(
    cohort: Cohort,
    cv: CrossValidation,
    model: ResponderModel,
    *,
    config: Config,
    run_id: str,
    champion_version: str,
    find_cohort: Callable[[str], Cohort],
) -> tuple[GateResult, HoldOutMetrics | None]:
    """The gate's verdict on ``model`` against the champion; logs the drift."""
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    champion_entry = client.get_model_version(name, champion_version)
    data_hash = champion_entry.tags.get("data_hash", "")
    try:
        reference = find_cohort(data_hash)
    except LOOKUP_ERRORS as error:
        return refuse(
            "champion_data",
            f"the training data of champion v{champion_version} (cohort version "
            f"{data_hash[:SHORT_HASH] or 'unrecorded'}) cannot be found, so there "
            f"is no hold-out to compare on: {error}",
        ), None
    log_cohort(reference, name=f"champion v{champion_version}'s cohort",
               use="champion training")  # fmt: skip
    champion = load_version(config, champion_version)
    verdict = assess(
        cohort, cv, model, champion=champion, reference=reference, config=config
    )
    log_drift(client, run_id, verdict.drift)
    return verdict.gate, verdict.holdout


def load_version(config: Config, version: str) -> ResponderModel:
    """The bundle registered as ``version``, checked against its recorded digest
    (through the serving cache, as the service loads it)."""
    return load_registered_version(
        tracking_uri=config.tracking.uri,
        model_name=config.tracking.registered_model,
        version=version,
        cache_dir=config.serving.cache_dir,
    )


def decide(
    config: Config,
    version: str,
    *,
    compared_with: str | None,
    gate: GateResult | None,
    by: str,
    reason: str,
) -> tuple[bool, str]:
    """Move the aliases for a registered challenger, under the promotion lock.

    Promotes only when the gate passed (or there was no champion) and the
    champion is still the one the gate compared against.
    """
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    with alias_section(client, tracking_uri=config.tracking.uri, name=name):
        current = alias_version(client, name, CHAMPION)
        promoted = current == compared_with and (gate is None or gate.passed)
        if current != compared_with:
            moved = f"moved to v{current}" if current else "was removed"
            why = f"champion {moved} during this retrain; run retrain again"
        elif gate is not None and not gate.passed:
            why = "gate failed: " + "; ".join(gate.reasons)
        else:
            why = f"{reason}: " + ("first model" if gate is None else "gate passed")
        decision = {
            "decision": CHAMPION if promoted else CHALLENGER,
            "decision_reason": why[:MAX_REASON],
        }
        if promoted:
            set_champion(client, name, version, by=by, reason=why, tags=decision)
        else:
            move_alias(client, name, CHALLENGER, version, by=by, reason=why,
                       tags=decision)  # fmt: skip
    return promoted, why


def gate_tags(
    gate: GateResult | None,
    holdout: HoldOutMetrics | None,
    *,
    compared_with: str | None,
) -> dict[str, str]:
    """Version tags: the gate's result, its reasons and the headline metrics."""
    if gate is None:
        return {"gate": "skipped", "gate_reasons": "no champion to compare with"}
    tags = {
        "gate": "passed" if gate.passed else "failed",
        "gate_reasons": "; ".join(gate.reasons)[:_MAX_TAG] or "all checks passed",
        "compared_with": str(compared_with),
    }
    if holdout is not None:
        tags["holdout_episodes"] = str(holdout.n)
        for side in ("champion", "challenger"):
            value = getattr(holdout, f"auroc_{side}").value
            if value is not None:
                tags[f"holdout_auroc_{side}"] = f"{value:.4f}"
    return tags


def log_gate(
    client: mlflow.MlflowClient,
    run_id: str,
    gate: GateResult,
    holdout: HoldOutMetrics | None,
) -> None:
    """Gate metrics on the run (``gate_passed``, one ``gate.<check>`` per check,
    ``holdout_*``) and ``gate.json`` (checks and per-drug comparisons)."""
    metrics = {"gate_passed": float(gate.passed)}
    metrics |= {f"gate.{c.name}": c.value for c in gate.checks if c.value is not None}
    if holdout is not None:
        for key, value in asdict(holdout).items():
            if isinstance(value, dict):  # an Estimate: log its value
                value = value.get("value")
            if isinstance(value, int | float):
                metrics[f"holdout_{key}"] = value
        if holdout.calibration is not None:
            difference = holdout.calibration.difference
            metrics["holdout_calibration_difference"] = difference
    stamp = int(time.time() * 1000)
    client.log_batch(
        run_id, metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items()]
    )
    document = {
        "passed": gate.passed,
        "checks": [asdict(c) for c in gate.checks],
        "holdout": None if holdout is None else asdict(holdout),
    }
    client.log_dict(run_id, document, "gate.json")
