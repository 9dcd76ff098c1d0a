"""``rediscover serve``: its settings checked, and no listening beyond loopback
without an API token (exit code 3), before ``bentoml serve`` is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from rediscover.cli import main

TOKEN = "serve-test-token-0123456789"


class _Executed(BaseException):
    """Raised by the stand-in for os.execve: the server would have started (not an
    Exception, which the CLI would report as a crash)."""


@pytest.fixture
def serve_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """``rediscover serve`` up to the moment it would exec ``bentoml serve``."""
    executed: list[list[str]] = []

    def execve(path: str, command: list[str], env: dict[str, str]) -> None:
        executed.append(command)
        raise _Executed

    monkeypatch.setattr("os.execve", execve)
    monkeypatch.chdir(tmp_path)
    for name in (
        "REDISCOVER_API_TOKEN",
        "REDISCOVER_API_TOKEN_FILE",
        "REDISCOVER_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
    return executed


def test_serve_refuses_a_public_host_without_a_token(
    serve_command: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 3
    err = capsys.readouterr().err
    assert "refusing to serve patient data on 0.0.0.0" in err
    assert "REDISCOVER_API_TOKEN" in err
    assert serve_command == []


def test_serve_starts_on_loopback_bare_and_beyond_it_with_a_token(
    serve_command: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(_Executed):
        main(["serve", "--host", "127.0.0.1"])
    monkeypatch.setenv("REDISCOVER_API_TOKEN", TOKEN)
    with pytest.raises(_Executed):
        main(["serve", "--host", "0.0.0.0"])
    assert [c[c.index("--host") + 1] for c in serve_command] == ["127.0.0.1", "0.0.0.0"]


def test_serve_refuses_a_short_token_as_bad_input(
    serve_command: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDISCOVER_API_TOKEN", "short-secret")
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert serve_command == []
