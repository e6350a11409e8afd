"""The bench's own logic: reading wrk's report, the verdicts against the targets, the JSON record.

Nothing here times anything (timings belong in ``make bench``); these check that the figures the
bench prints are read and judged right, so a broken parser cannot report a false MET.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from bench import report
from bench.report import HttpFigure, Measure
from bench.run import SEED_LINE, Config, pages_for
from bench.scenario import Targets
from bench.wrk import NON_200_SCRIPT, WrkError, parse_wrk, wrk_command

WRK_REPORT = """\
Running 10s test @ http://127.0.0.1:41234/programmes/?q=technology
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.01ms  48.30ms   87.50%
    Req/Sec   786.21     60.12     0.92k    71.00%
  Latency Distribution
     50%    4.71ms
     75%    5.90ms
     90%    7.45ms
     99%   13.80ms
  15702 requests in 10.01s, 120.31MB read
Requests/sec:   1568.65
Transfer/sec:     12.02MB
Non-200 responses: 0
"""


def test_parse_wrk_reads_throughput_and_percentiles() -> None:
    result = parse_wrk(WRK_REPORT)

    assert result.requests == 15702
    assert result.seconds == pytest.approx(10.01)
    assert result.rps == pytest.approx(1568.65)
    assert result.p50_ms == pytest.approx(4.71)
    assert result.p90_ms == pytest.approx(7.45)
    assert result.p99_ms == pytest.approx(13.80)
    assert result.non_200 == 0
    assert result.bad_responses == 0


def test_parse_wrk_converts_every_latency_unit_to_milliseconds() -> None:
    text = (
        WRK_REPORT.replace("4.71ms", "812.00us").replace("7.45ms", "1.20s").replace("13.80ms", "1.50m")
    )

    result = parse_wrk(text)

    assert result.p50_ms == pytest.approx(0.812)
    assert result.p90_ms == pytest.approx(1200.0)
    assert result.p99_ms == pytest.approx(90_000.0)


def test_parse_wrk_counts_errors_and_answers_that_are_not_200() -> None:
    text = WRK_REPORT.replace(
        "Requests/sec:",
        "  Socket errors: connect 1, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 4\nRequests/sec:",
    ).replace("Non-200 responses: 0", "Non-200 responses: 17")

    result = parse_wrk(text)

    assert result.socket_errors == 6
    assert result.non_2xx_3xx == 4
    # The script's count wins: it also counts the redirects wrk's own line takes for successes.
    assert result.non_200 == 17
    assert result.bad_responses == 23


def test_parse_wrk_without_the_script_line_falls_back_on_wrks_own_count() -> None:
    text = WRK_REPORT.replace("Non-200 responses: 0\n", "  Non-2xx or 3xx responses: 5\n")

    result = parse_wrk(text)

    assert result.non_200 is None
    assert result.bad_responses == 5


def test_parse_wrk_refuses_a_report_without_the_latency_distribution() -> None:
    text = "\n".join(line for line in WRK_REPORT.splitlines() if "%" not in line or "Stdev" in line)

    with pytest.raises(WrkError, match="--latency"):
        parse_wrk(text)


def test_wrk_command_sends_the_session_cookie_and_the_counting_script(tmp_path: Path) -> None:
    script = tmp_path / "non200.lua"

    command = wrk_command(
        "http://127.0.0.1:8000/me/", seconds=10, connections=8, threads=2, script=script,
        cookie="sessionid=abc",
    )  # fmt: skip

    assert command[:5] == ["wrk", "-t2", "-c8", "-d10s", "--latency"]
    assert ["-s", str(script)] == command[command.index("-s") : command.index("-s") + 2]
    assert ["-H", "Cookie: sessionid=abc"] == command[command.index("-H") : command.index("-H") + 2]
    assert command[-1] == "http://127.0.0.1:8000/me/"
    assert "status ~= 200" in NON_200_SCRIPT


def _figures(floor_rps: float = 1000.0) -> list[HttpFigure]:
    return report.with_floor(
        [
            HttpFigure("floor", "/healthz/", rps=floor_rps, p50_ms=1, p99_ms=5, min_share=None),
            HttpFigure("page", "/programmes/", rps=500, p50_ms=8, p99_ms=40, min_share=0.5),
            HttpFigure("slow page", "/programmes/x/", rps=499, p50_ms=8, p99_ms=40, min_share=0.5),
            HttpFigure("learner", "/me/", rps=300, p50_ms=20, p99_ms=99.9, min_share=0.3),
            HttpFigure("late learner", "/me/credits/", rps=900, p50_ms=20, p99_ms=100, min_share=0.3),
        ]
    )


def test_ratio_to_the_floor_and_the_verdicts() -> None:
    floor, page, slow, learner, late = _figures()

    assert page.ratio == pytest.approx(0.5)
    assert (floor.met, page.met, slow.met, learner.met) == (True, True, False, True)
    # p99 must be under 100 ms whatever the throughput.
    assert late.ratio == pytest.approx(0.9)
    assert late.met is False


def test_the_floor_itself_must_also_answer_within_the_p99_limit() -> None:
    floor = HttpFigure("floor", "/healthz/", rps=1000, p50_ms=1, p99_ms=150, min_share=None)

    assert report.with_floor([floor])[0].met is False


def test_exactly_one_floor_is_required() -> None:
    page = HttpFigure("page", "/programmes/", rps=500, p50_ms=8, p99_ms=40, min_share=0.5)

    with pytest.raises(ValueError, match="exactly one floor"):
        report.with_floor([page])


def test_measures_compare_in_the_right_direction() -> None:
    import_ = Measure("import", 59.9, "s", report.IMPORT_LIMIT_S, lower_is_better=True)
    slow_import = Measure("import", 60.0, "s", report.IMPORT_LIMIT_S, lower_is_better=True)
    issuing = Measure("issuing", 10.0, "certificates/s", report.ISSUE_MIN_PER_S, lower_is_better=False)
    slow_issuing = Measure("issuing", 9.9, "certificates/s", report.ISSUE_MIN_PER_S, lower_is_better=False)
    missing = Measure("audit", None, "ms", report.AUDIT_LIMIT_MS, lower_is_better=True)

    assert (import_.met, slow_import.met, issuing.met, slow_issuing.met) == (True, False, True, False)
    assert missing.met is None
    assert import_.target == "< 60 s"
    assert issuing.target == ">= 10 certificates/s"


def test_the_tables_show_each_verdict() -> None:
    http = report.http_table(_figures())
    measures = report.measures_table(
        [Measure("credit audit", 12.5, "ms", 20, True), Measure("issuing", 4, "certificates/s", 10, False)]
    )

    lines = http.splitlines()
    assert lines[0].split()[:3] == ["name", "req/s", "p50"]
    assert "50%" in next(line for line in lines if line.startswith("page "))
    assert next(line for line in lines if line.startswith("slow page")).endswith("NOT MET")
    assert "12.50 ms" in measures and "NOT MET" in measures.splitlines()[-1]


def test_the_record_is_json_with_every_figure_and_a_latest_copy(tmp_path: Path) -> None:
    started = datetime.datetime(2026, 11, 24, 1, 2, 3, tzinfo=datetime.UTC)
    data = report.record(
        started_at=started,
        machine={"cores": 2, "postgresql": "15.20"},
        settings={"connections": 8},
        http=_figures(),
        measures=[Measure("credit audit", 12.5, "ms", 20, True, {"runs": 50})],
        notes=["a note"],
    )

    path = report.write_record(data, tmp_path, started_at=started)

    assert path.name == "bench-20261124T010203Z.json"
    written = json.loads(path.read_text())
    assert json.loads((tmp_path / "latest.json").read_text()) == written
    assert written["machine"] == {"cores": 2, "postgresql": "15.20"}
    page = next(f for f in written["http"] if f["name"] == "page")
    assert page["ratio"] == pytest.approx(0.5) and page["met"] is True and page["floor_rps"] == 1000
    assert written["measures"][0]["met"] is True and written["measures"][0]["detail"] == {"runs": 50}
    assert written["targets_met"] is False  # the slow page and the late learner


def test_the_seed_commands_closing_line_is_read() -> None:
    match = SEED_LINE.search("…\nseed_scale: 4213876 rows in 71.3 s (59101 rows/s)\n")

    assert match is not None
    assert match.groups() == ("4213876", "71.3", "59101")


def test_every_page_of_the_issue_is_loaded_with_the_right_target() -> None:
    targets = Targets(
        learner_email="heavy@scale.example", learner_entries=1000,
        audit_enrolment="0b7c3a44-8f8e-4c1e-9a57-3cdb1d7f2f10", audit_programme="ME-NCT",
        programme_slug="numerical-control-technology", programme_name="Numerical Control Technology",
        catalogue_query={"q": "technology", "school": "mechanical", "kind": "associate"},
        verify_code="ny94PYPKaruAZrfiDPO6VCF1WaGcXTsQ",
    )  # fmt: skip

    pages = {page.path.split("?")[0]: page for page in pages_for(targets)}

    assert pages["/healthz/"].min_share is None
    shares = {path: page.min_share for path, page in pages.items()}
    assert shares == {
        "/healthz/": None,
        "/programmes/": 0.5,
        "/programmes/numerical-control-technology/": 0.5,
        "/me/": 0.3,
        "/me/credits/audit/0b7c3a44-8f8e-4c1e-9a57-3cdb1d7f2f10/": 0.3,
        "/verify/ny94PYPKaruAZrfiDPO6VCF1WaGcXTsQ/": 0.5,
        "/api/v1/programmes/": 0.5,
    }
    catalogue = next(page for page in pages_for(targets) if page.path.startswith("/programmes/?"))
    assert catalogue.path == "/programmes/?q=technology&school=mechanical&kind=associate"
    # Only the learner's pages carry the session cookie, and each checks it is logged in.
    assert {path for path, page in pages.items() if page.logged_in} == {
        "/me/", "/me/credits/audit/0b7c3a44-8f8e-4c1e-9a57-3cdb1d7f2f10/",
    }  # fmt: skip
    assert all("/accounts/logout/" in page.expect for page in pages.values() if page.logged_in)


def test_settings_from_the_environment_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.run import BenchError

    monkeypatch.delenv("BENCH_LEARNERS", raising=False)
    monkeypatch.setenv("BENCH_CONNECTIONS", "16")
    monkeypatch.setenv("BENCH_REUSE", "1")
    config = Config.from_env()
    assert (config.connections, config.reuse, config.learners) == (16, True, 100_000)

    monkeypatch.setenv("BENCH_DURATION", "ten")
    with pytest.raises(BenchError, match="BENCH_DURATION='ten' is not a whole number"):
        Config.from_env()


def test_the_record_names_the_database_without_its_password() -> None:
    from bench.run import _without_credentials

    url = "postgres://bench:s3cret@127.0.0.1:5432/ouc_bench"

    assert _without_credentials(url) == "postgres://127.0.0.1:5432/ouc_bench"
