"""Every benchmark script runs in its smoke mode: tiny sizes, one round, its whole path.

Each script runs in its own process, as `make bench` runs it (`bench_X.py --smoke --json
PATH`), on SQLite and on PostgreSQL where it supports both, and must exit 0 with the figures it
promises in its JSON: a broken import, a renamed function or a figure no longer produced fails
the suite.  PostgreSQL is left out (with a warning) when unreachable, unless
INVENTORY_REQUIRE_POSTGRES=1; the staff page's benchmark needs Chromium (skipped without it,
unless INVENTORY_REQUIRE_BROWSER=1).  The driver (`bench_all.py`) and `bench_compare.py` are
run on one small benchmark.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
PG_ADMIN_URL = os.environ.get(
    "INVENTORY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = os.environ.get("INVENTORY_TEST_BACKENDS", "sqlite,postgresql").split(",")
TIMEOUT = 240  # seconds per script: the machine may be busy
NOT_BENCHMARKS = {"all", "compare"}


# per script: the figures every backend produces ("{db}"), and those of SQLite alone
EXPECTED: dict[str, dict[str, list[str]]] = {
    "ingest": {
        "each": ["ingest/{db}/ingest", "ingest/{db}/vs-indexed"],
        "sqlite": ["ingest/sqlite/append", "ingest/sqlite/rebuild"],
    },
    "reconcile": {
        "each": [
            "reconcile/{db}/compare",
            "reconcile/{db}/100-instants",
            "reconcile/{db}/apply",
            "reconcile/{db}/export",
        ],
        "always": ["reconcile/peak-rss"],
    },
    "consume": {"each": ["consume/{db}/intake", "consume/{db}/intake-vs-bare"]},
    "api": {
        "each": [
            f"api/{{db}}/{scenario}{suffix}"
            for scenario in ("single", "batch100", "reserve")
            for suffix in ("", "-p99")
        ]
    },
    "routing": {
        "always": [
            "routing/function",
            "routing/function-p99",
            "routing/mismatches",
            "routing/sqlite/endpoint",
            "routing/sqlite/endpoint-4-clients",
        ]
    },
    "staff": {
        "each": [
            "staff/{db}/lookup",
            "staff/{db}/lookup-p95",
            "staff/{db}/bytes-sign-in",
            "staff/{db}/bytes-stock",
            "staff/{db}/bytes-lookup",
        ]
    },
}
SQLITE_ONLY = {"routing"}  # scripts without a --backends option


def pg_problem() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: no server here
        return str(error).splitlines()[0]


def backends() -> list[str]:
    chosen = [b for b in BACKENDS if b in ("sqlite", "postgresql")]
    if "postgresql" in chosen:
        problem = pg_problem()
        if problem:
            if os.environ.get("INVENTORY_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"PostgreSQL required but unreachable: {problem}")
            reason = f"benchmarks on SQLite only: PostgreSQL unreachable ({problem})"
            warnings.warn(reason, stacklevel=2)
            chosen.remove("postgresql")
    return chosen


def expected(script: str, used: list[str]) -> set[str]:
    spec = EXPECTED[script]
    names = set(spec.get("always", []))
    for backend in used:
        names |= {name.format(db=backend) for name in spec.get("each", [])}
        names |= set(spec.get(backend, []))
    return names


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INVENTORY_TEST_PG_URL": PG_ADMIN_URL, "PYTHONUNBUFFERED": "1"}
    env.pop("INVENTORY_BENCH_PG_URL", None)  # the tests' server, as for every other test
    try:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{args[0]} did not finish in {TIMEOUT} s:\n{_tail(error.stdout)}")
    assert done.returncode == 0, (
        f"{' '.join(args)} exited with {done.returncode}\n--- stdout\n{_tail(done.stdout)}"
        f"\n--- stderr\n{_tail(done.stderr)}"
    )
    return done


def _tail(text_: Any, lines: int = 60) -> str:
    if isinstance(text_, bytes):
        text_ = text_.decode(errors="replace")
    return "\n".join((text_ or "").splitlines()[-lines:])


def check_report(path: Path, names: set[str]) -> dict[str, Any]:
    body = json.loads(path.read_text())
    assert body["smoke"] is True
    assert body["load_start"], "the load average is reported"
    figures = {f["name"]: f for f in body["figures"]}
    missing = names - set(figures)
    assert not missing, f"figures missing: {sorted(missing)}"
    for name in names:
        figure = figures[name]
        assert math.isfinite(figure["value"]) and figure["value"] >= 0, figure
        assert figure["samples"], figure
        if figure["baseline"]:
            assert figure["ratio"] is not None and math.isfinite(figure["ratio"]), figure
    return body


def test_every_benchmark_script_has_a_smoke_test() -> None:
    scripts = {p.stem.removeprefix("bench_") for p in SCRIPTS.glob("bench_*.py")}
    assert scripts - NOT_BENCHMARKS == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_smoke(script: str, tmp_path: Path) -> None:
    if script == "staff":
        pytest.importorskip("playwright.sync_api")
        if not Path("/usr/bin/chromium").exists():
            if os.environ.get("INVENTORY_REQUIRE_BROWSER") == "1":
                pytest.fail("Chromium required (CI) but missing: run scripts/install_browser.sh")
            pytest.skip("no Chromium: run scripts/install_browser.sh")
    used = ["sqlite"] if script in SQLITE_ONLY else backends()
    out = tmp_path / f"{script}.json"
    args = [f"scripts/bench_{script}.py", "--smoke", "--json", str(out)]
    if script not in SQLITE_ONLY:
        args += ["--backends", ",".join(used)]
    run(args)
    check_report(out, expected(script, used))


def test_scoreboard_and_compare(tmp_path: Path) -> None:
    """The driver gathers a benchmark's figures into one scoreboard; compare reads two."""
    board = tmp_path / "board.json"
    done = run(
        [
            "scripts/bench_all.py",
            "--smoke",
            "--only",
            "reconcile",
            "--backends",
            "sqlite",
            "--json",
            str(board),
        ]
    )
    assert "reconcile/sqlite/compare" in done.stdout and "load average" in done.stdout
    body = json.loads(board.read_text())
    assert body["kind"] == "scoreboard" and body["benchmarks"][0]["exit_code"] == 0
    names = {f["name"] for f in body["benchmarks"][0]["figures"]}
    assert expected("reconcile", ["sqlite"]) <= names
    slower = json.loads(board.read_text())
    for figure in slower["benchmarks"][0]["figures"]:
        if figure["name"] == "reconcile/sqlite/compare":  # seconds: twice as slow
            figure["samples"] = [x * 2 for x in figure["samples"]]
    (tmp_path / "slower.json").write_text(json.dumps(slower))
    compared = run(["scripts/bench_compare.py", str(board), str(tmp_path / "slower.json")]).stdout
    assert "slower / worse beyond noise: 1" in compared
    assert "reconcile/sqlite/compare" in compared.split("faster / better")[0]
