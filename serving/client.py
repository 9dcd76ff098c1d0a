"""A typed Python client for a running rediscover service.

A thin wrapper around an :class:`httpx.Client`: each method takes the service's
own request model and returns its response model, so a bad request fails here,
naming the field, before anything is sent::

    from features import Alteration, Profile
    from serving import ScoreRequest
    from serving.client import RediscoverClient

    braf = Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
    profile = Profile(tumour_type="melanoma", alterations=(braf,))
    with RediscoverClient("http://127.0.0.1:3000") as client:
        ranked = client.score(ScoreRequest(profile=profile, top_k=3))
        print(ranked.results[0].drug, ranked.results[0].probability)

(BentoML's ``SyncHTTPClient`` builds its request models from the service's OpenAPI
document; ours is written from the pydantic models themselves, so the client uses
those directly.)
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from serving._schemas import (
    ExplainRequest,
    ExplainResponse,
    ScoreBatchRequest,
    ScoreBatchResponse,
    ScoreRequest,
    ScoreResponse,
)

Answer = TypeVar("Answer", bound=BaseModel)


class ServiceError(RuntimeError):
    """The service answered with an error status: ``status_code``, its message
    (``error``), the request id it logged and, for a 400, the field errors."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.error = str(body.get("error", ""))
        self.request_id = body.get("request_id")
        self.detail = body.get("detail")
        super().__init__(f"{status_code}: {self.error}")


class RediscoverClient:
    """Score, batch-score and explain against the service at ``url``.

    ``token`` is sent as ``Authorization: Bearer`` when given; ``timeout`` bounds
    each request in seconds. An error status raises :class:`ServiceError`.
    """

    def __init__(
        self, url: str, *, token: str | None = None, timeout: float = 60
    ) -> None:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout)

    def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Every drug ranked for one profile (``POST /score``)."""
        return self._post("/score", request, ScoreResponse)

    def score_batch(self, request: ScoreBatchRequest, /) -> ScoreBatchResponse:
        """Every drug ranked for each profile, in order (``POST /score_batch``)."""
        return self._post("/score_batch", request, ScoreBatchResponse)

    def explain(self, request: ExplainRequest, /) -> ExplainResponse:
        """One drug's score for one profile explained (``POST /explain``)."""
        return self._post("/explain", request, ExplainResponse)

    def _post(self, route: str, request: BaseModel, answer: type[Answer]) -> Answer:
        body = request.model_dump(mode="json", exclude_none=True)
        response = self._http.post(route, json=body)
        if response.is_error:
            raise ServiceError(response.status_code, response.json())
        return answer.model_validate_json(response.content)

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()

    def __enter__(self) -> RediscoverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
