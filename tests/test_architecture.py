"""Dependency direction: features <- models <- training; features, models <-
reporting; reporting <- serving and rediscover (the CLI), so the report is written
by the same code in both and the CLI never imports bentoml; serving <- rediscover,
whose `serve` checks the service's settings (the package, not its BentoML service,
imports no bentoml)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = {"features", "models", "training", "reporting", "serving", "rediscover"}
ALLOWED = {
    "features": set(),
    "models": {"features"},
    "training": {"features", "models"},
    "reporting": {"features", "models"},
    "serving": {"features", "models", "reporting"},
    "rediscover": {"features", "models", "training", "reporting", "serving"},
}
FORBIDDEN_THIRD_PARTY = {
    "features": {"mlflow", "bentoml", "shap", "xgboost"},
    # The report renders what models computed: no framework, no tracking.
    "reporting": {"mlflow", "bentoml", "shap", "xgboost", "starlette"},
}


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


# training's stages, each importing only the stages before it (explanation and
# registry share a floor and import neither each other nor anything above).
TRAINING_LAYERS: dict[str, int] = {
    "config": 0,
    "data": 1,
    "fitting": 2,
    "evaluation": 3,
    "explanation": 4,
    "registry": 4,
    "retraining": 5,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> set[str]:
    """Modules of this project that ``path`` imports (any ``from x import y`` also
    counts ``x.y``, which may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] in PROJECT}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for pkg in PROJECT for p in (REPO / pkg).rglob("*.py")}
    return {
        name: {m for m in project_imports(path) if m in paths and m != name}
        for name, path in paths.items()
    }


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "training" and len(parts) > 1 else None


def test_training_stages_import_only_earlier_stages() -> None:
    wrong = []
    for module, imports in import_graph().items():
        own = stage(module)
        if own is None:
            continue
        for target in imports:
            other = stage(target)
            if other is None or other == own:
                continue
            if TRAINING_LAYERS[other] >= TRAINING_LAYERS[own]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports up or across a layer:\n" + "\n".join(sorted(wrong))


def test_training_init_names_each_stage() -> None:
    init = REPO / "training" / "__init__.py"
    text = init.read_text()
    assert len(text.splitlines()) < 40
    for name in TRAINING_LAYERS:
        assert f"training.{name}" in text


def test_no_import_circle() -> None:
    graph = import_graph()
    # Deferred imports inside functions still count: a circle is a circle.
    visiting, done, cycles = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        visiting.add(node)
        for target in sorted(graph.get(node, ())):
            if target in visiting:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in done:
                visit(target, [*trail, target])
        visiting.discard(node)
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_the_layer_checker_sees_an_upward_import() -> None:
    graph = import_graph()
    assert "training.fitting" in graph["training.retraining._retrain"]
    assert stage("training.retraining._retrain") == "retraining"


# POSIX-only modules: the project runs where Python runs (file locks: filelock).
POSIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource"}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_posix_only_imports(package: str) -> None:
    posix = imported_top_levels(package) & POSIX_ONLY
    assert not posix, f"{package} imports POSIX-only {sorted(posix)}"


def test_the_serving_package_imports_no_bentoml() -> None:
    # `rediscover serve` imports it to check the settings; only serving.service,
    # which the CLI never imports, is the BentoML service.
    code = "import sys, serving; print('bentoml' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
    cli_imports = {
        m for p in (REPO / "rediscover").rglob("*.py") for m in project_imports(p)
    }
    assert "serving" in cli_imports
    assert "serving.service" not in cli_imports
