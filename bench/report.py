"""The bench's targets, the verdicts against them, the printed table and the JSON record.

A target not met is a finding, not a failure: the bench reports it and still exits 0. Only a
bench that could not measure (no wrk, no server, a page that does not answer 200) fails.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The issue's targets, at 8 connections.
P99_LIMIT_MS = 100.0
PAGE_SHARE = 0.5  # catalogue, programme page, verification, API list: of the floor's requests/s
LEARNER_SHARE = 0.3  # the learner's dashboard and credit audit
IMPORT_LIMIT_S = 60.0  # 100,000 results with their credit deposits
ISSUE_MIN_PER_S = 10.0  # certificates issued per second by one worker
AUDIT_LIMIT_MS = 20.0  # credit audit of a learner with 1,000 ledger entries, in the process
SEED_MIN_ROWS_PER_S = 50_000.0


@dataclass
class HttpFigure:
    """One URL's figures under load, and its verdict against the floor measured in the same run."""

    name: str
    url: str
    rps: float
    p50_ms: float
    p99_ms: float
    min_share: float | None  # None for the floor itself
    requests: int = 0
    bad_responses: int = 0
    floor_rps: float | None = None

    @property
    def ratio(self) -> float | None:
        if not self.floor_rps:
            return None
        return self.rps / self.floor_rps

    @property
    def target(self) -> str:
        if self.min_share is None:
            return f"floor; p99 < {P99_LIMIT_MS:.0f} ms"
        return f">= {self.min_share:.0%} of floor; p99 < {P99_LIMIT_MS:.0f} ms"

    @property
    def met(self) -> bool:
        if self.p99_ms >= P99_LIMIT_MS:
            return False
        if self.min_share is None:
            return True
        ratio = self.ratio
        return ratio is not None and ratio >= self.min_share

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "target": self.target, "met": self.met}


@dataclass
class Measure:
    """A figure measured in the process (or a subprocess), with its target and verdict."""

    name: str
    value: float | None
    unit: str
    limit: float
    lower_is_better: bool
    detail: dict = field(default_factory=dict)
    note: str = ""

    @property
    def target(self) -> str:
        return f"{'<' if self.lower_is_better else '>='} {self.limit:g} {self.unit}"

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value < self.limit if self.lower_is_better else self.value >= self.limit

    def as_dict(self) -> dict:
        return {**asdict(self), "target": self.target, "met": self.met}


def with_floor(figures: list[HttpFigure]) -> list[HttpFigure]:
    """Every figure told the floor's requests/s (the figure without a share is the floor)."""
    floors = [f for f in figures if f.min_share is None]
    if len(floors) != 1:
        raise ValueError(f"exactly one floor figure expected, found {len(floors)}")
    for figure in figures:
        figure.floor_rps = floors[0].rps
    return figures


def verdict(met: bool | None) -> str:
    return {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[met]


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def http_table(figures: list[HttpFigure]) -> str:
    header = ("name", "req/s", "p50 ms", "p99 ms", "of floor", "target", "verdict")
    rows = [
        (
            f.name,
            _number(f.rps),
            _number(f.p50_ms, 2),
            _number(f.p99_ms, 2),
            "-" if f.ratio is None else f"{f.ratio:.0%}",
            f.target,
            verdict(f.met),
        )
        for f in figures
    ]
    return _table(header, rows, right={1, 2, 3, 4})


def measures_table(measures: list[Measure]) -> str:
    header = ("measure", "figure", "target", "verdict")
    rows = [
        (m.name, f"{_number(m.value, 2)} {m.unit}", m.target, verdict(m.met) + (f" ({m.note})" if m.note else ""))
        for m in measures
    ]
    return _table(header, rows, right={1})


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], *, right: set[int]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def record(
    *,
    started_at: datetime.datetime,
    machine: dict,
    settings: dict,
    http: list[HttpFigure],
    measures: list[Measure],
    notes: list[str],
) -> dict:
    """Everything a later run needs to compare against this one, as plain JSON values."""
    return {
        "format": 1,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": machine,
        "settings": settings,
        "http": [f.as_dict() for f in http],
        "measures": [m.as_dict() for m in measures],
        "targets_met": all(f.met for f in http) and all(m.met for m in measures),
        "notes": notes,
    }


def write_record(data: dict, directory: Path, *, started_at: datetime.datetime) -> Path:
    """Write ``bench-<UTC timestamp>.json`` and ``latest.json`` in ``directory``; return the first."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = started_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    path = directory / f"bench-{stamp}.json"
    path.write_text(text, encoding="utf-8")
    (directory / "latest.json").write_text(text, encoding="utf-8")
    return path
