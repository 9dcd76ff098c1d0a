"""The registry: one version per bundle, the aliases that name the champion, the
previous champion and the last challenger, and the audit log of every move."""

from __future__ import annotations

import getpass
import json
import logging
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException

from models import (
    BUNDLE_ARTIFACT,
    BUNDLE_DIGEST_TAG,
    BUNDLE_PATH_TAG,
    FORMAT_VERSION,
    ResponderModel,
    alias_version,
    bundle_digest,
    log_pyfunc_model,
)
from training.config import Config, TrackingConfig
from training.registry._lineage import lineage_tags
from training.registry._model_card import MODEL_CARD, model_card, registry_description
from training.registry._runs import client_for
from training.registry._transaction import (
    AUDIT_PREFIX,
    CHAMPION,
    PREVIOUS,
    ROLLED_BACK,
    AliasMove,
    alias_section,
    commit,
    current_aliases,
    plan_moves,
)

logger = logging.getLogger(__name__)

BUNDLE_FORMAT_TAG = "bundle_format"
TRAINED = "trained by rediscover train"  # why `train` makes its version champion


def champion_version(tracking: TrackingConfig) -> str | None:
    """The registry version the ``champion`` alias points at, or None."""
    return alias_version(client_for(tracking), tracking.registered_model, CHAMPION)


def champion_is_current(tracking: TrackingConfig, version: str) -> bool:
    """Whether the champion's bundle has the format this code reads and a
    recorded digest (without one, loaders refuse it).

    Versions registered before the ``bundle_format`` tag existed count as older.
    """
    mv = client_for(tracking).get_model_version(tracking.registered_model, version)
    return mv.tags.get(BUNDLE_FORMAT_TAG) == str(FORMAT_VERSION) and bool(
        mv.tags.get(BUNDLE_DIGEST_TAG)
    )


def register_bundle(
    config: Config,
    run_id: str,
    model: ResponderModel,
    *,
    cohort_summary: Mapping[str, Any] | None = None,
) -> str:
    """Log and register the bundle (`register_version`), then make it champion.

    The alias moves only after the version exists, so a failure anywhere before
    leaves the current champion in place; the champion it replaces becomes
    ``previous`` and the version's ``decision`` tag is set with the move, in one
    transaction (see `promote`).
    """
    version = register_version(
        config, run_id, model, cohort_summary=cohort_summary, tags={"gate": "none"},
    )  # fmt: skip
    decision = {"decision": CHAMPION, "decision_reason": TRAINED}
    promote(config, version, by=default_user(), reason=TRAINED, tags=decision)
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
    The version carries the bundle's digest (`models.bundle_digest`, which every
    loader checks), the data hash and source, the lineage tags
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
        digest = bundle_digest(bundle)
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
            BUNDLE_DIGEST_TAG: digest,
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
    tags: Mapping[str, str] | None = None,
) -> AliasMove:
    """Point ``name@alias`` at ``version``; record who, when and why.

    One transaction (see `training.registry._transaction`): the version gets tags
    ``<alias>_set_by``, ``<alias>_set_at`` and ``<alias>_reason`` (and ``tags``),
    and the registered model one audit tag ``audit/<time>-<id>`` holding the move
    as JSON (`audit_log` reads them back). Call it inside `alias_section` when the
    move depends on what was read.
    """
    transaction = plan_moves(
        current_aliases(client, name), [(alias, version)], by=by, reason=reason,
        version_tags={version: tags or {}},
    )  # fmt: skip
    moved = {m.alias: m for m in commit(client, name, transaction)}
    unchanged = AliasMove(
        alias, version, version, transaction.by, transaction.at, transaction.reason
    )
    return moved.get(alias, unchanged)


def audit_log(client: mlflow.MlflowClient, name: str) -> list[AliasMove]:
    """Every recorded alias move of registered model ``name``, oldest first."""
    try:
        tags = client.get_registered_model(name).tags
    except MlflowException:
        return []
    entries = [v for k, v in sorted(tags.items()) if k.startswith(AUDIT_PREFIX)]
    return [AliasMove(**json.loads(entry)) for entry in entries]


def set_champion(
    client: mlflow.MlflowClient,
    name: str,
    version: str,
    *,
    by: str,
    reason: str,
    tags: Mapping[str, str] | None = None,
) -> list[AliasMove]:
    """Make ``version`` champion; the champion it replaces becomes ``previous``.

    One transaction: the new champion is tagged ``previous_champion`` (so a later
    rollback knows where ``previous`` goes next) and ``tags``, and loses any other
    alias it held. Call inside `alias_section`.
    """
    aliases = current_aliases(client, name)
    old = aliases.get(CHAMPION)
    moves: list[tuple[str, str | None]] = [(CHAMPION, version)]
    version_tags = dict(tags or {})
    if old is not None and old != version:
        moves.insert(0, (PREVIOUS, old))
        version_tags["previous_champion"] = old
    transaction = plan_moves(
        aliases, moves, by=by, reason=reason, version_tags={version: version_tags}
    )
    return commit(client, name, transaction)


def promote(
    config: Config,
    version: str,
    *,
    by: str,
    reason: str,
    tags: Mapping[str, str] | None = None,
) -> list[AliasMove]:
    """Make ``version`` champion under the promotion lock (see `set_champion`).

    Raises
    ------
    ValueError
        ``version`` is not registered, or is champion already.
    """
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    with alias_section(client, tracking_uri=config.tracking.uri, name=name):
        _check_version(client, name, version)
        if alias_version(client, name, CHAMPION) == version:
            raise ValueError(f"version {version} is champion already")
        return set_champion(client, name, version, by=by, reason=reason, tags=tags)


def rollback(config: Config, *, by: str, reason: str) -> list[AliasMove]:
    """Put the ``previous`` version back as champion, under the promotion lock.

    One transaction: the replaced champion gets the alias ``rolled_back`` (with
    who, when, why); ``previous`` moves to the champion that preceded the restored
    one, or is removed when none did (or that one is the version rolled back).

    Raises
    ------
    ValueError
        No ``previous`` version (nothing to roll back to).
    """
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    with alias_section(client, tracking_uri=config.tracking.uri, name=name):
        aliases = current_aliases(client, name)
        target, current = aliases.get(PREVIOUS), aliases.get(CHAMPION)
        if target is None or target == current:
            raise ValueError(
                f"no previous version to roll back to (champion is {current}); "
                "use `rediscover promote VERSION` to choose one"
            )
        before = client.get_model_version(name, target).tags.get("previous_champion")
        moves = [(CHAMPION, target), (PREVIOUS, before)]
        if current is not None:
            moves.append((ROLLED_BACK, current))
        transaction = plan_moves(aliases, moves, by=by, reason=reason)
        return commit(client, name, transaction)


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
