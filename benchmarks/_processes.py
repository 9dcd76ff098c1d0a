"""``bentoml serve`` processes on loopback, shared by the benchmarks and the tests
(`tests.servers`): start one in a session of its own, stop its whole group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil  # BentoML's dependency


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(target: str, port: int, *, host: str = "127.0.0.1") -> list[str]:
    """``bentoml serve TARGET`` (a service, or a Bento's tag) on ``host``."""
    serve = [sys.executable, "-m", "bentoml", "serve", target]
    return [*serve, "--host", host, "--port", str(port)]


@contextmanager
def spawned(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in a session of its own, its output written to
    ``log_path``; on exit, :func:`stop` it."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group and wait for it; SIGKILL whatever of it,
    or of its workers (each in a session of its own), is left after 30 s."""
    if process.poll() is not None:
        return
    workers = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for worker in workers:
        if worker.is_running():
            worker.kill()
    psutil.wait_procs(workers, timeout=10)
