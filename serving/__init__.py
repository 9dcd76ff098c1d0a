"""The HTTP scoring service (BentoML): profile in, ranked drugs out."""

from serving._auth import MissingApiTokenError, require_token_beyond_loopback
from serving._schemas import (
    CvMetricsOut,
    DrugModelOut,
    DrugScoreOut,
    ExplainRequest,
    ExplainResponse,
    FeatureContributionOut,
    ModelInfo,
    ReloadErrorOut,
    ReloadOut,
    ReportRequest,
    ScoreBatchRequest,
    ScoreBatchResponse,
    ScoreRequest,
    ScoreResponse,
)
from serving._settings import ServingSettings

__all__ = [
    "CvMetricsOut",
    "DrugModelOut",
    "DrugScoreOut",
    "ExplainRequest",
    "ExplainResponse",
    "FeatureContributionOut",
    "MissingApiTokenError",
    "ModelInfo",
    "ReloadErrorOut",
    "ReloadOut",
    "ReportRequest",
    "ScoreBatchRequest",
    "ScoreBatchResponse",
    "ScoreRequest",
    "ScoreResponse",
    "ServingSettings",
    "require_token_beyond_loopback",
]
