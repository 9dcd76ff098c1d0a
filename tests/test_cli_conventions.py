"""The command line for scripts and people (issue 14): --version, defaults in
--help, exit codes with one-line errors, config discovery, a fast --help, and
plain `score` output with interval, domain and reason."""

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from models import DrugScore, FeatureContribution
from rediscover import cli
from rediscover._config_file import CONFIG_VARIABLE, find_config
from rediscover._exit_codes import ExitCode, ResourceUnavailableError, classify
from rediscover._model_commands import _describe_score
from rediscover.cli import main
from training.registry import LockTimeoutError

REPO = Path(__file__).resolve().parents[1]
BRAF_PROFILE = {
    "tumour_type": "melanoma",
    "alterations": [{"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
}


@pytest.fixture(autouse=True)
def _no_outside_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # The caller's environment must not choose the config or the registry.
    monkeypatch.delenv(CONFIG_VARIABLE, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def write_config(folder: Path, *, model: str = "rediscover") -> Path:
    """A config whose SQLite store and caches live in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mlflow.yml"
    config.write_text(
        f"tracking:\n  uri: sqlite:///{folder}/mlflow.db\n  registered_model: {model}\n"
        f"data:\n  cache_dir: cache\n  shipped_dir: {folder}/data\n"
        "serving:\n  cache_dir: serving-cache\n"
    )
    return config


def profile_file(folder: Path) -> Path:
    path = folder / "profile.json"
    path.write_text(json.dumps(BRAF_PROFILE))
    return path


def one_error_line(err: str) -> str:
    """The single line a known failure prints; no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


# --version and --help ---------------------------------------------------------


def test_version_prints_the_installed_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"rediscover {version('rediscover')}"


def every_parser() -> list[argparse.ArgumentParser]:
    """The top-level parser and every sub-command's, deferred ones included."""
    found, pending = [], [cli._parser()]
    while pending:
        parser = pending.pop()
        if isinstance(parser, cli._Parser):
            parser.define()
        found.append(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
    return found


def test_every_option_states_its_default() -> None:
    parsers = every_parser()
    assert len(parsers) > 15  # the walk reached the data and registry commands
    silent = []
    for parser in parsers:
        formatter = parser._get_formatter()
        chosen = {  # one of a required group must be given: no default
            id(action)
            for group in parser._mutually_exclusive_groups
            if group.required
            for action in group._group_actions
        }
        for action in parser._actions:
            if not action.option_strings or action.required or action.nargs == 0:
                continue  # positional, required, or a flag (--help, --json, ...)
            if id(action) in chosen:
                continue
            if isinstance(action, argparse._VersionAction):
                continue
            text = formatter._expand_help(action) if action.help else ""
            if "default" not in text:
                silent.append(f"{parser.prog} {action.option_strings[0]}")
    assert not silent, f"options whose --help hides the default: {silent}"


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["score"], ["SHAP features per explained drug (default: 5)", "(default: 10)"]),
        (["serve"], ["bind address (default: 127.0.0.1)", "port (default: 3000)"]),
        (["evaluate"], ["(default: grouped)", "(default: 20)"]),
        (["explain"], ["95% interval"]),
        ([], ["exit codes:", "3 environment", "REDISCOVER_CONFIG"]),
    ],
)
def test_help_shows_defaults_and_plain_percent_signs(
    command: list[str], shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in shown:
        assert text in out
    assert "%%" not in out


def test_help_imports_no_heavy_library() -> None:
    # In a fresh interpreter: this test process has long imported them all.
    heavy = ["mlflow", "xgboost", "sklearn", "pandas", "shap", "bentoml"]
    code = (
        "import sys; from rediscover.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


# Exit codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ValueError("bad value"), ExitCode.BAD_INPUT),
        (json.JSONDecodeError("bad", "{", 0), ExitCode.BAD_INPUT),
        (FileExistsError("taken"), ExitCode.BAD_INPUT),
        (FileNotFoundError("no data"), ExitCode.ENVIRONMENT),
        (ConnectionError("no network"), ExitCode.ENVIRONMENT),
        (LockTimeoutError("held"), ExitCode.ENVIRONMENT),
        (ResourceUnavailableError("no champion"), ExitCode.ENVIRONMENT),
        (KeyError("bug"), ExitCode.CRASH),
        (RuntimeError("bug"), ExitCode.CRASH),
    ],
)
def test_each_failure_has_its_exit_code(error: Exception, code: ExitCode) -> None:
    assert classify(error) is code


def test_mlflow_errors_are_the_registry_s_unless_the_input_is_malformed() -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import (
        INVALID_PARAMETER_VALUE,
        RESOURCE_DOES_NOT_EXIST,
    )

    missing = MlflowException("no such model", error_code=RESOURCE_DOES_NOT_EXIST)
    assert classify(missing) is ExitCode.ENVIRONMENT
    malformed = MlflowException("bad alias", error_code=INVALID_PARAMETER_VALUE)
    assert classify(malformed) is ExitCode.BAD_INPUT


def test_no_champion_exits_3_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert main(["--config", str(config), "score", str(profile_file(tmp_path))]) == 3
    line = one_error_line(capsys.readouterr().err)
    assert "no model rediscover@champion" in line and "rediscover train" in line


def test_an_unreachable_registry_exits_3_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    config = write_config(tmp_path)
    assert main(["--config", str(config), "score", str(profile_file(tmp_path))]) == 3
    line = one_error_line(capsys.readouterr().err)
    assert f"the registry at http://127.0.0.1:{port} could not give" in line


def test_missing_data_exits_3_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    (tmp_path / "shared").mkdir()  # the shared GDSC folder, without its files
    assert main(["--config", str(config), "data", "fetch", "gdsc"]) == 3
    assert "missing" in one_error_line(capsys.readouterr().err)


def test_bad_input_exits_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    base = ["--config", str(config), "score"]
    assert main([*base, str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such file" in one_error_line(capsys.readouterr().err)
    (tmp_path / "broken.json").write_text("{")
    assert main([*base, str(tmp_path / "broken.json")]) == 2
    one_error_line(capsys.readouterr().err)
    assert main(["--config", str(tmp_path / "nope.yml"), "history"]) == 2
    assert "--config" in one_error_line(capsys.readouterr().err)


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--split", "random"])
    assert exit_.value.code == 2
    assert "accepted: grouped, tumour-type" in capsys.readouterr().err


def test_an_unexpected_error_exits_4_and_verbose_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import training.registry

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(training.registry, "version_history", broken)
    config = write_config(tmp_path)
    assert main(["--config", str(config), "history"]) == 4
    line = one_error_line(capsys.readouterr().err)
    assert "unexpected KeyError" in line and "-v" in line
    assert main(["--config", str(config), "-v", "history"]) == 4
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1] == line


def test_exit_codes_reach_the_shell(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    config = write_config(tmp_path)
    command = [sys.executable, "-m", "rediscover", "--config", str(config), "score"]
    absent = subprocess.run(
        [*command, "absent.json"], capture_output=True, text=True, env=env
    )
    assert absent.returncode == 2
    one_error_line(absent.stderr)
    no_model = subprocess.run(
        [*command, str(profile_file(tmp_path))],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert no_model.returncode == 3
    one_error_line(no_model.stderr)


# Config discovery ---------------------------------------------------------------


def test_config_search_order(tmp_path: Path) -> None:
    project = tmp_path / "project"
    deeper = project / "a" / "b"
    deeper.mkdir(parents=True)
    checkout = tmp_path / "checkout"
    nearest, explicit, env = (
        write_config(project),
        write_config(tmp_path / "x"),
        write_config(tmp_path / "y"),
    )
    write_config(checkout)
    search = {"cwd": deeper, "checkout": checkout}
    assert find_config(explicit, from_environment=str(env), **search) == explicit
    assert find_config(None, from_environment=str(env), **search) == env
    assert find_config(None, from_environment=None, **search) == nearest
    outside = {"cwd": tmp_path / "x" / "..", "checkout": checkout}
    assert find_config(None, from_environment=None, **outside) == (
        checkout / "mlflow.yml"
    )


def test_no_config_names_every_place_searched(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    with pytest.raises(ResourceUnavailableError) as error:
        find_config(None, from_environment=None, cwd=tmp_path, checkout=checkout)
    message = str(error.value)
    assert "--config" in message and CONFIG_VARIABLE in message
    assert str(tmp_path) in message and str(checkout) in message
    assert classify(error.value) is ExitCode.ENVIRONMENT
    with pytest.raises(ResourceUnavailableError, match=CONFIG_VARIABLE):
        find_config(None, from_environment=str(tmp_path / "no.yml"), cwd=tmp_path)


def test_the_cli_finds_the_config_in_a_parent_folder_and_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(tmp_path / "project", model="parent-model")
    deeper = tmp_path / "project" / "sub" / "deeper"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    profile = str(profile_file(tmp_path))
    assert main(["score", profile]) == 3
    assert "parent-model@champion" in one_error_line(capsys.readouterr().err)

    monkeypatch.setenv(
        CONFIG_VARIABLE, str(write_config(tmp_path / "env", model="env-model"))
    )
    assert main(["score", profile]) == 3
    assert "env-model@champion" in one_error_line(capsys.readouterr().err)

    explicit = write_config(tmp_path / "explicit", model="explicit-model")
    assert main(["--config", str(explicit), "score", profile]) == 3
    assert "explicit-model@champion" in one_error_line(capsys.readouterr().err)


def test_an_invalid_config_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mlflow.yml"
    config.write_text("training:\n  cv_folds: one\n")
    assert main(["--config", str(config), "history"]) == 2
    assert "training.cv_folds" in one_error_line(capsys.readouterr().err)


# Plain score output -----------------------------------------------------------


def drug_score(**changes: object) -> DrugScore:
    fields: dict[str, object] = {
        "drug": "vemurafenib", "probability": 0.612, "raw_probability": 0.6,
        "base_rate": 0.3, "lift": 0.312, "interval": (0.48, 0.731),
        "prediction_set": (1,), "coverage": 0.9, "in_domain": True, "reason": None,
        "rank": 1, "n_training_samples": 200, "tumour_type_seen": True,
        "served_by": "per_drug", "matched_biomarker": None,
        "top_features": (FeatureContribution("mut:BRAF", 1.0, 0.85),),
    }  # fmt: skip
    return DrugScore(**(fields | changes))  # type: ignore[arg-type]


def test_plain_score_lines_show_interval_domain_and_reason() -> None:
    inside = _describe_score(drug_score())
    assert "p=0.612" in inside and "bin rate 95% 0.480-0.731" in inside
    assert "in domain" in inside and "reason" not in inside
    assert "mut:BRAF=1 (+0.85)" in inside
    outside = _describe_score(
        drug_score(in_domain=False, reason="tumour type not seen in training")
    )
    assert "OUT OF DOMAIN" in outside
    assert "reason: tumour type not seen in training" in outside


@pytest.mark.slow
def test_plain_score_prints_interval_domain_and_reason_per_drug(
    trained_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = trained_project
    unseen = tmp_path / "unseen.json"
    unseen.write_text(json.dumps([BRAF_PROFILE, BRAF_PROFILE | {"tumour_type": "x"}]))
    assert main(["--config", str(config), "score", str(unseen)]) == 0
    out = capsys.readouterr().out
    drug_lines = [line for line in out.splitlines() if "bin rate 95%" in line]
    assert len(drug_lines) == 4  # two drugs for each of two profiles
    assert all("p=" in line for line in drug_lines), out
    # The melanoma profile is in the training data's domain, tumour type x is not.
    assert [line.endswith("in domain") for line in drug_lines] == [1, 1, 0, 0]
    assert out.count("reason: tumour type 'x' not in") == 2

    # A model without the alias asked for: the registry's state, one line, exit 3.
    assert main(["--config", str(config), "score", str(unseen), "--alias", "b"]) == 3
    assert "no model rediscover@b" in one_error_line(capsys.readouterr().err)
