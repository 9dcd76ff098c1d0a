"""The bundle as an MLflow pyfunc model: a DataFrame of profiles in, the ranked
table out (one row per profile x drug, the columns of `score_columns`).

MLflow loads it "from code" (``_pyfunc_code.py``, passed by path when the model
is logged), so nothing is pickled: the bundle travels as the model's artifact
files, checked against their SHA-256 when loaded, as everywhere else. Importing
this module does not import ``mlflow.pyfunc`` (the service imports ``models``).
"""

from __future__ import annotations

import shutil
import tempfile
import types
import typing
import warnings
from collections.abc import Mapping
from importlib.metadata import packages_distributions, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types.schema import (
    Array,
    ColSpec,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
)
from pydantic import BaseModel, ValidationError

from features import Alteration, Profile
from models._bundle import ResponderModel
from models._ranking import EXPLAIN_TOP, RANK_BY, rank_drugs
from models._score_table import SCORE_COLUMNS, score_columns

BUNDLE_ARTIFACT = "bundle"  # the artifact key (and folder name) of the bundle
VERSION_KEY = "model_version"  # model_config key: what the table's rows call it
CODE_FILE = Path(__file__).with_name("_pyfunc_code.py")
TOP_K = 5  # SHAP features per explained drug, as /score
# Table columns that may be missing (None): no sample id, in domain, no match.
OPTIONAL = frozenset(
    {"sample_id", "reason", "matched_class", "matched_alteration",
     "matched_evidence", "matched_on_label"}
)  # fmt: skip

# What the code shipped with the model (features, models) imports, by module.
REQUIRED_MODULES = ("mlflow", "numpy", "pandas", "pydantic", "scipy", "sklearn",
                    "xgboost")  # fmt: skip
_COLUMN_TYPES: dict[type, str] = {str: "string", float: "double", bool: "boolean"}


def log_pyfunc_model(
    model: ResponderModel, bundle: Path, *, version_label: str
) -> ModelInfo:
    """Log ``bundle`` (``model`` saved) as a pyfunc model of the active MLflow run.

    The model carries the bundle's files as its artifact, the code of
    ``features`` and ``models`` (so loading it needs no rediscover install), its
    signature (profile columns in, ranked table out, /score's parameters), an
    input example and the installed versions of what that code imports, pinned.
    ``version_label`` is what the table's ``model_version`` column says.
    """
    signature = ModelSignature(input_schema(), output_schema(), params=param_schema())
    with warnings.catch_warnings():
        # MLflow warns about its own agent types' hints when pyfunc is imported,
        # and pandas about MLflow comparing an input example's columns to a range.
        warnings.filterwarnings("ignore", "Any type hint is inferred as AnyType")
        warnings.filterwarnings("ignore", "Operation with range is deprecated")
        import mlflow.pyfunc

        with tempfile.TemporaryDirectory() as tmp:
            return mlflow.pyfunc.log_model(
                name="model", python_model=str(CODE_FILE),
                artifacts={BUNDLE_ARTIFACT: str(bundle)},
                code_paths=_code_copies(Path(tmp)), signature=signature,
                input_example=example_frame(),
                pip_requirements=pinned_requirements(),
                model_config={VERSION_KEY: version_label},
            )  # fmt: skip


def pinned_requirements() -> list[str]:
    """``name==version`` of the installed distribution of each required module."""
    providers = packages_distributions()
    # mlflow's module comes in three distributions: the module's namesake wins.
    names = sorted(
        {
            module if module in providers[module] else providers[module][0]
            for module in REQUIRED_MODULES
        }
    )
    return [f"{name}=={version(name)}" for name in names]


def _code_copies(folder: Path) -> list[str]:
    # The packages without their byte-code caches (compiled for this Python only).
    copies = []
    for package in ("features", "models"):
        source = Path(__file__).resolve().parents[1] / package
        target = folder / package
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(str(target))
    return copies


def ranked_table(
    model: ResponderModel,
    profiles: list[Profile],
    *,
    version: str,
    top_k: int = TOP_K,
    explain_top: int = EXPLAIN_TOP,
    rank_by: str = "evidence",
) -> pd.DataFrame:
    """One row per profile x drug, profiles numbered from 1, each one's drugs in
    rank order: `score_columns` of `rank_drugs`."""
    ranked = rank_drugs(
        model, profiles, top_k=top_k, explain_top=explain_top,
        rank_by=typing.cast("Any", rank_by),
    )  # fmt: skip
    meta = model.metadata
    about = {"model_version": version, "population": meta.population,
             "endpoint": meta.endpoint}  # fmt: skip
    columns = score_columns(profiles, ranked, first=1, model=about)
    # Missing values stay None (pandas would make an int column float, NaN).
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object) if name in OPTIONAL else values
            for name, values in columns.items()
        }
    )


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``top_k``, ``explain_top`` and ``rank_by``, checked; errors name the
    parameter and what is accepted."""
    counts = {
        "top_k": int(params.get("top_k", TOP_K)),
        "explain_top": int(params.get("explain_top", EXPLAIN_TOP)),
    }
    for name, count in counts.items():
        if count < 0:
            raise ValueError(f"params.{name}: must be 0 or more")
    rank_by = str(params.get("rank_by", "evidence"))
    if rank_by not in RANK_BY:
        raise ValueError(f"params.rank_by: must be one of {', '.join(RANK_BY)}")
    return {**counts, "rank_by": rank_by}


def profiles_from_frame(frame: pd.DataFrame) -> list[Profile]:
    """One :class:`Profile` per row; a missing value (None, NaN) is an absent
    field. A bad row raises ValueError naming its 1-based number and the field,
    never the value."""
    profiles = []
    for number, record in enumerate(frame.to_dict("records"), start=1):
        fields = {str(k): _plain(v) for k, v in record.items()}
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            profiles.append(Profile.model_validate(fields))
        except ValidationError as error:
            raise ValueError(f"profile {number}: {_problems(error)}") from None
    return profiles


def _plain(value: Any) -> Any:
    # MLflow's schema enforcement hands lists over as numpy arrays, flags as numpy
    # scalars; the profile schema is strict about types, so make them Python's.
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: p for k, v in value.items() if (p := _plain(v)) is not None}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


def _problems(error: ValidationError) -> str:
    # Locations are schema names and list positions, but an unknown key is the
    # sender's text: shown as <unknown key>, like the HTTP service does.
    problems = []
    for detail in error.errors(include_input=False):
        loc = [str(p) for p in detail["loc"]]
        if detail["type"] == "extra_forbidden":
            loc[-1] = "<unknown key>"
        problems.append(f"{'.'.join(loc)}: {detail['msg']}")
    return "; ".join(problems)


def input_schema() -> Schema:
    """The input columns: :class:`features.Profile`'s fields, one column each."""
    return Schema(
        [
            ColSpec(_mlflow_type(field.annotation), name, required=field.is_required())
            for name, field in Profile.model_fields.items()
        ]
    )


def output_schema() -> Schema:
    """The ranked table's columns (`score_columns`), typed."""
    feature = Object(
        [Property("feature", "string"), Property("value", "double", required=False),
         Property("shap", "double")]
    )  # fmt: skip
    types: dict[str, Any] = {
        "profile": "long", "rank": "long", "n_training_samples": "long",
        "matched_class": "long", "prediction_set": Array("long"),
        "top_features": Array(feature),
    }  # fmt: skip
    for name in ("in_domain", "tumour_type_seen", "matched_on_label"):
        types[name] = "boolean"
    for name in ("probability", "raw_probability", "base_rate", "lift",
                 "interval_low", "interval_high", "coverage"):  # fmt: skip
        types[name] = "double"
    return Schema(
        [
            ColSpec(types.get(name, "string"), name, required=name not in OPTIONAL)
            for name in SCORE_COLUMNS
        ]
    )


def param_schema() -> ParamSchema:
    """``top_k``, ``explain_top`` and ``rank_by``, with /score's defaults."""
    return ParamSchema(
        [
            ParamSpec("top_k", "long", TOP_K),
            ParamSpec("explain_top", "long", EXPLAIN_TOP),
            ParamSpec("rank_by", "string", "evidence"),
        ]
    )


def _mlflow_type(annotation: Any) -> Any:
    """The MLflow type of a profile field's annotation (optional parts dropped)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # constraints (e.g. a measurement's bounds)
        return _mlflow_type(args[0])
    if origin in (typing.Union, types.UnionType):
        return _mlflow_type(args[0])
    if origin is typing.Literal:
        return _COLUMN_TYPES[type(args[0])]
    if origin is tuple and issubclass(args[0], BaseModel):
        return Array(_object(args[0]))
    return _COLUMN_TYPES[annotation]


def _object(model: type[BaseModel]) -> Object:
    return Object(
        [
            Property(name, _mlflow_type(field.annotation), field.is_required())
            for name, field in model.model_fields.items()
        ]
    )


def example_frame() -> pd.DataFrame:
    """The input example: a BRAF V600E melanoma and a BCR-ABL1 leukaemia."""
    braf = Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
    fusion = Alteration(kind="fusion", gene="BCR", partner_gene="ABL1")
    profiles = [
        Profile(tumour_type="melanoma", alterations=(braf,), msi_high=False),
        Profile(tumour_type="cml", alterations=(fusion,), tmb_mut_per_mb=1.5),
    ]
    return pd.DataFrame(
        [p.model_dump(mode="json", exclude_none=True) for p in profiles]
    )
