"""Serving settings: one frozen object built from the environment at service start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

MIN_TOKEN_LENGTH = 16
MiB = 1024 * 1024


class ServingSettings(BaseModel):
    """Where the service gets its model bundle from.

    A local bundle folder (``REDISCOVER_BUNDLE``) wins; then the bundle a Bento
    carries (``pinned_model``, found by the service, not in the environment);
    otherwise the bundle that
    ``REDISCOVER_MODEL_NAME@REDISCOVER_MODEL_ALIAS`` points at in the MLflow
    registry at ``MLFLOW_TRACKING_URI`` is downloaded into ``REDISCOVER_CACHE_DIR``,
    and the service follows the alias: it checks it every ``REDISCOVER_RELOAD_INTERVAL``
    seconds, and on ``POST /admin/reload`` with ``REDISCOVER_RELOAD_TOKEN``.
    ``REDISCOVER_API_TOKEN`` (or the file ``REDISCOVER_API_TOKEN_FILE`` names) is
    the bearer token the patient-data routes require (see :mod:`serving._auth`).
    ``REDISCOVER_MAX_BODY_BYTES`` and ``REDISCOVER_MAX_RESPONSE_BYTES`` bound what one
    request may send and ask for.
    """

    # Errors never echo the submitted value: it may be the reload token.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bundle: Path | None = Field(
        default=None,
        description="Local bundle folder to serve (REDISCOVER_BUNDLE).",
        examples=["models/bundles/gdsc-v17"],
    )
    pinned_model: str | None = Field(
        default=None,
        description="Tag of the bundle pinned into the Bento the service runs from "
        "(BentoML's model store); served as is, the registry is not followed.",
        examples=["rediscover-bundle:k3x2yqhq5kq4vfbp"],
    )
    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking/registry URI (MLFLOW_TRACKING_URI).",
        examples=["sqlite:///mlflow.db", "http://mlflow:5000"],
    )
    model_name: str = Field(
        default="rediscover",
        min_length=1,
        description="Registered model name (REDISCOVER_MODEL_NAME).",
        examples=["rediscover"],
    )
    alias: str = Field(
        default="champion",
        min_length=1,
        description="Registry alias to serve (REDISCOVER_MODEL_ALIAS).",
        examples=["champion", "challenger"],
    )
    cache_dir: Path = Field(
        default=Path(".cache/serving"),
        description="Where registry downloads are kept (REDISCOVER_CACHE_DIR).",
        examples=[".cache/serving"],
    )
    reload_interval_s: float = Field(
        default=30,
        ge=0,
        description="Seconds between checks of which version the registry alias "
        "points at; 0 disables them; ignored for a local bundle "
        "(REDISCOVER_RELOAD_INTERVAL).",
        examples=[30, 0],
    )
    max_body_bytes: int = Field(
        default=2 * MiB,
        ge=1024,
        le=64 * MiB,
        description="Largest request body accepted, in bytes; a larger one gets 413 "
        "before it is parsed. The default, 2 MiB, holds a 1,000-profile batch of "
        "typical panel profiles (~300 B each) several times over "
        "(REDISCOVER_MAX_BODY_BYTES).",
        examples=[2 * MiB],
    )
    max_response_bytes: int = Field(
        default=32 * MiB,
        ge=64 * 1024,
        description="Largest /score_batch response a request may ask for, in bytes, "
        "as estimated before scoring: profiles x drugs x (600 + 80 x top_k), "
        "generous against the ~475 bytes measured per drug score and ~75 per SHAP "
        "feature; a larger batch gets 400 naming `profiles` and how many fit "
        "(REDISCOVER_MAX_RESPONSE_BYTES).",
        examples=[32 * MiB],
    )
    max_batches: int = Field(
        default=2,
        ge=1,
        le=64,
        description="/score_batch requests one worker takes at once; they take turns, "
        "chunk by chunk, on the worker's batch thread, and one more gets 503 with "
        "Retry-After at once (REDISCOVER_MAX_BATCHES).",
        examples=[2],
    )
    max_requests: int = Field(
        default=64,
        ge=1,
        le=1024,
        description="/score, /explain and /report requests one worker takes at once "
        "(one scores, the rest wait their turn); one more gets 503 with Retry-After "
        "at once (REDISCOVER_MAX_REQUESTS).",
        examples=[64],
    )
    startup_wait_s: float = Field(
        default=300,
        ge=0,
        description="Seconds a starting worker waits for its bundle to load before "
        "it accepts connections, so a worker that replaces a lost one is warm before "
        "its first request; 0 accepts at once and answers 503 while loading "
        "(REDISCOVER_STARTUP_WAIT).",
        examples=[300, 0],
    )
    reload_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that POST /admin/reload requires, at least "
        f"{MIN_TOKEN_LENGTH} characters; unset, the endpoint answers 404 "
        "(REDISCOVER_RELOAD_TOKEN).",
        examples=["<output of secrets.token_urlsafe(32)>"],
    )

    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that /score, /score_batch, /explain, /report and "
        f"/model require, at least {MIN_TOKEN_LENGTH} characters; unset, they "
        "answer on loopback only (REDISCOVER_API_TOKEN, or the first line of the "
        "file REDISCOVER_API_TOKEN_FILE names).",
        examples=["<output of secrets.token_urlsafe(32)>"],
    )

    @model_validator(mode="after")
    def _require_a_source(self) -> ServingSettings:
        if self.bundle is None and self.pinned_model is None and not self.tracking_uri:
            raise ValueError(
                "no model source: set REDISCOVER_BUNDLE to a local bundle folder, "
                "or MLFLOW_TRACKING_URI (with optional REDISCOVER_MODEL_NAME and "
                "REDISCOVER_MODEL_ALIAS) to serve from the MLflow registry"
            )
        return self

    @model_validator(mode="after")
    def _refuse_a_short_token(self) -> ServingSettings:
        tokens = {
            "REDISCOVER_RELOAD_TOKEN": self.reload_token,
            "REDISCOVER_API_TOKEN": self.api_token,
        }
        for name, token in tokens.items():
            if token is not None and len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
                raise ValueError(
                    f"{name} is shorter than {MIN_TOKEN_LENGTH} characters; "
                    'generate one with `python -c "import secrets; '
                    'print(secrets.token_urlsafe(32))"`'
                )
        return self

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, pinned_model: str | None = None
    ) -> ServingSettings:
        """Build settings from environment variables (empty values count as unset)
        and the Bento's pinned model, if any."""
        names = {
            "bundle": "REDISCOVER_BUNDLE",
            "tracking_uri": "MLFLOW_TRACKING_URI",
            "model_name": "REDISCOVER_MODEL_NAME",
            "alias": "REDISCOVER_MODEL_ALIAS",
            "cache_dir": "REDISCOVER_CACHE_DIR",
            "reload_interval_s": "REDISCOVER_RELOAD_INTERVAL",
            "reload_token": "REDISCOVER_RELOAD_TOKEN",
            "max_body_bytes": "REDISCOVER_MAX_BODY_BYTES",
            "max_response_bytes": "REDISCOVER_MAX_RESPONSE_BYTES",
            "max_batches": "REDISCOVER_MAX_BATCHES",
            "max_requests": "REDISCOVER_MAX_REQUESTS",
            "startup_wait_s": "REDISCOVER_STARTUP_WAIT",
        }
        values = {field: environ.get(var, "").strip() for field, var in names.items()}
        values["pinned_model"] = pinned_model or ""
        values["api_token"] = _api_token(environ)
        return cls.model_validate({k: v for k, v in values.items() if v})


def _api_token(environ: Mapping[str, str]) -> str:
    """REDISCOVER_API_TOKEN, or the first line of the file REDISCOVER_API_TOKEN_FILE
    names (a mounted secret); "" when neither is set."""
    token = environ.get("REDISCOVER_API_TOKEN", "").strip()
    path = environ.get("REDISCOVER_API_TOKEN_FILE", "").strip()
    if token and path:
        raise ValueError(
            "set REDISCOVER_API_TOKEN or REDISCOVER_API_TOKEN_FILE, not both"
        )
    if not path:
        return token
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].strip():
        raise ValueError("the file REDISCOVER_API_TOKEN_FILE names has no token")
    return lines[0].strip()


def service_workers(environ: Mapping[str, str]) -> int:
    """How many worker processes serve: ``REDISCOVER_WORKERS``, else one per CPU
    this process may run on (each worker scores one request at a time and holds
    its own copy of the bundle)."""
    text = environ.get("REDISCOVER_WORKERS", "").strip()
    if not text:
        return len(os.sched_getaffinity(0))
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ValueError("REDISCOVER_WORKERS must be a whole number from 1 to 64")
    return int(text)
