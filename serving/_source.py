"""Where the served bundle comes from: a local folder, the bundle a Bento carries,
or the version a registry alias points at (in that order, see ServingSettings)."""

from __future__ import annotations

from models import ResponderModel, load_registered_bundle
from serving._pinned import load_pinned
from serving._settings import ServingSettings

LOCAL_VERSION = "local"


def load_bundle(settings: ServingSettings) -> tuple[ResponderModel, str]:
    """Load and verify the bundle the settings point at; return it and its version."""
    if settings.bundle is not None:
        return ResponderModel.load(settings.bundle), LOCAL_VERSION
    if settings.pinned_model is not None:
        return load_pinned(settings.pinned_model)
    if settings.tracking_uri is None:  # ServingSettings already refuses this
        raise ValueError("no model source configured")
    return load_registered_bundle(
        tracking_uri=settings.tracking_uri,
        model_name=settings.model_name,
        alias=settings.alias,
        cache_dir=settings.cache_dir,
    )


def follows_alias(settings: ServingSettings) -> bool:
    """Whether the service follows the registry alias (neither local nor pinned)."""
    return settings.bundle is None and settings.pinned_model is None
