"""Run every benchmark and print one scoreboard (what `make bench` runs).

    .venv/bin/python scripts/bench_all.py [--only ingest,api] [--rounds 3] [--smoke]
                                          [--backends sqlite,postgresql] [--json OUT]

Runs each `scripts/bench_*.py` in its own process at its documented sizes (or --smoke sizes)
with `--json` into a temporary file, its own output going to standard error as it runs; then
prints to standard output one scoreboard: each figure, its baseline measured in the same run,
the ratio, the spread over the rounds, the documented target and whether it is met, with the
machine's load average at the start and end of each benchmark.  --json OUT writes the whole
scoreboard for `scripts/bench_compare.py OLD.json NEW.json`.  Exit status 1 when a benchmark
failed (the others still run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib as b

HERE = Path(__file__).resolve().parent
# the order they run in; any other scripts/bench_*.py runs after them
ORDER = ["ingest", "reconcile", "consume", "api", "routing", "staff"]
NOT_BENCHMARKS = {"all", "compare"}
WITH_BACKENDS = {"ingest", "reconcile", "consume", "api", "staff"}


def benchmarks() -> list[str]:
    found = {p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py")} - NOT_BENCHMARKS
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        branch = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--abbrev-ref", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return f"{commit} ({branch})"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_one(name: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    out = folder / f"{name}.json"
    command = [sys.executable, str(HERE / f"bench_{name}.py"), "--json", str(out)]
    if args.smoke:
        command.append("--smoke")
    if args.rounds is not None:
        command += ["--rounds", str(args.rounds)]
    if args.backends and name in WITH_BACKENDS:
        command += ["--backends", args.backends]
    print(f"\n=== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    started = time.time()
    load = b.load_average()
    done = subprocess.run(command, stdout=sys.stderr, cwd=HERE.parent)
    body: dict[str, Any] = {"benchmark": name, "figures": [], "notes": []}
    if out.exists():
        body = json.loads(out.read_text())
    body.setdefault("load_start", load)
    body.setdefault("load_end", b.load_average())
    body.setdefault("seconds", round(time.time() - started, 1))
    body["exit_code"] = done.returncode
    body["command"] = command[1:]
    return body


def print_scoreboard(board: dict[str, Any]) -> None:
    print(
        f"Benchmarks {board['started']}  commit {board['commit']}  "
        f"{board['machine']['cpus']} CPUs  Python {board['machine']['python']}"
        f"{'  SMOKE SIZES' if board['smoke'] else ''}"
    )
    print(
        f"load average {b.load_text(board['load_start'])} at the start, "
        f"{b.load_text(board['load_end'])} at the end; {board['seconds'] / 60:.1f} min in all\n"
    )
    print(b.HEADER)
    for run in board["benchmarks"]:
        state = "" if run["exit_code"] == 0 else f"  FAILED (exit {run['exit_code']})"
        print(
            f"-- {run['benchmark']}: {run.get('rounds', '?')} round(s), {run['seconds']:.0f} s, "
            f"load {b.load_text(run['load_start'])} -> {b.load_text(run['load_end'])}{state}"
        )
        for figure in run["figures"]:
            print(b.figure_line(b.Figure.from_json(figure)))
        for note in run.get("notes", []):
            print(f"   note: {note}")
    print()
    print(b.LEGEND)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--rounds", type=int, help="rounds per benchmark (default: each one's)")
    parser.add_argument("--smoke", action="store_true", help="every benchmark at smoke sizes")
    parser.add_argument("--backends", help="passed to the benchmarks that take --backends")
    parser.add_argument("--json", metavar="OUT", help="write the scoreboard as JSON")
    args = parser.parse_args()
    names = benchmarks()
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - set(names)
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))} (of {names})")
        names = [n for n in names if n in wanted]
    started = time.time()
    board: dict[str, Any] = {
        "schema": b.SCHEMA,
        "kind": "scoreboard",
        "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
        "commit": git_commit(),
        "smoke": args.smoke,
        "machine": b.machine(),
        "load_start": b.load_average(),
        "benchmarks": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-all-") as folder:
        for name in names:
            board["benchmarks"].append(run_one(name, args, Path(folder)))
    board["load_end"] = b.load_average()
    board["seconds"] = round(time.time() - started, 1)
    print(file=sys.stderr, flush=True)
    print_scoreboard(board)
    if args.json:
        Path(args.json).write_text(json.dumps(board, indent=1) + "\n")
        print(f"\nscoreboard written to {args.json}")
    failed = [r["benchmark"] for r in board["benchmarks"] if r["exit_code"] != 0]
    if failed:
        print(f"\nFAILED: {', '.join(failed)} (their output is above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
