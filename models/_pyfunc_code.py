"""MLflow's "model from code" file of the pyfunc model (see :mod:`models._pyfunc`).

``mlflow.pyfunc.log_model(python_model=<this file's path>)`` copies it into the
logged model, and MLflow runs it when the model is loaded; nothing imports it.
"""

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from models._bundle import ResponderModel
from models._pyfunc import (
    BUNDLE_ARTIFACT,
    VERSION_KEY,
    check_params,
    profiles_from_frame,
    ranked_table,
)


class RankedDrugsModel(PythonModel):
    """Rank every drug for each profile (a row of the input DataFrame).

    Input columns are the fields of :class:`features.Profile` (``alterations`` a
    list of ``{"kind", "gene", "protein_change", "partner_gene"}`` objects);
    params ``top_k``, ``explain_top`` and ``rank_by`` as in ``POST /score``.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Load and verify the bundle logged with the model."""
        self.model_ = ResponderModel.load(Path(context.artifacts[BUNDLE_ARTIFACT]))
        self.version_ = str((context.model_config or {}).get(VERSION_KEY, ""))

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """The ranked table of ``model_input``'s profiles (`ranked_table`)."""
        return ranked_table(
            self.model_, profiles_from_frame(model_input),
            version=self.version_, **check_params(params or {}),
        )  # fmt: skip


mlflow.models.set_model(RankedDrugsModel())
