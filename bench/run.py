"""``python -m bench.run`` (``make bench``): the portal's performance benchmark, one command.

1. wrk (installed from Debian when missing and root), PostgreSQL and Redis answering;
2. the bench database (re)created, migrated and seeded with ``seed_scale`` (BENCH_REUSE=1 keeps
   a database this bench seeded before);
3. gunicorn from deploy/gunicorn.conf.py, DEBUG off, persistent connections, on a free loopback
   port; each page checked to answer 200 with its content, warmed up, then loaded with wrk;
4. in the process: the credit audit, the results CSV import with its deposits, and certificate
   issuing by one Celery worker;
5. a table of every figure against its target, written to var/bench/ as JSON too.

Exit status 0 when the bench ran, whatever the verdicts; 1 when it could not measure.
Settings (environment): BENCH_LEARNERS (100000), BENCH_DURATION (10 s per URL),
BENCH_CONNECTIONS (8), BENCH_WARMUP (2 s), BENCH_DATABASE_URL, BENCH_REUSE (0), BENCH_WORKERS and
BENCH_THREADS (gunicorn), BENCH_IMPORT_ROWS (100000), BENCH_CERTIFICATES (100),
BENCH_WORKER_CONCURRENCY (2: the issuing worker's processes, as docker-compose.yml's worker-long),
BENCH_REDIS_URL / BENCH_CACHE_URL (Redis databases 12 and 13), BENCH_PASSWORD (the seeded one),
BENCH_ONLY (comma-separated parts to run: pages, audit, import, issuing; default all) and
BENCH_PAGES (comma-separated words; only the pages whose name holds one, the floor always).
"""

from __future__ import annotations

import datetime
import http.cookiejar
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import report
from bench.scenario import ScenarioError
from bench.stack import (
    Processes,
    StackError,
    celery_worker_command,
    free_port,
    gunicorn_command,
    wait_for_http,
)
from bench.wrk import NON_200_SCRIPT, WrkError, run_wrk

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
SEED_LINE = re.compile(r"seed_scale: ([\d,]+) rows in ([\d.]+) s \(([\d.,]+) rows/s\)")
DEMO_COMMANDS = [
    "load_network", "load_catalogue", "seed_demo", "seed_demo_enrolments", "load_recognition",
    "seed_demo_credits", "load_certificate_types", "seed_demo_certificates",
]  # fmt: skip


PARTS = frozenset({"pages", "audit", "import", "issuing"})


class BenchError(RuntimeError):
    """The bench could not measure: its message says what is missing."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def _int_env(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise BenchError(f"{name}={value} is below the minimum of {minimum}")
    return value


@dataclass
class Config:
    learners: int
    duration: int
    connections: int
    warm_up: int
    wrk_threads: int
    database_url: str
    reuse: bool
    workers: int
    threads: int
    max_requests: int
    import_rows: int
    certificates: int
    worker_concurrency: int
    redis_url: str
    cache_url: str
    password: str
    only: frozenset[str] = PARTS
    pages: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> Config:
        cores = os.cpu_count() or 1
        reuse = os.environ.get("BENCH_REUSE", "").strip().lower()
        if reuse not in {"", "0", "1", "false", "true", "no", "yes"}:
            raise BenchError(f"BENCH_REUSE={reuse!r} is not 0 or 1")
        return cls(
            learners=_int_env("BENCH_LEARNERS", 100_000),
            duration=_int_env("BENCH_DURATION", 10),
            connections=_int_env("BENCH_CONNECTIONS", 8),
            warm_up=_int_env("BENCH_WARMUP", 2, minimum=0),
            wrk_threads=_int_env("BENCH_WRK_THREADS", 2),
            database_url=os.environ.get("BENCH_DATABASE_URL", "").strip()
            or "postgres://postgres@127.0.0.1:5432/ouc_bench",
            reuse=reuse in {"1", "true", "yes"},
            # One process a core serves Python; threads cover the waits on PostgreSQL, so 8
            # connections are served by 2 x 4 threads without queueing behind one another.
            workers=_int_env("BENCH_WORKERS", cores),
            threads=_int_env("BENCH_THREADS", 4),
            # The deployment recycles a worker every ~1,000 requests; under a benchmark's load that
            # is a restart (Django imported again) every second or two, which would be measured
            # instead of the pages. 0 turns recycling off; set it to measure the deployed value.
            max_requests=_int_env("BENCH_MAX_REQUESTS", 0, minimum=0),
            import_rows=_int_env("BENCH_IMPORT_ROWS", 100_000),
            certificates=_int_env("BENCH_CERTIFICATES", 100),
            # The issuing worker's processes: 2, as docker-compose.yml's worker-long (one worker).
            worker_concurrency=_int_env("BENCH_WORKER_CONCURRENCY", 2),
            redis_url=os.environ.get("BENCH_REDIS_URL", "").strip() or "redis://127.0.0.1:6379/12",
            cache_url=os.environ.get("BENCH_CACHE_URL", "").strip() or "redis://127.0.0.1:6379/13",
            password=os.environ.get("BENCH_PASSWORD", "").strip() or "ouc-demo-2026",
            only=_parts_env(),
            pages=tuple(w.strip().lower() for w in os.environ.get("BENCH_PAGES", "").split(",") if w.strip()),
        )


def _parts_env() -> frozenset[str]:
    raw = {w.strip().lower() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()}
    unknown = raw - PARTS
    if unknown:
        raise BenchError(f"BENCH_ONLY names {', '.join(sorted(unknown))}: the parts are {', '.join(sorted(PARTS))}")
    return frozenset(raw) or PARTS


@dataclass
class Run:
    """What one run collects as it goes, for the table and the JSON."""

    started_at: datetime.datetime
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    http: list[report.HttpFigure] = field(default_factory=list)
    measures: list[report.Measure] = field(default_factory=list)
    seed: dict = field(default_factory=dict)
    machine: dict = field(default_factory=dict)


# --- Prerequisites ------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk's path; installed from Debian when missing and we are root (as .ci/run does)."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise BenchError("wrk is not installed and this is not root: run `sudo apt-get install wrk`")
    say("Installing wrk (Debian)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BenchError(f"`{' '.join(command)}` failed: {done.stderr.strip()[-2000:]}")
    path = shutil.which("wrk")
    if not path:
        raise BenchError("apt-get installed wrk but it is not on PATH")
    return path


def _url_parts(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.path.strip("/"):
        raise BenchError(f"BENCH_DATABASE_URL must be postgres://…/<database>, not {url!r}")
    return parts


def _without_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _maintenance_connection(database_url: str):
    import psycopg2

    parts = _url_parts(database_url)
    try:
        connection = psycopg2.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=urllib.parse.unquote(parts.username or "postgres"),
            password=urllib.parse.unquote(parts.password or "") or None,
            dbname="postgres",
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        raise BenchError(
            f"PostgreSQL at {parts.hostname}:{parts.port or 5432} does not answer ({exc}); "
            "start it (bash .ci/run starts it too) or set BENCH_DATABASE_URL"
        ) from None
    connection.autocommit = True
    return connection


def check_redis(url: str, *, flush: bool = False) -> None:
    """Redis answers at ``url``; ``flush`` empties that database (the bench's own cache)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
        if flush:
            client.flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {url} does not answer ({exc}): start redis-server") from None


def bench_env(config: Config, *, secret_key: str, signing_key: str, port: int, queue: str) -> dict:
    """The production-like settings every bench process runs with (DEBUG off)."""
    site = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EMAIL_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ouc_portal.settings",
        DEBUG="false",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS=site,
        SITE_URL=site,
        DATABASE_URL=config.database_url,
        # Persistent connections, as deployed (the deployment's example says 60 s).
        CONN_MAX_AGE="600",
        REDIS_URL=config.redis_url,
        CACHE_URL=config.cache_url,
        CACHE_KEY_PREFIX="ouc-bench",
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        CELERY_LONG_QUEUE=f"{queue}-long",
        CREDENTIAL_SIGNING_KEY=signing_key,
        # Plain HTTP on loopback: no TLS redirect, cookies sent over http.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        # One client address sends every request: the per-address limit (30/m) would answer 429
        # after 30. The limit is still checked on every request, so its cost stays in the figure.
        VERIFY_RATE_LIMIT="100000000/m",
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(OUT / "mail"),
        MEDIA_ROOT=str(OUT / "media"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(args: list[str], *, env: dict, log: Path, what: str, echo: bool = False) -> str:
    """Run a manage.py command, its output to ``log`` (and the screen if ``echo``); fail naming it."""
    started = time.perf_counter()
    lines = []
    with log.open("a") as handle:
        handle.write(f"\n$ manage.py {' '.join(args)}\n")
        handle.flush()
        process = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            handle.write(line)
            handle.flush()
            if echo:
                print(f"    {line.rstrip()}", flush=True)
        returncode = process.wait()
    output = "".join(lines)
    if returncode != 0:
        raise BenchError(f"{what} failed (exit {returncode}); the end of its output:\n{output[-3000:]}")
    say(f"{what}: done in {time.perf_counter() - started:.1f} s")
    return output


def prepare_database(config: Config, run: Run, env: dict) -> None:
    """(Re)create, migrate and seed the bench database, or reuse one when told to."""
    name = urllib.parse.unquote(_url_parts(config.database_url).path.strip("/"))
    marker = OUT / f"seeded-{name}.json"
    connection = _maintenance_connection(config.database_url)
    reuse = False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if config.reuse and exists and marker.exists():
                run.seed = json.loads(marker.read_text())
                run.notes.append(f"reused the database {name} seeded at {run.seed.get('at')}")
                say(f"BENCH_REUSE=1: reusing {name} ({run.seed.get('summary', 'seeded before')})")
                reuse = True
            else:
                from psycopg2 import sql

                if config.reuse:
                    say(f"BENCH_REUSE=1 but {name} was not seeded by this bench: creating it")

                say(f"(Re)creating the database {name}")
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    if reuse:
        # The code may have moved on since the seeding: bring the schema up to date.
        _manage(["migrate", "--noinput", "-v0"], env=env, log=OUT / "seed.log", what="migrate")
        return
    marker.unlink(missing_ok=True)
    log = OUT / "seed.log"
    log.write_text("")
    _manage(["migrate", "--noinput", "-v0"], env=env, log=log, what="migrate")
    seed_env = {**env, "CELERY_TASK_ALWAYS_EAGER": "true"}
    if (ROOT / "certificates" / "management" / "commands" / "seed_scale.py").exists():
        output = _manage(
            ["seed_scale", "--learners", str(config.learners)], env=seed_env, log=log,
            what=f"seed_scale --learners {config.learners}", echo=True,
        )  # fmt: skip
        line = next((m for m in SEED_LINE.finditer(output)), None)
        if line is None:
            raise BenchError("seed_scale did not print its `seed_scale: <rows> rows in <s> s (<rate> rows/s)` line")
        run.seed = {
            "command": "seed_scale",
            "learners": config.learners,
            "rows": int(line.group(1).replace(",", "")),
            "seconds": float(line.group(2)),
            "rows_per_s": float(line.group(3).replace(",", "")),
            "summary": line.group(0),
        }
        say(line.group(0))
    else:
        # Until seed_scale exists: the small demo data set (seed_demo needs DEBUG on: its
        # published password). The figures then say nothing about scale; the report says so.
        demo_env = {**seed_env, "DEBUG": "true"}
        for command in DEMO_COMMANDS:
            _manage([command], env=demo_env, log=log, what=command)
        run.seed = {"command": "demo", "summary": "demo data (seed_scale not found)"}
        run.notes.append("seed_scale not found: measured on the small demo data set, not at scale")
    vacuum_analyze(config.database_url)
    run.seed["at"] = datetime.datetime.now(datetime.UTC).isoformat()
    marker.write_text(json.dumps(run.seed, indent=2))


def vacuum_analyze(database_url: str) -> None:
    """VACUUM (ANALYZE) the freshly seeded database, as autovacuum would soon after a bulk load.

    Without it the planner has no statistics of the new rows and no visibility map, so counts
    that are index-only in a running deployment read the heap (the officers' queue count:
    142 ms before, 5 ms after; docs/performance.md) and the figures would measure the load, not
    the portal.
    """
    import psycopg2

    parts = _url_parts(database_url)
    started = time.perf_counter()
    connection = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password or "") or None,
        dbname=urllib.parse.unquote(parts.path.strip("/")), connect_timeout=5,
    )  # fmt: skip
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    finally:
        connection.close()
    say(f"VACUUM (ANALYZE): done in {time.perf_counter() - started:.1f} s")


def static_files_current() -> bool:
    """The collected manifest is newer than every file in static/ and than the last install."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    sources.append(ROOT / ".venv" / ".installed")  # installed apps' static files (admin, API docs)
    collected = manifest.stat().st_mtime
    return all(path.exists() and path.stat().st_mtime < collected for path in sources)


# --- The HTTP part ------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer to report, not follow
        return None


def log_in(base: str, *, email: str, password: str) -> str:
    """Log in through allauth's form (CSRF and all) and return the session cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{base}/accounts/login/"
    with opener.open(login_url, timeout=30) as response:
        page = response.read().decode("utf-8", "replace")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise BenchError(f"{login_url} has no CSRF token field: cannot log in")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "login": email, "password": password}
    ).encode()
    request = urllib.request.Request(login_url, data=data, headers={"Referer": login_url})  # noqa: S310
    with opener.open(request, timeout=60) as response:
        landed = response.geturl()
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if session is None or "/accounts/" in urllib.parse.urlsplit(landed).path:
        raise BenchError(
            f"logging in as {email} failed (landed on {landed}): is the password BENCH_PASSWORD and "
            "the email verified?"
        )
    return session


def check_page(url: str, *, cookie: str, expect: list[str]) -> int:
    """GET ``url`` once: it must answer 200 (not a redirect to the log-in) with its content."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    try:
        with opener.open(request, timeout=60) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location", "")
        raise BenchError(
            f"{url} answered {exc.code}{f' to {location}' if location else ''}, not 200: "
            "its figure would be false"
        ) from None
    missing = [text for text in expect if text not in body]
    if status != 200 or missing:
        raise BenchError(f"{url} answered {status} without {missing}: not the page to measure")
    return len(body)


@dataclass
class Page:
    name: str
    path: str
    min_share: float | None
    expect: list[str]
    logged_in: bool = False


def pages_for(targets) -> list[Page]:
    query = urllib.parse.urlencode(targets.catalogue_query)
    logged = ["/accounts/logout/"]
    return [
        Page("healthz (floor)", "/healthz/", None, ['"ok"']),
        Page("catalogue: search + 2 filters", f"/programmes/?{query}", report.PAGE_SHARE,
             [f"/programmes/{targets.programme_slug}/"]),
        Page("programme page", f"/programmes/{targets.programme_slug}/", report.PAGE_SHARE,
             [targets.programme_slug]),
        Page("learner /me/", "/me/", report.LEARNER_SHARE, logged, logged_in=True),
        Page("credit audit", f"/me/credits/audit/{targets.audit_enrolment}/", report.LEARNER_SHARE,
             [*logged, targets.audit_programme], logged_in=True),
        Page("verify/<code>/", f"/verify/{targets.verify_code}/", report.PAGE_SHARE,
             [targets.verify_code[:12]]),
        Page("API programme list", "/api/v1/programmes/", report.PAGE_SHARE, ['"results"']),
    ]  # fmt: skip


def measure_http(config: Config, run: Run, env: dict, targets, processes: Processes, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    config_file = ROOT / "deploy" / "gunicorn.conf.py"
    say(
        f"gunicorn on {base}: {config.workers} worker processes x {config.threads} threads (gthread), "
        f"{config_file.relative_to(ROOT)}, max_requests={config.max_requests or 'off'}, DEBUG off, "
        f"CONN_MAX_AGE={env['CONN_MAX_AGE']}"
    )
    server = processes.start(
        "gunicorn",
        gunicorn_command(
            bind=f"127.0.0.1:{port}", workers=config.workers, threads=config.threads,
            max_requests=config.max_requests, config=config_file,
        ),  # fmt: skip
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        cwd=ROOT,
        log_path=OUT / "gunicorn.log",
    )
    wait_for_http(server, f"{base}/healthz/")
    session = log_in(base, email=targets.learner_email, password=config.password)
    cookie = f"sessionid={session}"
    script = OUT / "non200.lua"
    script.write_text(NON_200_SCRIPT)
    pages = [
        page for page in pages_for(targets)
        if page.min_share is None or not config.pages or any(w in page.name.lower() for w in config.pages)
    ]  # fmt: skip
    for page in pages:
        check_page(base + page.path, cookie=cookie if page.logged_in else "", expect=page.expect)
    say(f"all {len(pages)} pages answer 200 with their content; loading each for {config.duration} s "
        f"at {config.connections} connections after a {config.warm_up} s warm-up")  # fmt: skip
    raw = {}
    for page in pages:
        kwargs = {
            "connections": config.connections, "threads": min(config.wrk_threads, config.connections),
            "script": script, "cookie": cookie if page.logged_in else "",
        }  # fmt: skip
        if config.warm_up:
            run_wrk(base + page.path, seconds=config.warm_up, **kwargs)
        result, output = run_wrk(base + page.path, seconds=config.duration, **kwargs)
        raw[page.name] = output
        if result.requests == 0:
            raise BenchError(f"{page.path}: no request completed in {config.duration} s under load:\n{output}")
        if result.bad_responses:
            raise BenchError(
                f"{page.path}: {result.bad_responses} of {result.requests} answers were errors or not "
                f"200 under load; gunicorn's log: {OUT / 'gunicorn.log'}\n{output}"
            )
        say(f"{page.name}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms")
        run.http.append(
            report.HttpFigure(
                name=page.name, url=page.path, rps=result.rps, p50_ms=result.p50_ms, p99_ms=result.p99_ms,
                min_share=page.min_share, requests=result.requests, bad_responses=result.bad_responses,
            )
        )  # fmt: skip
        if server.process.poll() is not None:
            raise StackError(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")
    report.with_floor(run.http)
    (OUT / "wrk-latest.txt").write_text("\n".join(f"### {k}\n{v}" for k, v in raw.items()))
    processes.stop(server)


# --- In-process measures ------------------------------------------------------------------------


def measure_audit(run: Run, targets) -> None:
    from bench import scenario

    figures = scenario.measure_audit(public_id=targets.audit_enrolment, email=targets.learner_email)
    figures["ledger_entries"] = targets.learner_entries
    note = "" if targets.learner_entries >= 1000 else f"learner has only {targets.learner_entries} entries"
    run.measures.append(
        report.Measure("credit audit, in process (median of 50)", figures["median_ms"], "ms",
                       report.AUDIT_LIMIT_MS, True, figures, note)
    )  # fmt: skip
    say(f"credit audit of {targets.learner_email} ({targets.learner_entries} ledger entries): "
        f"median {figures['median_ms']:.2f} ms")  # fmt: skip


def _purge_queue(queue: str) -> int:
    from ouc_portal.celery import app

    with app.connection_for_write() as conn:
        bound = app.amqp.queues[queue](conn.default_channel)
        bound.declare()
        purged = bound.purge() or 0
        bound.delete()
    return purged


def measure_import(config: Config, run: Run, queue: str) -> None:
    from django.db import close_old_connections

    from bench import scenario
    from ouc_portal.celery import app

    say(f"preparing {config.import_rows:,} results (intakes and admitted learners; not timed)")
    plan = scenario.plan_import(rows=config.import_rows)
    # What the import queues (mail to learners who completed) goes to a queue nobody consumes
    # here and is counted and dropped: the web process only queues, a worker sends.
    import_queue = f"{queue}-import"
    app.conf.task_default_queue = import_queue
    try:
        say(f"importing {plan.rows:,} results in {len(plan.files)} file(s) through results_import_csv")
        figures = scenario.run_import(plan)
    finally:
        app.conf.task_default_queue = queue
        close_old_connections()
    figures["tasks_queued"] = _purge_queue(import_queue)
    note = "" if plan.rows >= 100_000 else f"{plan.rows:,} rows, not 100,000"
    run.measures.append(
        report.Measure(f"CSV import, {plan.rows:,} results + deposits", figures["seconds"], "s",
                       report.IMPORT_LIMIT_S, True, figures, note)
    )  # fmt: skip
    say(f"import: {figures['seconds']:.1f} s ({figures['rows_per_s']:,.0f} rows/s), "
        f"{figures['ledger_entries_created']:,} ledger entries, "
        f"{figures['enrolments_completed']:,} completions, {figures['certificate_requests_opened']:,} requests")  # fmt: skip


def measure_issuing(config: Config, run: Run, env: dict, processes: Processes, queue: str) -> None:
    from bench import scenario
    from ouc_portal.celery import app

    plan = scenario.plan_issuing(count=config.certificates)
    hostname = f"{queue}@bench"
    queues = [queue, env["CELERY_LONG_QUEUE"]]
    for name in queues:
        _purge_queue(name)
    pool = "solo pool" if config.worker_concurrency == 1 else f"prefork pool, {config.worker_concurrency} processes"
    say(f"one Celery worker ({pool}, as docker-compose.yml's worker-long) on queues {', '.join(queues)}")
    worker = processes.start(
        "celery worker",
        celery_worker_command(queues=queues, hostname=hostname, concurrency=config.worker_concurrency),
        env=env, cwd=ROOT,
        log_path=OUT / "worker.log",
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while not app.control.ping(destination=[hostname], timeout=1.0):
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise StackError(f"the Celery worker did not answer a ping; its log:\n{worker.log_tail()}")
    say(f"approving {len(plan.request_ids)} requests of {plan.association.slug} as one batch; "
        "timing until all are issued")  # fmt: skip
    figures = scenario.run_issuing(
        plan, worker_alive=lambda: worker.process.poll() is None, timeout=60 + 10 * len(plan.request_ids)
    )
    processes.stop(worker)
    for name in queues:
        _purge_queue(name)
    note = "" if figures["certificates"] >= 100 else f"{figures['certificates']} certificates, not 100"
    run.measures.append(
        report.Measure(f"issuing {figures['certificates']} certificates, 1 worker ({config.worker_concurrency} processes)", figures["per_s"],
                       "certificates/s", report.ISSUE_MIN_PER_S, False, figures, note)
    )  # fmt: skip
    say(f"issuing: {figures['certificates']} in {figures['seconds']:.1f} s ({figures['per_s']:.1f}/s)")


# --- Machine and report -------------------------------------------------------------------------


def machine_info() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    memory = ""
    try:
        memory = next(
            line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )  # fmt: skip
    except (OSError, StopIteration):
        pass
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    commit = subprocess.run(  # noqa: S603 (read-only)
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False  # noqa: S607
    ).stdout.strip()
    import django
    import gunicorn

    return {
        "cores": os.cpu_count(),
        # Other work on the machine lowers every figure (the floor too): keep it with the figures.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres,
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "",
        "commit": commit,
    }


def print_report(run: Run, path: Path | None) -> None:
    print()
    print(f"Pages under load ({run.settings.get('connections')} connections, "
          f"{run.settings.get('duration_s')} s each, floor = /healthz/ in the same run)")  # fmt: skip
    print(report.http_table(run.http) if run.http else "(not measured)")
    print()
    measures = list(run.measures)
    if run.seed.get("rows_per_s") is not None:
        measures.append(
            report.Measure(f"seed_scale ({run.seed['rows']:,} rows)", run.seed["rows_per_s"], "rows/s",
                           report.SEED_MIN_ROWS_PER_S, False, run.seed)
        )  # fmt: skip
    print(report.measures_table(measures) if measures else "(no measure)")
    if run.seed.get("summary"):
        print(f"\nseed: {run.seed['summary']}")
    for note in run.notes:
        print(f"note: {note}")
    if path is not None:
        print(f"\nFigures written to {path.relative_to(ROOT)} and {(OUT / 'latest.json').relative_to(ROOT)}")


def main() -> int:
    run = Run(started_at=datetime.datetime.now(datetime.UTC))
    processes = Processes()
    OUT.mkdir(parents=True, exist_ok=True)
    # A SIGTERM (a CI time-out, kill) unwinds through the finally below like Ctrl-C does, so
    # gunicorn and the worker, each in its own process group, are stopped rather than orphaned.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    error = None
    try:
        measure_all(run, processes)
    except (BenchError, StackError, WrkError, ScenarioError) as exc:
        error = str(exc)
    except Exception as exc:  # a bug or a changed app: show where, keep what was measured
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
    finally:
        processes.stop_all()
    data = report.record(
        started_at=run.started_at, machine=run.machine, settings=run.settings, http=run.http,
        measures=run.measures, notes=run.notes,
    )  # fmt: skip
    data["seed"] = run.seed
    if error:
        data["error"] = error
    path = report.write_record(data, OUT, started_at=run.started_at)
    print_report(run, path)
    if error:
        # What was measured before the failure is printed and kept; the run still failed.
        print(f"\n!!! bench could not run to the end: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


def measure_all(run: Run, processes: Processes) -> None:
    config = Config.from_env()
    ensure_wrk()
    port = free_port()
    queue = f"bench-{os.getpid()}"
    key_file = OUT / "credential-signing.key"
    if not (config.reuse and key_file.exists()):
        # A new database gets a new signing key: its credentials are signed with it (seed_scale),
        # and the server and the worker sign and verify with the same one.
        key_file.write_text(secrets.token_hex(32) + "\n")
        key_file.chmod(0o600)
    env = bench_env(
        config, secret_key=secrets.token_urlsafe(50), signing_key=key_file.read_text().strip(),
        port=port, queue=queue,
    )  # fmt: skip
    run.settings = {
        "learners": config.learners, "duration_s": config.duration, "connections": config.connections,
        "warm_up_s": config.warm_up, "wrk_threads": config.wrk_threads,
        "gunicorn": {"workers": config.workers, "threads": config.threads, "worker_class": "gthread",
                     "max_requests": config.max_requests, "config": "deploy/gunicorn.conf.py"},
        "database": _without_credentials(config.database_url),
        "debug": False, "conn_max_age": int(env["CONN_MAX_AGE"]), "redis": config.redis_url,
        "cache": config.cache_url, "verify_rate_limit": env["VERIFY_RATE_LIMIT"],
        "import_rows": config.import_rows, "certificates": config.certificates, "reused_database": config.reuse,
        "only": sorted(config.only), "pages": list(config.pages),
    }  # fmt: skip
    check_redis(config.redis_url)
    # The bench's cache database: pages cached from an earlier run's database must not be served.
    check_redis(config.cache_url, flush=True)
    prepare_database(config, run, env)
    if static_files_current():
        say("static files already collected (staticfiles/ is newer than static/ and the install)")
    else:
        # DEBUG off serves hashed, compressed static files from the manifest: collect them (slow:
        # every file is compressed twice), only when something could have changed.
        _manage(["collectstatic", "--noinput", "-v0"], env=env, log=OUT / "collectstatic.log", what="collectstatic")
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from bench import scenario

    run.machine = machine_info()
    targets = scenario.find_targets()
    run.settings["targets"] = dict(targets.__dict__)
    connections.close_all()
    if "pages" in config.only:
        measure_http(config, run, env, targets, processes, port)
    if "audit" in config.only:
        measure_audit(run, targets)
    if "import" in config.only:
        measure_import(config, run, queue)
    if "issuing" in config.only:
        measure_issuing(config, run, env, processes, queue)


if __name__ == "__main__":
    sys.exit(main())
