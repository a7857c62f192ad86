"""Compare two benchmark runs: what got faster or slower beyond noise.

    .venv/bin/python scripts/bench_compare.py OLD.json NEW.json [--floor 0.05] [--all]
                                              [--fail-on-slower]

Takes the JSON of `make bench` / `scripts/bench_all.py --json` or of one `bench_*.py --json`.
Figures are matched by name and compared by their ratio to the baseline measured in the same
run (by their value when they have no baseline): the machine is shared, the ratios are what
carry over between runs.  A change is beyond noise when it is larger than the spread of either
run (max - min over the rounds, relative to the median) and than --floor; a figure measured in a
single round (no spread known) must change by more than --single-floor.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchlib as b

SPEED_UNITS = ("/s", "s", "ms")


def figures(path: str) -> tuple[dict[str, b.Figure], dict[str, Any]]:
    body = json.loads(Path(path).read_text())
    runs = body["benchmarks"] if body.get("kind") == "scoreboard" else [body]
    found = {}
    for run in runs:
        for data in run.get("figures", []):
            found[data["name"]] = b.Figure.from_json(data)
    return found, body


@dataclass
class Change:
    name: str
    by: str  # "ratio" or "value"
    old: float
    new: float
    change: float  # relative, positive = better
    noise: float
    old_value: float
    new_value: float
    unit: str

    @property
    def beyond_noise(self) -> bool:
        return abs(self.change) > self.noise

    def verdict(self) -> str:
        speed = any(self.unit.endswith(u) for u in SPEED_UNITS)
        if not self.beyond_noise:
            return "same"
        if self.change > 0:
            return "faster" if speed else "better"
        return "slower" if speed else "worse"

    def line(self) -> str:
        return (
            f"  {self.name:<36} {self.by} {b.number(self.old)} -> {b.number(self.new)} "
            f"({self.change * 100:+.0f}%, noise {self.noise * 100:.0f}%)   value "
            f"{b.number(self.old_value)} -> {b.number(self.new_value)} {self.unit}"
        )


def compare(old: b.Figure, new: b.Figure, floor: float, single_floor: float) -> Change:
    by = "ratio" if old.ratio is not None and new.ratio is not None else "value"
    before = old.ratio if by == "ratio" else old.value
    after = new.ratio if by == "ratio" else new.value
    assert before is not None and after is not None
    if before == 0:
        relative = 0.0 if after == 0 else (1.0 if after > 0 else -1.0)
    else:
        relative = after / before - 1
    if not new.higher_is_better:
        relative = -relative
    rounds = min(len(old.samples), len(new.samples))
    noise = max(old.spread, new.spread, floor if rounds > 1 else single_floor)
    return Change(new.name, by, before, after, relative, noise, old.value, new.value, new.unit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument(
        "--floor", type=float, default=0.05, help="smallest change counted (default 0.05 = 5%%)"
    )
    parser.add_argument(
        "--single-floor",
        type=float,
        default=0.15,
        help="smallest change counted for a figure of one round (default 0.15)",
    )
    parser.add_argument("--all", action="store_true", help="also list the figures within noise")
    parser.add_argument(
        "--fail-on-slower", action="store_true", help="exit 1 when a figure got worse"
    )
    args = parser.parse_args()
    old, old_body = figures(args.old)
    new, new_body = figures(args.new)
    for label, body in (("OLD", old_body), ("NEW", new_body)):
        load = b.load_text(body.get("load_start", []))
        smoke = "  (SMOKE SIZES: not for deciding)" if body.get("smoke") else ""
        print(f"{label}: {body.get('started', '?')} {body.get('commit', '')} load {load}{smoke}")
    changes = [compare(old[n], new[n], args.floor, args.single_floor) for n in old if n in new]
    print(
        "\ncompared by the ratio to the same-run baseline where there is one; noise: the larger "
        f"spread of the two runs, at least {args.floor * 100:.0f}% "
        f"({args.single_floor * 100:.0f}% for a figure of one round)"
    )
    worse = [c for c in changes if c.beyond_noise and c.change < 0]
    better = [c for c in changes if c.beyond_noise and c.change > 0]
    same = [c for c in changes if not c.beyond_noise]
    for title, group in (("slower / worse", worse), ("faster / better", better)):
        print(f"\n{title} beyond noise: {len(group)}")
        for change in sorted(group, key=lambda c: c.change):
            print(f"{change.line()}  [{change.verdict()}]")
    print(f"\nwithin noise: {len(same)}")
    if args.all:
        for change in same:
            print(change.line())
    for label, names in (
        ("only in OLD", sorted(set(old) - set(new))),
        ("only in NEW", sorted(set(new) - set(old))),
    ):
        if names:
            print(f"\n{label}: {', '.join(names)}")
    return 1 if args.fail_on_slower and worse else 0


if __name__ == "__main__":
    sys.exit(main())
