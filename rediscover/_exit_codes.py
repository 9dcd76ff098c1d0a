"""What ``rediscover`` exits with, and which failure gets which code.

Scripts branch on the code, people read the one-line message: a known failure
never prints a traceback unless ``--verbose`` asks for it.
"""

from __future__ import annotations

import enum
import sys

from pydantic import ValidationError


class ExitCode(enum.IntEnum):
    """The process exit codes, as ``rediscover --help`` documents them."""

    DONE = 0
    REFUSED = 1  # a gate said no: `retrain` trained a challenger, did not promote
    BAD_INPUT = 2  # usage, or a file, value or version the user named is wrong
    ENVIRONMENT = 3  # no champion, registry unreachable, data or config missing
    CRASH = 4  # none of the above: a bug, please report it with --verbose


EXIT_CODES_HELP = """\
exit codes:
  0  done
  1  refused by a gate (retrain: challenger registered, not promoted)
  2  bad input or usage (a field, value, file or version named on the command)
  3  environment: no champion model, registry unreachable, data or config
     missing, the promotion lock held by another process
  4  unexpected error (a bug); -v shows the traceback"""


class ResourceUnavailableError(RuntimeError):
    """Something the command needs around it is missing or unreachable: a
    champion model, the registry, a data set, the config file."""


def classify(error: BaseException) -> ExitCode:
    """The exit code for an exception that ended a command."""
    if isinstance(error, ValidationError | FileExistsError):
        return ExitCode.BAD_INPUT
    if isinstance(error, ResourceUnavailableError | OSError):
        # FileNotFoundError (missing data), ConnectionError, TimeoutError (a lock
        # held elsewhere, an unanswered server), PermissionError.
        return ExitCode.ENVIRONMENT
    if _is_registry_error(error):
        # A malformed name or alias is the user's; anything else (no such model,
        # store unreachable, database errors) is the registry's.
        if getattr(error, "error_code", None) == "INVALID_PARAMETER_VALUE":
            return ExitCode.BAD_INPUT
        return ExitCode.ENVIRONMENT
    if isinstance(error, ValueError):
        return ExitCode.BAD_INPUT
    return ExitCode.CRASH


def describe(error: BaseException) -> list[str]:
    """The message lines for ``error``: one per invalid field, else one."""
    if isinstance(error, ValidationError):
        return [
            f"{'.'.join(str(p) for p in item['loc']) or 'input'}: {item['msg']}"
            for item in error.errors(include_input=False)
        ]
    text = " ".join(str(error).split()) or type(error).__name__
    if classify(error) is ExitCode.CRASH:
        return [f"unexpected {type(error).__name__}: {text} (run with -v for details)"]
    return [text]


def _is_registry_error(error: BaseException) -> bool:
    """An MLflow error, or the registry database's driver failing to connect."""
    # Looked up, not imported: the CLI starts without loading mlflow, and their
    # exceptions can only have been raised once their modules were imported.
    mlflow = sys.modules.get("mlflow.exceptions")
    if mlflow is not None and isinstance(error, mlflow.MlflowException):
        return True
    sqlalchemy = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy is not None and isinstance(
        error, sqlalchemy.OperationalError | sqlalchemy.InterfaceError
    )
