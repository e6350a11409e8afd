"""gunicorn settings for the web container (``gunicorn -c deploy/gunicorn.conf.py``).

Threads, not more processes, absorb requests that wait on PostgreSQL; processes use the cores.
WEB_CONCURRENCY and GUNICORN_THREADS override the defaults without rebuilding the image.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100
timeout = 60
graceful_timeout = 30
keepalive = 5
# Heartbeat files in memory: a container's overlay filesystem can stall and get workers killed.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a tmpfs in every container, not a shared temp dir)
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
# The proxy in front sets X-Forwarded-Proto; only trust it from the addresses configured here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
