"""A registry command killed at any step leaves the registry consistent.

``train``, ``retrain``, ``promote`` and ``rollback`` run through
`rediscover.cli.main` on a real SQLite MLflow store, killed before each of their
MLflow writes in turn (``promote``, ``rollback``: every write; ``train``,
``retrain``: the first and the last of every stretch of writes of one kind, run
logging counting as one kind, so every boundary between steps). Killed means:
that write and every later one raise `Killed` (a BaseException, which no handler
of ours catches) instead of reaching the store, so nothing the command would do
on its way out (mark its run FAILED, finish its aliases) is stored, as after
SIGKILL; the locks the operating system would release on death are released as
it unwinds. `test_a_real_kill_*` SIGKILLs a real process.

After each kill the next registry command must find the aliases either as they
were or as an uninterrupted run leaves them, never in between, no alias
contradicting another, no run left RUNNING, and ``rollback`` must work.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import mlflow
import pytest

from rediscover.cli import main
from tests.conftest import write_cli_config
from tests.training.test_retrain import planted_batch
from training.config import Config, load_config
from training.data import append_cohort
from training.registry import client_for, current_aliases

# The MlflowClient methods that write to the model registry, or end a run.
REGISTRY_WRITES = {
    "create_registered_model", "create_model_version", "set_registered_model_alias",
    "delete_registered_model_alias", "set_model_version_tag",
    "delete_model_version_tag", "set_registered_model_tag",
    "delete_registered_model_tag", "set_terminated",
}  # fmt: skip
# Every MlflowClient method our commands write with.
WRITES = (
    "create_registered_model", "create_model_version", "set_registered_model_alias",
    "delete_registered_model_alias", "set_model_version_tag",
    "delete_model_version_tag", "set_registered_model_tag",
    "delete_registered_model_tag", "create_run", "log_batch", "log_artifact",
    "log_artifacts", "log_dict", "log_text", "log_metric", "log_param", "set_tag",
    "set_terminated",
)  # fmt: skip
JOURNAL_TAG = "pending_alias_moves"
REDISCOVER = Path(sys.executable).parent / "rediscover"


class Killed(BaseException):
    """The process died before this MLflow write."""


class Project(NamedTuple):
    """A project folder: its config file, config and cohort store."""

    config_file: Path
    config: Config
    store: Path

    def run(self, *command: str) -> int:
        """``rediscover --config FILE COMMAND ...``, in this process."""
        return main(["--config", str(self.config_file), *command])


def _project(folder: Path) -> Project:
    config_file = write_cli_config(folder, n_estimators=20)
    return Project(config_file, load_config(config_file), folder / "store")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A registry with history, and new data: v1 and v2 trained on the first
    300 patients, v2 champion and v1 previous; 200 more patients appended."""
    project = _project(tmp_path_factory.mktemp("template"))
    append_cohort(project.store, planted_batch(0, 300, seed=1), source="first")
    for _ in range(2):
        assert project.run("train", "--data", str(project.store)) == 0
    append_cohort(project.store, planted_batch(300, 200, seed=2), source="second")
    return project


def _copy(template: Project, folder: Path) -> Project:
    """The template's store and cohorts in ``folder`` (the artifacts stay where
    the store says they are: new runs write theirs under new run ids)."""
    folder.mkdir()
    shutil.copy(template.config_file.with_name("mlflow.db"), folder / "mlflow.db")
    shutil.copytree(template.store, folder / "store")
    return _project(folder)


@contextmanager
def killed_at(step: int | None) -> Iterator[list[str]]:
    """Kill this process (see the module doc) before its ``step``-th MLflow
    write; None never kills. Yields the names of the writes attempted."""
    writes: list[str] = []
    patch = pytest.MonkeyPatch()
    for name in WRITES:
        original = getattr(mlflow.MlflowClient, name)

        def write(
            client: Any, *args: Any, _name: str = name, _original: Any = original,
            **kwargs: Any,
        ) -> Any:  # fmt: skip
            writes.append(_name)
            if step is not None and len(writes) >= step:
                raise Killed(f"killed before write {step} ({_name})")
            return _original(client, *args, **kwargs)

        patch.setattr(mlflow.MlflowClient, name, write)
    try:
        yield writes
    finally:
        patch.undo()


def kill_points(writes: list[str], *, every: bool) -> list[int]:
    """The steps to kill at, numbered from 1: every write, or the first and last
    of each stretch of writes of one kind (see the module doc)."""
    kinds = [w if w in REGISTRY_WRITES else "run logging" for w in writes]
    if every:
        return list(range(1, len(writes) + 1))
    edges = zip([None, *kinds[:-1]], kinds, [*kinds[1:], None], strict=True)
    return [
        step
        for step, (before, kind, after) in enumerate(edges, start=1)
        if not before == kind == after
    ]


def _remember(patch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    # The fitting and the gate's statistics are deterministic and the same at
    # every step: computed once, so the steps cost only the registry's work.
    original, memo = getattr(module, name), []

    def remembered(*args: Any, **kwargs: Any) -> Any:
        if not memo:
            memo.append(original(*args, **kwargs))
        return memo[0]

    patch.setattr(module, name, remembered)


def _aliases(project: Project) -> dict[str, str]:
    client = client_for(project.config.tracking)
    return current_aliases(client, project.config.tracking.registered_model)


def _check_consistent(
    project: Project, *, before: dict[str, str], after: dict[str, str], step: int
) -> dict[str, str]:
    """Recover as the next command does, then check the registry; returns the
    aliases."""
    assert project.run("history", "--json") == 0  # the next command recovers
    client = client_for(project.config.tracking)
    name = project.config.tracking.registered_model
    aliases = _aliases(project)
    assert aliases in (before, after), f"step {step}: half-moved {aliases}"
    assert JOURNAL_TAG not in client.get_registered_model(name).tags
    others = {a: v for a, v in aliases.items() if a != "champion"}
    assert aliases["champion"] not in others.values(), f"step {step}: {aliases}"
    assert "previous" not in aliases or aliases["previous"] != aliases.get(
        "rolled_back"
    )
    experiment = client.get_experiment_by_name(project.config.tracking.experiment)
    assert experiment is not None
    running = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    assert running == [], f"step {step}: runs left RUNNING"
    for entry in client.search_model_versions(f"name = '{name}'"):
        version, decision = str(entry.version), entry.tags.get("decision")
        if int(version) <= 2:  # the template's
            continue
        for alias in ("champion", "challenger"):  # the decision and its alias agree
            assert (decision == alias) == (aliases.get(alias) == version), step
        if version not in aliases.values():
            assert decision == "interrupted", f"step {step}: v{version}"
    return aliases


def _check_rollback(project: Project, aliases: dict[str, str]) -> None:
    """``rollback`` puts ``previous`` back, or (none) refuses and changes nothing."""
    code = project.run("rollback", "--reason", "after a crash")
    if "previous" not in aliases:  # a finished rollback to the first champion
        assert (code, _aliases(project)) == (2, aliases)
        return
    assert code == 0
    restored = _aliases(project)
    assert restored["champion"] == aliases["previous"]
    assert restored["rolled_back"] == aliases["champion"]


def _kill_at_every_step(
    template: Project,
    tmp_path: Path,
    command: Callable[[Project], list[str]],
    *,
    code: int = 0,
    every: bool = True,
    remember: Callable[[pytest.MonkeyPatch], None] | None = None,
) -> list[str]:
    """Run ``command`` killed at each of its writes in turn, checking the
    registry and ``rollback`` after each; returns the writes of a whole run."""
    before = _aliases(template)
    patch = pytest.MonkeyPatch()
    if remember is not None:
        remember(patch)
    try:
        whole = _copy(template, tmp_path / "whole")
        with killed_at(None) as writes:
            assert whole.run(*command(whole)) == code
        after = _aliases(whole)
        assert after != before
        for step in kill_points(writes, every=every):
            project = _copy(template, tmp_path / f"step-{step}")
            with killed_at(step), pytest.raises(Killed):
                project.run(*command(project))
            aliases = _check_consistent(project, before=before, after=after, step=step)
            _check_rollback(project, aliases)
    finally:
        patch.undo()
    return writes


def test_train_killed_at_every_step(template: Project, tmp_path: Path) -> None:
    import training.fitting

    writes = _kill_at_every_step(
        template, tmp_path, lambda p: ["train", "--data", str(p.store)],
        every=False,
        remember=lambda patch: _remember(patch, training.fitting, "train_bundle"),
    )  # fmt: skip
    assert writes.count("set_registered_model_alias") == 2  # previous, champion


def test_retrain_killed_at_every_step(template: Project, tmp_path: Path) -> None:
    import training.retraining._retrain as retraining

    def remember(patch: pytest.MonkeyPatch) -> None:
        for name in ("cross_validate_cohort", "train_bundle", "assess"):
            _remember(patch, retraining, name)

    writes = _kill_at_every_step(
        template, tmp_path, lambda p: ["retrain", "--data", str(p.store)],
        every=False, remember=remember,
    )  # fmt: skip
    assert writes.count("set_registered_model_alias") == 2


def test_promote_killed_at_every_step(template: Project, tmp_path: Path) -> None:
    # v1 back: previous -> 2, champion -> 1.
    writes = _kill_at_every_step(
        template, tmp_path, lambda p: ["promote", "1", "--reason", "crash test"]
    )
    assert writes[0] == "set_registered_model_tag"  # the journal comes first
    assert writes[-1] == "delete_registered_model_tag"  # and goes last


def test_rollback_killed_at_every_step(template: Project, tmp_path: Path) -> None:
    # champion -> 1, rolled_back -> 2, previous removed (v1 had none).
    writes = _kill_at_every_step(
        template, tmp_path, lambda p: ["rollback", "--reason", "crash test"]
    )
    assert writes.count("delete_registered_model_alias") == 1


# -- real processes ----------------------------------------------------------------

# Runs `rediscover ARGS...` and SIGKILLs itself before the COUNT-th write with the
# MlflowClient method METHOD: python -c SCRIPT METHOD COUNT ARGS...
_KILL_AT_WRITE = """
import os, signal, sys
import mlflow
from rediscover.cli import main

method, count, seen = sys.argv[1], int(sys.argv[2]), []
original = getattr(mlflow.MlflowClient, method)
def write(client, *args, **kwargs):
    seen.append(1)
    if len(seen) == count:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(client, *args, **kwargs)
setattr(mlflow.MlflowClient, method, write)
sys.exit(main(sys.argv[3:]))
"""


def test_a_real_kill_between_the_alias_moves_is_finished_by_the_next_command(
    template: Project, tmp_path: Path
) -> None:
    project = _copy(template, tmp_path / "project")
    before = _aliases(project)
    # SIGKILL once `previous` has moved to v2, before `champion` moves to v3:
    # where a kill once left `previous` on the champion.
    command = [sys.executable, "-c", _KILL_AT_WRITE, "set_registered_model_alias"]
    command += ["2", "--config", str(project.config_file), "train"]
    command += ["--data", str(project.store)]
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        command, env=os.environ | {"PYTHONPATH": root}, capture_output=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert _aliases(project) == {"champion": "2", "previous": "2"}  # half-moved
    client = client_for(project.config.tracking)
    experiment = client.get_experiment_by_name(project.config.tracking.experiment)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED", "RUNNING"]

    after = {"champion": "3", "previous": "2"}
    aliases = _check_consistent(project, before=before, after=after, step=0)
    assert aliases == after
    (killed,) = [r for r in client.search_runs([experiment.experiment_id])
                 if r.info.status == "FAILED"]  # fmt: skip
    assert "killed" in killed.data.tags["failed_because"]
    version = client.get_model_version(project.config.tracking.registered_model, "3")
    assert version.tags["decision"] == "champion"
    assert version.tags["previous_champion"] == "2"
    _check_rollback(project, aliases)
