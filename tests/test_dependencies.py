"""Declared dependencies: everything imported is declared in pyproject.toml, and the
lock files (``make lock``) pin every declared package, with hashes, within its
lower bound."""

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PROJECT = {"features", "models", "training", "reporting", "serving", "rediscover"}
DEVELOPMENT = {"tests", "benchmarks", "scripts"}
# pydantic pins pydantic-core to one exact version: a declaration of our own could
# only disagree with it.
COMES_WITH = {"pydantic-core": "pydantic"}
# Markers as on the oldest Python the project supports.
ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.0"}

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(r) for r in PYPROJECT["dependencies"]]
TEST = [Requirement(r) for r in PYPROJECT["optional-dependencies"]["test"]]


@functools.cache
def installed_providers() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def imported_distributions(folders: set[str]) -> dict[str, set[str]]:
    """Third-party module -> the installed distributions that provide it."""
    modules: set[str] = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif (
                    isinstance(node, ast.ImportFrom) and node.module and not node.level
                ):
                    modules.add(node.module.split(".")[0])
    providers = installed_providers()
    # Scripts import their siblings by name (run as files, their folder is first
    # on the path).
    siblings = {p.stem for d in ("scripts", "benchmarks") for p in (REPO / d).iterdir()}
    local = PROJECT | DEVELOPMENT | siblings
    third_party = modules - set(sys.stdlib_module_names) - local
    return {
        module: {canonicalize_name(d) for d in providers.get(module, [])}
        for module in third_party
    }


def declared(requirements: list[Requirement]) -> set[str]:
    """Names declared, with what a declared extra (``dask[distributed]``) brings."""
    names = {canonicalize_name(r.name) for r in requirements}
    for requirement in requirements:
        for extra in requirement.extras:
            for text in importlib.metadata.requires(requirement.name) or []:
                brought = Requirement(text)
                if brought.marker and brought.marker.evaluate({"extra": extra}):
                    names.add(canonicalize_name(brought.name))
    return names


@pytest.mark.parametrize(
    ("folders", "requirements"),
    [(PROJECT, RUNTIME), (DEVELOPMENT, RUNTIME + TEST)],
    ids=["package", "tests-and-tools"],
)
def test_every_imported_package_is_declared(
    folders: set[str], requirements: list[Requirement]
) -> None:
    names = declared(requirements)
    undeclared = {
        module: providers
        for module, providers in imported_distributions(folders).items()
        if not {COMES_WITH.get(p, p) for p in providers} & names
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_the_walk_sees_third_party_imports() -> None:
    found = imported_distributions({"serving"})
    assert {"bentoml", "starlette", "pydantic"} <= set(found)
    assert found["bentoml"] == {"bentoml"}
    assert "scipy" not in declared([r for r in RUNTIME if r.name != "scipy"])


def locked(lock: str) -> dict[str, Version]:
    """Package -> pinned version on Python 3.11, refusing a pin without a hash."""
    pins: dict[str, Version] = {}
    text = (REPO / lock).read_text()
    for entry in re.split(r"\n(?=\S)", text):
        if entry.startswith("#") or not entry.strip():
            continue
        requirement = Requirement(entry.split(" \\\n")[0].split(" \\")[0])
        if requirement.marker and not requirement.marker.evaluate(ENVIRONMENT):
            continue
        assert "--hash=sha256:" in entry, f"{lock}: {requirement.name} has no hash"
        (pin,) = requirement.specifier
        assert pin.operator == "==", f"{lock}: {requirement.name} is not pinned"
        pins[canonicalize_name(requirement.name)] = Version(pin.version)
    return pins


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [("requirements.txt", RUNTIME), ("requirements-test.txt", RUNTIME + TEST)],
)
def test_the_lock_pins_every_declared_package_within_its_bound(
    lock: str, requirements: list[Requirement]
) -> None:
    pins = locked(lock)
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name]), (
            f"{lock} pins {name} {pins[name]}, outside pyproject.toml's "
            f"{requirement.specifier}: run `make lock`"
        )


def test_tests_run_on_the_versions_that_serve() -> None:
    serving, testing = locked("requirements.txt"), locked("requirements-test.txt")
    assert {name: testing.get(name) for name in serving} == serving
