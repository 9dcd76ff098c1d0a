"""The registry: one version per bundle, the aliases that name the champion, the
previous champion and the last challenger, and the audit log of every move."""

from __future__ import annotations

import getpass
import json
import logging
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException

from models import (
    BUNDLE_ARTIFACT,
    BUNDLE_PATH_TAG,
    FORMAT_VERSION,
    ResponderModel,
    alias_version,
    log_pyfunc_model,
)
from training.config import Config, TrackingConfig
from training.registry._lineage import lineage_tags
from training.registry._lock import promotion_lock
from training.registry._model_card import MODEL_CARD, model_card, registry_description
from training.registry._runs import client_for

logger = logging.getLogger(__name__)

CHAMPION = "champion"
# MLflow keeps tag values up to 5,000 characters; the audit entry wraps the
# reason in JSON, so reasons are cut well below (the full gate is in gate.json).
MAX_REASON = 1000
BUNDLE_FORMAT_TAG = "bundle_format"
PREVIOUS = "previous"  # the champion before the current one: where rollback goes
CHALLENGER = "challenger"  # the last retrained version the gate did not promote
ROLLED_BACK = "rolled_back"  # the last champion a rollback replaced
AUDIT_PREFIX = "audit/"  # registered-model tags, one per alias move
TRAINED = "trained by rediscover train"  # why `train` makes its version champion


def champion_version(tracking: TrackingConfig) -> str | None:
    """The registry version the ``champion`` alias points at, or None."""
    return alias_version(client_for(tracking), tracking.registered_model, CHAMPION)


def champion_is_current(tracking: TrackingConfig, version: str) -> bool:
    """Whether the champion's bundle has the format this code reads.

    Versions registered before the ``bundle_format`` tag existed count as older.
    """
    mv = client_for(tracking).get_model_version(tracking.registered_model, version)
    return mv.tags.get(BUNDLE_FORMAT_TAG) == str(FORMAT_VERSION)


def register_bundle(
    config: Config,
    run_id: str,
    model: ResponderModel,
    *,
    cohort_summary: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
) -> str:
    """Log and register the bundle (`register_version`), then make it champion.

    The alias moves only after the version exists, so a failure anywhere before
    leaves the current champion in place; the champion it replaces becomes
    ``previous`` (see `promote`).
    """
    version = register_version(
        config, run_id, model, cohort_summary=cohort_summary, evaluation=evaluation,
        tags={"gate": "none", "decision": CHAMPION, "decision_reason": TRAINED},
    )  # fmt: skip
    promote(config, version, by=default_user(), reason=TRAINED)
    return version


def register_version(
    config: Config,
    run_id: str,
    model: ResponderModel,
    *,
    tags: Mapping[str, str] | None = None,
    cohort_summary: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
) -> str:
    """Log the bundle to the run as an MLflow pyfunc model and register it as a
    new version; move no alias. Call inside `tracked_run` (run ``run_id``).

    The pyfunc model (`models.log_pyfunc_model`) carries the bundle's files, so
    ``mlflow.pyfunc.load_model("models:/<name>@champion")`` works and the service
    downloads only the bundle (the version's ``bundle_path`` tag). The model card
    is logged to the run (``model_card.md``; outside the bundle, so the bundle's
    checksums stay its own) and its summary becomes the version's description.
    The version carries the data hash and source, the lineage tags
    (`training.registry.lineage_tags`) and ``tags``.
    """
    active = mlflow.active_run()
    if active is None or active.info.run_id != run_id:
        raise RuntimeError(f"register the bundle inside tracked_run (run {run_id})")
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    summary = cohort_summary or {}
    card = partial(
        model_card, model, config=config,
        cohort_summary=summary, evaluation=evaluation,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        bundle = model.save(Path(tmp) / BUNDLE_ARTIFACT)
        logged = log_pyfunc_model(model, bundle, version_label=f"run {run_id}")
        (Path(tmp) / MODEL_CARD).write_text(card())
        client.log_artifact(run_id, str(Path(tmp) / MODEL_CARD))
    artifacts = logged.flavors["python_function"]["artifacts"]
    _ensure_registered_model(client, name)
    version = client.create_model_version(
        name,
        source=logged.model_uri,  # models:/<model id>: MLflow links the two
        run_id=run_id,
        model_id=logged.model_id,
        description=registry_description(card(per_subgroup=False)),
        tags={
            "data_hash": model.metadata.data_hash,
            "data_source": model.metadata.data_source,
            "package_version": model.metadata.package_version,
            BUNDLE_FORMAT_TAG: str(model.metadata.format_version),
            BUNDLE_PATH_TAG: artifacts[BUNDLE_ARTIFACT]["path"],
            **lineage_tags(model, cohort_summary=summary),
            **(tags or {}),
        },
    )
    logger.info("registered %s version %s", name, version.version)
    return str(version.version)


def _ensure_registered_model(client: mlflow.MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(
                name, description="Per-drug responder models"
            )
        except MlflowException as error:
            # Another process created it in between: that is what we wanted.
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise


@dataclass(frozen=True)
class AliasMove:
    """One alias move, as recorded on the version and in the audit log."""

    alias: str
    version: str
    replaced: str | None  # the version the alias pointed at before, if any
    by: str
    at: str  # ISO 8601, UTC
    reason: str


def default_user() -> str:
    """Who moves an alias when ``--by`` is not given: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an anonymous container
        return "unknown"


def move_alias(
    client: mlflow.MlflowClient,
    name: str,
    alias: str,
    version: str,
    *,
    by: str,
    reason: str,
) -> AliasMove:
    """Point ``name@alias`` at ``version``; record who, when and why.

    The version gets tags ``<alias>_set_by``, ``<alias>_set_at`` and
    ``<alias>_reason``, and the registered model one audit tag
    ``audit/<time>-<id>`` holding the move as JSON (`audit_log` reads them back).
    Call it inside `promotion_lock` when the move depends on what was read.
    """
    reason = reason[:MAX_REASON]
    move = AliasMove(
        alias=alias,
        version=version,
        replaced=alias_version(client, name, alias),
        by=by,
        at=datetime.now(UTC).isoformat(timespec="microseconds"),
        reason=reason,
    )
    client.set_registered_model_alias(name, alias, version)
    tags = {
        f"{alias}_set_by": by,
        f"{alias}_set_at": move.at,
        f"{alias}_reason": reason,
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    stamp = datetime.fromisoformat(move.at).strftime("%Y%m%dT%H%M%S.%fZ")
    key = f"{AUDIT_PREFIX}{stamp}-{uuid.uuid4().hex[:6]}"
    client.set_registered_model_tag(name, key, json.dumps(asdict(move)))
    logger.info("%s@%s -> version %s (%s, by %s)", name, alias, version, reason, by)
    return move


def audit_log(client: mlflow.MlflowClient, name: str) -> list[AliasMove]:
    """Every recorded alias move of registered model ``name``, oldest first."""
    try:
        tags = client.get_registered_model(name).tags
    except MlflowException:
        return []
    entries = [v for k, v in sorted(tags.items()) if k.startswith(AUDIT_PREFIX)]
    return [AliasMove(**json.loads(entry)) for entry in entries]


def set_champion(
    client: mlflow.MlflowClient, name: str, version: str, *, by: str, reason: str
) -> list[AliasMove]:
    """Make ``version`` champion; the champion it replaces becomes ``previous``.

    ``previous`` moves first: a failure in between leaves the champion where it
    was. The new champion is tagged ``previous_champion`` so a later rollback
    knows where ``previous`` goes next. Call inside `promotion_lock`.
    """
    old = alias_version(client, name, CHAMPION)
    moves = []
    if old is not None and old != version:
        moves.append(move_alias(client, name, PREVIOUS, old, by=by, reason=reason))
        client.set_model_version_tag(name, version, "previous_champion", old)
    moves.append(move_alias(client, name, CHAMPION, version, by=by, reason=reason))
    return moves


def promote(config: Config, version: str, *, by: str, reason: str) -> list[AliasMove]:
    """Make ``version`` champion under the promotion lock (see `set_champion`).

    Raises
    ------
    ValueError
        ``version`` is not registered, or is champion already.
    """
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    with promotion_lock(config.tracking.uri, name=name):
        _check_version(client, name, version)
        if alias_version(client, name, CHAMPION) == version:
            raise ValueError(f"version {version} is champion already")
        return set_champion(client, name, version, by=by, reason=reason)


def rollback(config: Config, *, by: str, reason: str) -> list[AliasMove]:
    """Put the ``previous`` version back as champion, under the promotion lock.

    The replaced champion gets the alias ``rolled_back`` (with who, when, why);
    ``previous`` moves to the champion that preceded the restored one, or is
    removed when none did.

    Raises
    ------
    ValueError
        No ``previous`` version (nothing to roll back to).
    """
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    move = partial(move_alias, client, name, by=by, reason=reason)
    with promotion_lock(config.tracking.uri, name=name):
        target = alias_version(client, name, PREVIOUS)
        current = alias_version(client, name, CHAMPION)
        if target is None or target == current:
            raise ValueError(
                f"no previous version to roll back to (champion is {current}); "
                "use `rediscover promote VERSION` to choose one"
            )
        moves = [move(ROLLED_BACK, current)] if current is not None else []
        moves.append(move(CHAMPION, target))
        before = client.get_model_version(name, target).tags.get("previous_champion")
        if before and before != target:
            moves.append(move(PREVIOUS, before))
        else:
            client.delete_registered_model_alias(name, PREVIOUS)
        return moves


def _check_version(client: mlflow.MlflowClient, name: str, version: str) -> None:
    try:
        client.get_model_version(name, version)
    except MlflowException:
        known = sorted(
            int(v.version) for v in client.search_model_versions(f"name = '{name}'")
        )
        raise ValueError(
            f"{name} has no version {version!r}; registered versions: {known}"
        ) from None
