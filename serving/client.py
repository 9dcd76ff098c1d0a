"""A typed Python client for a running rediscover service.

A thin wrapper around BentoML's :class:`bentoml.SyncHTTPClient`: each method takes
the service's own request model and returns its response model, so a bad request
fails here, naming the field, before anything is sent::

    from features import Alteration, Profile
    from serving import ScoreRequest
    from serving.client import RediscoverClient

    braf = Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
    profile = Profile(tumour_type="melanoma", alterations=(braf,))
    with RediscoverClient("http://127.0.0.1:3000") as client:
        ranked = client.score(ScoreRequest(profile=profile, top_k=3))
        print(ranked.results[0].drug, ranked.results[0].probability)
"""

from __future__ import annotations

from types import TracebackType

import bentoml

from serving._schemas import (
    ExplainRequest,
    ExplainResponse,
    ScoreBatchRequest,
    ScoreBatchResponse,
    ScoreRequest,
    ScoreResponse,
)


class RediscoverClient:
    """Score, batch-score and explain against the service at ``url``.

    ``token`` is sent as ``Authorization: Bearer`` when given; ``timeout`` bounds
    each request in seconds. Connecting waits for the service's schema, so it
    fails at once when nothing listens at ``url``. An error status from the
    service raises :class:`bentoml.exceptions.BentoMLException` with its message.
    """

    def __init__(
        self, url: str, *, token: str | None = None, timeout: float = 60
    ) -> None:
        self._http = bentoml.SyncHTTPClient(url, token=token, timeout=timeout)

    def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Every drug ranked for one profile (``POST /score``)."""
        answer = self._http.call("score", request.model_dump(mode="json"))
        return ScoreResponse.model_validate(answer)

    def score_batch(self, request: ScoreBatchRequest, /) -> ScoreBatchResponse:
        """Every drug ranked for each profile, in order (``POST /score_batch``)."""
        answer = self._http.call("score_batch", request.model_dump(mode="json"))
        return ScoreBatchResponse.model_validate(answer)

    def explain(self, request: ExplainRequest, /) -> ExplainResponse:
        """One drug's score for one profile explained (``POST /explain``)."""
        answer = self._http.call("explain", request.model_dump(mode="json"))
        return ExplainResponse.model_validate(answer)

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()
        # bentoml 1.4.40's close() leaves the client's download folder for the
        # garbage collector, which warns (ResourceWarning) when it removes it.
        self._http._temp_dir.cleanup()

    def __enter__(self) -> RediscoverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
