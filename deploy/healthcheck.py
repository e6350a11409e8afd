"""Container health checks (docker-compose.yml): ``python deploy/healthcheck.py web|beat``.

web:  GET /healthz/ on the local gunicorn, with a Host header Django accepts.
beat: the schedule file was written recently (beat syncs it every few minutes) and the broker
      answers. The worker is checked with ``celery inspect ping`` instead.
Standard library only: the image carries no curl.
"""

from __future__ import annotations

import glob
import os
import sys
import time
import urllib.request


def check_web() -> None:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    request = urllib.request.Request(  # noqa: S310 (a fixed local http URL)
        f"http://127.0.0.1:{port}/healthz/", headers={"Host": host}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        if response.status != 200:
            sys.exit(f"/healthz/ answered {response.status}")


def check_beat() -> None:
    pattern = os.environ.get("BEAT_SCHEDULE", "/app/var/beat/celerybeat-schedule") + "*"
    files = glob.glob(pattern)
    if not files:
        sys.exit(f"no beat schedule file matches {pattern}")
    age = time.time() - max(os.path.getmtime(f) for f in files)
    if age > 15 * 60:
        sys.exit(f"the beat schedule was last written {age:.0f} s ago")
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()


if __name__ == "__main__":
    checks = {"web": check_web, "beat": check_beat}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit(f"usage: healthcheck.py {'|'.join(checks)}")
    checks[sys.argv[1]]()
