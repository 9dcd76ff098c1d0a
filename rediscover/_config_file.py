"""Which ``mlflow.yml`` a command reads, wherever it is run from."""

from __future__ import annotations

from pathlib import Path

from rediscover._exit_codes import ResourceUnavailableError

CONFIG_NAME = "mlflow.yml"
CONFIG_VARIABLE = "REDISCOVER_CONFIG"
# The checkout this package was installed from (an editable install); for a
# wheel this is site-packages, which holds no mlflow.yml.
CHECKOUT = Path(__file__).resolve().parents[1]
SEARCH_HELP = f"""\
config: --config FILE, else ${CONFIG_VARIABLE}, else {CONFIG_NAME} in the current
folder or the nearest parent folder holding one, else the {CONFIG_NAME} of the
checkout rediscover is installed from."""


def find_config(
    explicit: Path | None,
    *,
    from_environment: str | None,
    cwd: Path,
    checkout: Path = CHECKOUT,
) -> Path:
    """The config file: ``--config``, else ``$REDISCOVER_CONFIG``, else
    ``mlflow.yml`` in ``cwd`` or its nearest parent holding one, else the one of
    the ``checkout`` rediscover is installed from.

    Raises
    ------
    ValueError
        ``explicit`` (given on the command line) is not a file.
    ResourceUnavailableError
        ``$REDISCOVER_CONFIG`` is not a file, or no folder searched holds one;
        the message names every place searched.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise ValueError(f"--config {explicit}: no such file")
        return explicit
    if from_environment:
        path = Path(from_environment)
        if not path.is_file():
            raise ResourceUnavailableError(f"{CONFIG_VARIABLE}={path}: no such file")
        return path
    cwd = cwd.resolve()
    for folder in (cwd, *cwd.parents, checkout):
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    raise ResourceUnavailableError(
        f"no config file: --config not given, {CONFIG_VARIABLE} not set, no "
        f"{CONFIG_NAME} in {cwd} or any parent folder, nor in {checkout} (the "
        f"installed checkout); give --config FILE or set {CONFIG_VARIABLE}"
    )
