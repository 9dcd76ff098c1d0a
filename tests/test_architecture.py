"""Dependency direction: features <- models <- training; features, models <- serving."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = {"features", "models", "training", "serving", "rediscover"}
ALLOWED = {
    "features": set(),
    "models": {"features"},
    "training": {"features", "models"},
    "serving": {"features", "models"},
    "rediscover": {"features", "models", "training"},
}
FORBIDDEN_THIRD_PARTY = {"features": {"mlflow", "bentoml", "shap", "xgboost"}}


def imported_top_levels(package: str) -> set[str]:
    names = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_dependency_direction(package: str) -> None:
    imports = imported_top_levels(package)
    wrong = (imports & PROJECT) - ALLOWED[package] - {package}
    assert not wrong, f"{package} must not import {sorted(wrong)}"
    banned = imports & FORBIDDEN_THIRD_PARTY.get(package, set())
    assert not banned, f"{package} must not import {sorted(banned)}"


def test_the_checker_sees_imports() -> None:
    assert {"features", "models", "mlflow"} <= imported_top_levels("training")
