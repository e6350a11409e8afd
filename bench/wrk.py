"""Running wrk and reading its report.

wrk's own "Non-2xx or 3xx responses" line counts a redirect as a success, so a page that sends
wrk to the log-in form would look fast and healthy. The Lua script below counts every answer that
is not a 200 instead, and the parser reads that count as well as wrk's own figures.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

# Counts, across wrk's threads, the answers that are not 200 (each thread has its own Lua state:
# setup() keeps the threads so done() can add their counters up).
NON_200_SCRIPT = """\
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0 end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non200") end
  io.write(string.format("Non-200 responses: %d\\n", n))
end
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkError(RuntimeError):
    """wrk could not be run, or printed a report this parser does not understand."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx_3xx: int
    non_200: int | None  # None when the report came without the Lua script's line

    @property
    def bad_responses(self) -> int:
        """Answers that make the figure meaningless: errors, and anything but a 200."""
        counted = self.non_200 if self.non_200 is not None else self.non_2xx_3xx
        return counted + self.socket_errors

    def as_dict(self) -> dict:
        return asdict(self)


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Read requests/s, the latency percentiles and the error counts from ``wrk --latency``."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in " + _DURATION, output, re.MULTILINE)
    percentiles = {
        int(p): _to_ms(v, u)
        for p, v, u in re.findall(r"^\s+(50|75|90|99)(?:\.0+)?%\s+" + _DURATION, output, re.MULTILINE)
    }
    if rps is None or total is None or not {50, 90, 99} <= percentiles.keys():
        raise WrkError(
            "wrk's report lacks Requests/sec, the request count or the 50/90/99% latencies "
            "(was --latency given?):\n" + output
        )
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    non_200 = re.search(r"Non-200 responses: (\d+)", output)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_to_ms(total.group(2), total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        non_200=int(non_200.group(1)) if non_200 else None,
    )


def wrk_command(
    url: str, *, seconds: int, connections: int, threads: int, script: Path, cookie: str = ""
) -> list[str]:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
        "-s", str(script),
    ]  # fmt: skip
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    return [*command, url]


def run_wrk(
    url: str, *, seconds: int, connections: int, threads: int, script: Path, cookie: str = ""
) -> tuple[WrkResult, str]:
    """Load ``url`` for ``seconds`` and return the parsed figures with wrk's own report."""
    if shutil.which("wrk") is None:
        raise WrkError("wrk is not installed (Debian: apt-get install wrk)")
    command = wrk_command(
        url, seconds=seconds, connections=connections, threads=threads, script=script, cookie=cookie
    )
    done = subprocess.run(  # noqa: S603 (fixed program, our own arguments)
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode} for {url}: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout), done.stdout
