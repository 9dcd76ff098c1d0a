"""Training, one sub-package per stage of a model's life; each layer imports only
the layers before it (``tests/test_architecture.py`` checks it):

- :mod:`training.config`: the typed, frozen config read from ``mlflow.yml``;
- :mod:`training.data`: cohort loaders, the simulator and the versioned store;
- :mod:`training.fitting`: cross-validation of the rate, biomarker, per-drug and
  pooled candidates, the choice between them, the fits, calibration and
  uncertainty, the bundle's explanation summaries;
- :mod:`training.evaluation`: splits, baselines, metrics and the report;
- :mod:`training.explanation`: the ``rediscover explain`` report;
- :mod:`training.registry`: MLflow runs, versions, aliases, history, model card;
- :mod:`training.retraining`: drift, the champion/challenger comparison, the gate.
"""

from training.config import Config, load_config

__all__ = ["Config", "load_config"]
