"""The benchmarks' scoreboard: figures measured beside a baseline in the same run.

Every `scripts/bench_*.py` reports through this module, so that all of them print the same table
and write the same JSON (`--json PATH`), which `bench_all.py` gathers into one scoreboard and
`bench_compare.py` compares between two runs.

- A `Figure` is a measured quantity (median of its rounds) beside the baseline it is read
  against, measured in the same run and in alternation with it (`alternate`); the ratio is the
  median of the per-round ratios, the spread is (max - min) / median of those ratios (of the
  values when there is no baseline).  The machine is shared and noisy: read the ratios.
- A `Target` is the documented goal of a figure, on its value or on its ratio.
- A `Report` collects one script's figures, with the machine's load average, and prints and
  writes them; in `--smoke` mode it also checks that every expected figure was produced.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = 1
# CLI entry point, for subprocesses (the console script may not be on PATH)
CLI = [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())"]
PG_ADMIN = (
    os.environ.get("INVENTORY_BENCH_PG_URL")
    or os.environ.get("INVENTORY_TEST_PG_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# -- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A documented goal: `on` the figure's "value" or its "ratio", `op` ">=" or "<="."""

    on: str
    op: str
    bound: float

    def text(self, unit: str) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        if self.on == "ratio":
            return f"ratio {sign} {self.bound:g}"
        return f"{sign} {self.bound:g} {unit}"

    def met(self, value: float, ratio: float | None) -> bool | None:
        measured = ratio if self.on == "ratio" else value
        if measured is None or math.isnan(measured):
            return None
        return measured >= self.bound if self.op == ">=" else measured <= self.bound


def at_least(bound: float, on: str = "value") -> Target:
    return Target(on, ">=", bound)


def at_most(bound: float, on: str = "value") -> Target:
    return Target(on, "<=", bound)


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples)) if samples else math.nan


def spread(samples: Sequence[float]) -> float:
    """(max - min) / median: 0 for a single sample."""
    if len(samples) < 2:
        return 0.0
    middle = median(samples)
    return (max(samples) - min(samples)) / abs(middle) if middle else math.inf


@dataclass
class Figure:
    """One measured quantity, optionally beside the baseline it is read against."""

    name: str  # unique across the scoreboard: "benchmark/backend/what"
    unit: str
    samples: list[float]
    baseline: str | None = None  # what the baseline is, in words
    baseline_unit: str | None = None
    baseline_samples: list[float] = field(default_factory=list)
    higher_is_better: bool = True  # for the value and the ratio alike
    target: Target | None = None
    headline: bool = True  # False: shown for context, not the figure to decide with
    note: str = ""

    @property
    def value(self) -> float:
        return median(self.samples)

    @property
    def baseline_value(self) -> float | None:
        return median(self.baseline_samples) if self.baseline_samples else None

    @property
    def ratio_samples(self) -> list[float]:
        if not self.baseline_samples:
            return []
        if len(self.baseline_samples) == len(self.samples):  # round by round
            return [m / b for m, b in zip(self.samples, self.baseline_samples, strict=True)]
        base = median(self.baseline_samples)
        return [m / base for m in self.samples]

    @property
    def ratio(self) -> float | None:
        ratios = self.ratio_samples
        return median(ratios) if ratios else None

    @property
    def spread(self) -> float:
        return spread(self.ratio_samples or self.samples)

    @property
    def met(self) -> bool | None:
        return self.target.met(self.value, self.ratio) if self.target else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "samples": self.samples,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "baseline_unit": self.baseline_unit,
            "baseline_samples": self.baseline_samples,
            "ratio": self.ratio,
            "ratio_samples": self.ratio_samples,
            "spread": self.spread,
            "higher_is_better": self.higher_is_better,
            "target": None if self.target is None else self.target.text(self.unit),
            "target_spec": None if self.target is None else vars(self.target),
            "met": self.met,
            "headline": self.headline,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        spec = data.get("target_spec")
        return cls(
            name=data["name"],
            unit=data["unit"],
            samples=list(data["samples"]),
            baseline=data.get("baseline"),
            baseline_unit=data.get("baseline_unit"),
            baseline_samples=list(data.get("baseline_samples") or []),
            higher_is_better=data.get("higher_is_better", True),
            target=Target(**spec) if spec else None,
            headline=data.get("headline", True),
            note=data.get("note", ""),
        )


def alternate(rounds: int, *steps: Callable[[], float]) -> list[list[float]]:
    """Run each step once per round, in alternation (the order reversed every other round, so
    that a drift in the machine's load falls on all of them alike); each step's samples."""
    samples: list[list[float]] = [[] for _ in steps]
    for round_ in range(rounds):
        order = list(range(len(steps)))
        if round_ % 2:
            order.reverse()
        for index in order:
            samples[index].append(steps[index]())
    return samples


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


# -- printing ----------------------------------------------------------------------------------


def number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def load_text(load: Sequence[float]) -> str:
    return " ".join(f"{x:.2f}" for x in load) if load else "n/a"


HEADER = (
    f"{'figure':<38} {'value':>18}  {'baseline (same run)':<30} {'its value':>16} {'ratio':>6} "
    f"{'spread':>6}  {'target':<16} {'met':<3}"
)


def figure_line(figure: Figure) -> str:
    value = f"{number(figure.value)} {figure.unit}"
    baseline, base = "-", ""
    if figure.baseline:
        baseline = figure.baseline
        base = f"{number(figure.baseline_value)} {figure.baseline_unit or figure.unit}"
    met = {True: "yes", False: "NO", None: "-"}[figure.met]
    target = figure.target.text(figure.unit) if figure.target else "-"
    ratio = number(figure.ratio) if figure.ratio is not None else "-"
    spread_text = f"{figure.spread * 100:.0f}%" if len(figure.samples) > 1 else "-"
    name = ("* " if figure.headline else "  ") + figure.name
    return (
        f"{name:<38} {value:>18}  {baseline:<30.30} {base:>16} {ratio:>6} {spread_text:>6}  "
        f"{target:<16} {met:<3}"
    ).rstrip()


def print_table(figures: Iterable[Figure], out: Any = None) -> None:
    out = out or sys.stdout
    print(HEADER, file=out)
    for figure in figures:
        print(figure_line(figure), file=out)


LEGEND = (
    "* headline figure (decide with its ratio).  ratio: value / baseline, median of the rounds' "
    "ratios;\nspread: (max - min) / median of those ratios over the rounds (of the values when "
    "there is no baseline)."
)


# -- one script's report -----------------------------------------------------------------------


class Report:
    """The figures of one benchmark script; `finish` prints them and writes `--json`."""

    def __init__(self, benchmark: str, args: argparse.Namespace) -> None:
        self.benchmark = benchmark
        self.smoke = bool(getattr(args, "smoke", False))
        self.rounds = int(getattr(args, "rounds", 1))
        self.json_path: str | None = getattr(args, "json", None)
        self.arguments = {k: v for k, v in vars(args).items() if k != "json"}
        self.started = time.time()
        self.load_start = load_average()
        self.figures: list[Figure] = []
        self.notes: list[str] = []

    def add(self, figure: Figure) -> Figure:
        if any(f.name == figure.name for f in self.figures):
            raise ValueError(f"figure {figure.name} reported twice")
        self.figures.append(figure)
        print(figure_line(figure), flush=True)
        return figure

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(text, flush=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "benchmark": self.benchmark,
            "smoke": self.smoke,
            "rounds": self.rounds,
            "arguments": self.arguments,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "load_start": self.load_start,
            "load_end": load_average(),
            "machine": machine(),
            "notes": self.notes,
            "figures": [f.to_json() for f in self.figures],
        }

    def finish(self, expected: Iterable[str] = ()) -> int:
        """Print the table, write the JSON; in smoke mode, fail unless every expected figure is
        there with a finite, positive value (ratios too)."""
        body = self.to_json()
        print(
            f"\n{self.benchmark}: {len(self.figures)} figures, {self.rounds} round(s), "
            f"{body['seconds']:.0f} s, load average {load_text(self.load_start)} -> "
            f"{load_text(body['load_end'])}"
        )
        print_table(self.figures)
        for text in self.notes:
            print(f"note: {text}")
        if self.json_path:
            Path(self.json_path).write_text(json.dumps(body, indent=1) + "\n")
        if self.smoke:
            problems = smoke_problems(self.figures, expected)
            for problem in problems:
                print(f"SMOKE FAILED: {problem}", file=sys.stderr)
            return 1 if problems else 0
        return 0


def smoke_problems(figures: Sequence[Figure], expected: Iterable[str]) -> list[str]:
    names = {f.name for f in figures}
    problems = [f"figure {name} missing" for name in expected if name not in names]
    for figure in figures:
        for label, value in (("value", figure.value), ("ratio", figure.ratio)):
            if value is None and label == "ratio":
                continue
            if value is None or not math.isfinite(value) or value < 0:
                problems.append(f"figure {figure.name}: {label} {value}")
        if figure.unit != "count" and figure.value <= 0:
            problems.append(f"figure {figure.name}: value {figure.value}")
    return problems


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
    }


def arguments(description: str, rounds: int = 3) -> argparse.ArgumentParser:
    """A parser with the options every benchmark takes: --smoke, --json, --rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: exercise the whole path in seconds and check the figures",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"rounds of baseline and figure in alternation (default {rounds}; 1 with --smoke)",
    )
    parser.set_defaults(default_rounds=rounds)
    return parser


def parse(parser: argparse.ArgumentParser, smoke_sizes: dict[str, Any]) -> argparse.Namespace:
    """Parse; with --smoke, the sizes in `smoke_sizes` replace those not given explicitly."""
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.smoke else args.default_rounds
    del args.default_rounds
    if args.smoke:
        given = set(sys.argv[1:])
        for name, value in smoke_sizes.items():
            option = "--" + name.replace("_", "-")
            if not any(a == option or a.startswith(option + "=") for a in given):
                setattr(args, name, value)
    return args


# -- databases ---------------------------------------------------------------------------------


def pg_problem() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: no server here
        return str(error).splitlines()[0]


def usable_backends(names: str, report: Report) -> list[str]:
    """The backends asked for, without PostgreSQL when it is unreachable (a note says so), unless
    INVENTORY_REQUIRE_POSTGRES=1, where that is an error."""
    backends = [b for b in names.split(",") if b]
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown backend {backend!r} (sqlite, postgresql)")
    if "postgresql" in backends:
        problem = pg_problem()
        if problem:
            if os.environ.get("INVENTORY_REQUIRE_POSTGRES") == "1":
                raise SystemExit(f"PostgreSQL required but unreachable: {problem}")
            report.note(f"postgresql skipped: {problem}")
            backends.remove("postgresql")
    return backends


@contextmanager
def scratch_database(backend: str, label: str) -> Iterator[str]:
    """The URL of a new, empty database (a file in a temporary folder, or a PostgreSQL
    database on the server of PG_ADMIN), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as folder:
            yield f"sqlite:///{folder}/inventory.db"
        return
    from sqlalchemy import create_engine, text

    name = f"bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}".replace("-", "_")
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def command(*args: str, out: Path | None = None) -> str:
    """Run an `inventory` command through the CLI's entry point, in this process (no start-up in
    the timings); its standard output, or written to `out`.  A failure ends the benchmark."""
    from adapters.cli import main

    buffer = io.StringIO()
    with (
        open(out, "w") if out else contextlib.nullcontext(buffer) as sink,
        contextlib.redirect_stdout(sink),
    ):
        code = main(list(args))
    if code != 0:
        raise SystemExit(f"inventory {' '.join(args)} exited with {code}")
    return buffer.getvalue()


def event_rows(events: Iterable[Any], columns: Sequence[str], recorded_at: int) -> Iterator[dict]:
    """Ledger rows of domain events, for bulk loads: each column from the event attribute of
    that name; `content_hash` from the event; columns the event has no value for get 0 (NOT NULL
    bookkeeping columns) or None."""
    for event in events:
        row: dict[str, Any] = {}
        for name in columns:
            if name == "content_hash":
                row[name] = event.content_hash()
            elif name == "recorded_at":
                row[name] = recorded_at
            elif name == "type":
                row[name] = event.type.value
            else:
                row[name] = getattr(event, name, None)
        yield row


def bulk_load_ledger(url: str, events: Iterable[Any], recorded_at: int, batch: int = 20_000) -> int:
    """Insert events straight into the ledger table of a migrated database (reflected, so this
    depends only on the schema), in one transaction; the projection is not touched."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine, only=["events"])
    table = metadata.tables["events"]
    columns = [c.name for c in table.columns if not c.primary_key]
    required = {
        c.name
        for c in table.columns
        if not c.nullable and not c.primary_key and c.server_default is None
    }
    total = 0
    with engine.begin() as connection:
        rows: list[dict[str, Any]] = []
        for row in event_rows(events, columns, recorded_at):
            for name in required:
                if row[name] is None:
                    row[name] = 0
            rows.append(row)
            if len(rows) == batch:
                connection.execute(table.insert(), rows)
                total += len(rows)
                rows = []
        if rows:
            connection.execute(table.insert(), rows)
            total += len(rows)
    engine.dispose()
    return total
