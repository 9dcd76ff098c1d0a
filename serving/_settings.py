"""Serving settings: one frozen object built from the environment at service start."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ServingSettings(BaseModel):
    """Where the service gets its model bundle from.

    A local bundle folder (``REDISCOVER_BUNDLE``) wins; otherwise the bundle that
    ``REDISCOVER_MODEL_NAME@REDISCOVER_MODEL_ALIAS`` points at in the MLflow
    registry at ``MLFLOW_TRACKING_URI`` is downloaded into ``REDISCOVER_CACHE_DIR``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bundle: Path | None = Field(
        default=None,
        description="Local bundle folder to serve (REDISCOVER_BUNDLE).",
        examples=["models/bundles/gdsc-v17"],
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

    @model_validator(mode="after")
    def _require_a_source(self) -> ServingSettings:
        if self.bundle is None and not self.tracking_uri:
            raise ValueError(
                "no model source: set REDISCOVER_BUNDLE to a local bundle folder, "
                "or MLFLOW_TRACKING_URI (with optional REDISCOVER_MODEL_NAME and "
                "REDISCOVER_MODEL_ALIAS) to serve from the MLflow registry"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServingSettings:
        """Build settings from environment variables (empty values count as unset)."""
        names = {
            "bundle": "REDISCOVER_BUNDLE",
            "tracking_uri": "MLFLOW_TRACKING_URI",
            "model_name": "REDISCOVER_MODEL_NAME",
            "alias": "REDISCOVER_MODEL_ALIAS",
            "cache_dir": "REDISCOVER_CACHE_DIR",
        }
        values = {field: environ.get(var, "").strip() for field, var in names.items()}
        return cls.model_validate({k: v for k, v in values.items() if v})
