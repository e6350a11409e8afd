"""The processes the bench starts: gunicorn and a Celery worker, each in its own process group.

Every process is started in a new session so that stopping it also stops its children (gunicorn's
workers); ``Processes.stop_all`` runs from the orchestrator's ``finally``, on errors too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


class StackError(RuntimeError):
    """A process the bench needs did not start or did not answer."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tcp_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Started:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Processes:
    """The bench's child processes, stopped together."""

    started: list[Started] = field(default_factory=list)

    def start(self, name: str, command: list[str], *, env: dict, cwd: Path, log_path: Path) -> Started:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                command,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        item = Started(name, process, log_path)
        self.started.append(item)
        return item

    def stop(self, item: Started, timeout: float = 20.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL what is left."""
        process = item.process
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group (gunicorn workers)
        except (ProcessLookupError, PermissionError):
            pass
        if process.poll() is None:
            process.wait(timeout=10)
        if item in self.started:
            self.started.remove(item)

    def stop_all(self) -> None:
        for item in reversed(list(self.started)):
            self.stop(item)


def wait_for_http(item: Started, url: str, *, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail naming the process and its log if it never does."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if item.process.poll() is not None:
            raise StackError(
                f"{item.name} exited with {item.process.returncode} before {url} answered; "
                f"its log ({item.log_path}):\n{item.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise StackError(
        f"{url} did not answer 200 within {timeout:.0f} s (last: {last}); "
        f"{item.name}'s log ({item.log_path}):\n{item.log_tail()}"
    )


def gunicorn_command(
    *, bind: str, workers: int, threads: int, max_requests: int, config: Path
) -> list[str]:
    """gunicorn from the deployment's own config file; the bench sets only the sizes and address.

    The access log goes to the bench's log file as it goes to a container's log in production.
    """
    return [
        sys.executable, "-m", "gunicorn", "-c", str(config),
        "--bind", bind, "--workers", str(workers), "--threads", str(threads),
        "--max-requests", str(max_requests),
        "ouc_portal.wsgi:application",
    ]  # fmt: skip


def celery_worker_command(*, queues: list[str], hostname: str, concurrency: int = 2) -> list[str]:
    """One Celery worker on the bench's own queues, as docker-compose.yml runs ``worker-long``:
    the prefork pool with ``concurrency`` processes (1: the solo pool, one task at a time)."""
    pool = ["--pool=solo", "--concurrency=1"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    return [
        sys.executable, "-m", "celery", "-A", "ouc_portal", "worker",
        *pool, "-Q", ",".join(queues), "-n", hostname,
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
    ]  # fmt: skip
