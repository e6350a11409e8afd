"""A real gunicorn serving the portal for a test, on a free port of loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None):
    """Status, headers (an ``email.message.Message``: ``get_all`` for repeated ones) and body of a
    request, whatever the status; redirects are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path, *, workers: int = 1, threads: int = 1) -> Iterator[str]:
    """Serve with gunicorn (gthread) under ``env`` added to this process's; yield the base URL."""
    port = free_port()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ouc_portal.settings", **env}
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--threads", str(threads), "--worker-class", "gthread", "--timeout", "60",
             "ouc_portal.wsgi:application"],
            cwd=REPO_ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                get(base + "/healthz/")
                break
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
