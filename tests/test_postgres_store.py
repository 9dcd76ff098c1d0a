"""MLflow on a PostgreSQL backend store: train, register, alias, load."""

from pathlib import Path

import pytest
import sqlalchemy

from models import load_registered_bundle
from rediscover.cli import main
from tests.conftest import write_planted_project


def test_train_on_postgres_registers_a_champion_the_service_loads(
    postgres_tracking_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, cohort = write_planted_project(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", postgres_tracking_uri)
    command = ["--config", str(config), "train", "--data", str(cohort)]

    assert main(command) == 0
    assert "registered rediscover version 1 as champion" in capsys.readouterr().out
    assert main(command) == 0
    assert "registered rediscover version 2 as champion" in capsys.readouterr().out

    model, version = load_registered_bundle(
        tracking_uri=postgres_tracking_uri,
        model_name="rediscover",
        alias="champion",
        cache_dir=tmp_path / "download",
    )
    assert version == "2"
    assert model.drugs == ["olaparib", "vemurafenib"]
    vemurafenib = model.metadata.drugs["vemurafenib"].cv.auroc
    assert vemurafenib is not None and vemurafenib > 0.75  # the planted BRAF signal
    # The registry lives in PostgreSQL, not in the config's SQLite file.
    assert not (tmp_path / "mlflow.db").exists()
    engine = sqlalchemy.create_engine(postgres_tracking_uri)
    try:
        with engine.connect() as connection:
            aliases = connection.execute(
                sqlalchemy.text(
                    "SELECT alias, version FROM registered_model_aliases "
                    "WHERE name = 'rediscover'"
                )
            ).all()
            runs = connection.execute(
                sqlalchemy.text("SELECT status FROM runs ORDER BY start_time")
            ).scalars()
            assert sorted(runs) == ["FINISHED", "FINISHED"]
    finally:
        engine.dispose()
    assert dict(tuple(row) for row in aliases)["champion"] == 2
