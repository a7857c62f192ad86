"""Benchmark of the availability API: req/s and p50/p99 latency, as ratios to a bare handler.

    .venv/bin/python scripts/bench_api.py [--backends sqlite,postgresql] [--db URL]
                                          [--seconds 10] [--connections 50] [--rounds 3]
                                          [--smoke] [--json PATH]

Serves the demo data (seeded into a scratch database per backend, or the database of --db)
with `inventory serve` in its own process, beside a bare aiohttp handler (uvloop, a fixed
JSON body: a real single-lookup answer, byte for byte) in another process, and loads each with
wrk (1 thread, --connections connections, --seconds per run) from a third process on
127.0.0.1.  Each round runs the bare handler and the three scenarios in turn (the order
reversed every other round); each scenario's ratio is read against the bare run of its round.

Scenarios: `single` (a random demo SKU at all its locations), `batch100` (100 random SKUs in
one request), `reserve` (1 unit of a random SKU at a warehouse, a fresh reservation id each).
Figures `api/<db>/<scenario>` (req/s) and `api/<db>/<scenario>-p99` (ms).  Targets: single
lookup >= 0.7 of the bare handler's req/s with p99 < 10 ms; >= 1,000 reservations/s on SQLite.

Needs `wrk` (Debian package).  With --smoke and no wrk, a short sequential Python client
takes its place, so that the server path is still exercised.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as b

from adapters.db.database import Database
from adapters.demo import seed
from inventory.events import EventType, StockEvent

ROOT = b.ROOT
BARE = """
import asyncio, os, sys, time, uvloop
from aiohttp import web
while not os.path.exists(sys.argv[2]):  # written once the API has answered
    time.sleep(0.02)
BODY = open(sys.argv[2], "rb").read()
async def handler(request):
    return web.Response(body=BODY, content_type="application/json")
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
app = web.Application()
app.router.add_get("/v1/availability/{sku}", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""

# wrk script: picks a path/body per request, counts statuses, prints a JSON summary
LUA = """
local skus = {%(skus)s}
local stocked = {%(stocked)s}
local mode = "%(mode)s"
local key = "%(key)s"
local counter = 0
local statuses = {}
math.randomseed(%(seed)d)
request = function()
  counter = counter + 1
  local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
  if mode == "single" then
    return wrk.format("GET", "/v1/availability/" .. skus[math.random(#skus)], headers)
  elseif mode == "batch100" then
    local picked = {}
    for i = 1, 100 do picked[i] = '"' .. skus[math.random(#skus)] .. '"' end
    return wrk.format("POST", "/v1/availability/batch", headers,
      '{"skus": [' .. table.concat(picked, ",") .. ']}')
  else
    local pair = stocked[math.random(#stocked)]
    local body = string.format(
      '{"reservation_id": "bench-%(seed)d-%%d", "location": "%%s", ' ..
      '"lines": [{"sku": "%%s", "quantity": 1}], "ttl_seconds": 600}',
      counter, pair[2], pair[1])
    return wrk.format("POST", "/v1/reservations", headers, body)
  end
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"rps": %%.1f, "p50_ms": %%.3f, "p99_ms": %%.3f, "requests": %%d, "errors": %%d}\\n',
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
"""
SCENARIOS = ("single", "batch100", "reserve")
WORDS = {"single": "single lookup", "batch100": "batch of 100", "reserve": "reservations"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server at {url} exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, script: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", file.name, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(file.name)
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line[len("RESULT ") :]))


def python_client(url: str, mode: str, key: str, load: Load, count: int = 40) -> dict[str, float]:
    """A short sequential client in this process, where wrk is missing (smoke runs only)."""
    rng = random.Random(5)
    headers = {"Authorization": f"Bearer {key}"}
    times, errors = [], 0
    with requests.Session() as session:
        started = time.perf_counter()
        for n in range(count):
            t0 = time.perf_counter()
            if mode == "single":
                answer = session.get(
                    f"{url}/v1/availability/{rng.choice(load.skus)}", headers=headers
                )
            elif mode == "batch100":
                body = {"skus": [rng.choice(load.skus) for _ in range(100)]}
                answer = session.post(f"{url}/v1/availability/batch", json=body, headers=headers)
            else:
                sku, location = rng.choice(load.stocked)
                body = {
                    "reservation_id": f"bench-py-{time.time_ns()}-{n}",
                    "location": location,
                    "lines": [{"sku": sku, "quantity": 1}],
                    "ttl_seconds": 600,
                }
                answer = session.post(f"{url}/v1/reservations", json=body, headers=headers)
            times.append(time.perf_counter() - t0)
            errors += not answer.ok
        elapsed = time.perf_counter() - started
    times.sort()
    return {
        "rps": count / elapsed,
        "p50_ms": times[len(times) // 2] * 1000,
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
        "requests": count,
        "errors": errors,
    }


class Load:
    """What the load generator needs: the keys, the SKUs, the stocked (sku, warehouse) pairs."""

    def __init__(self, read_key: str, ingest_key: str, skus: list[str], stocked: list) -> None:
        self.keys = {"single": read_key, "batch100": read_key, "reserve": ingest_key}
        self.skus = skus
        self.stocked = stocked

    def lua(self, mode: str) -> str:
        return LUA % {
            "skus": ", ".join(f'"{sku}"' for sku in self.skus),
            "stocked": ", ".join(f'{{"{sku}", "{location}"}}' for sku, location in self.stocked),
            "mode": mode,
            "key": self.keys[mode],
            "seed": random.randrange(10**6),
        }


def stocked_pairs(db: Database, warehouses: list[str]) -> list[tuple[str, str]]:
    """(sku, location) pairs stocked deep enough that every benchmark reservation can succeed
    (receipts of extra SKUs, written once; their event ids make a rerun a no-op)."""
    pairs = [(f"BENCH-{n:03d}", warehouse) for n in range(100) for warehouse in warehouses]
    db.ledger.append(
        [
            StockEvent(
                f"bench-receipt-{sku}-{location}",
                EventType.RECEIPT,
                sku,
                location,
                10**8,
                db.ledger.clock(),
            )
            for sku, location in pairs
        ]
    )
    return pairs


def prepare(url: str, smoke: bool) -> Load:
    db = Database(url)
    started = time.perf_counter()
    report = seed(db, days=1, stores=4, skus=60) if smoke else seed(db)
    print(f"  demo data: {report.events} events ({time.perf_counter() - started:.1f} s)")
    skus = [p.sku for p in report.network.products]
    stocked = stocked_pairs(db, [w.id for w in report.network.warehouses])
    db.close()
    read_key = b.command("keys", "create", "--db", url, "--scope", "read", "--name", "bench")
    ingest_key = b.command("keys", "create", "--db", url, "--scope", "ingest", "--name", "bench")
    # what a running server's sweeper would have done already
    b.command("sweep", "--db", url)
    return Load(read_key.strip(), ingest_key.strip(), skus, stocked)


@contextmanager
def servers(url: str, load: Load, scratch: Path) -> Iterator[tuple[str, str]]:
    """The API (`inventory serve`, its expiry sweeper on, as in production) and the bare
    handler, each in its own process: their base URLs."""
    api_port, bare_port = free_port(), free_port()
    serve = [*b.CLI, "serve", "--db", url, "--port", str(api_port)]
    api = subprocess.Popen(serve, cwd=ROOT, stdout=subprocess.DEVNULL)
    # the bare handler starts meanwhile; its body is written before its first request
    body = scratch / "body.json"
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port), str(body)], cwd=ROOT)
    processes = [api, bare]
    api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    try:
        wait_ready(api_url + "/healthz", api)
        sample = requests.get(
            f"{api_url}/v1/availability/{load.skus[0]}",
            headers={"Authorization": f"Bearer {load.keys['single']}"},
            timeout=10,
        )
        assert sample.ok, sample.text
        body.with_suffix(".tmp").write_bytes(sample.content)
        body.with_suffix(".tmp").rename(body)
        wait_ready(bare_url + "/v1/availability/x", bare)
        yield api_url, bare_url
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)


def run(backend: str, url: str, args: Any, report: b.Report) -> None:
    print(f"{backend}: {args.rounds} round(s) of {args.seconds} s per run", flush=True)
    load = prepare(url, args.smoke)
    use_wrk = shutil.which("wrk") is not None
    with (
        tempfile.TemporaryDirectory(prefix="bench-api-") as folder,
        servers(url, load, Path(folder)) as (api_url, bare_url),
    ):

        def measure(target: str, mode: str) -> dict[str, float]:
            if use_wrk:
                return wrk(target, load.lua(mode), args.seconds, args.connections)
            return python_client(target, mode, load.keys[mode], load)

        if not args.smoke:
            measure(api_url, "single")  # warm caches and pools
        results: dict[str, list[dict[str, float]]] = {"bare": [], **{s: [] for s in SCENARIOS}}

        def step(name: str) -> Any:
            def once() -> float:
                figure = measure(bare_url, "single") if name == "bare" else measure(api_url, name)
                results[name].append(figure)
                return figure["rps"]

            return once

        b.alternate(args.rounds, step("bare"), *(step(s) for s in SCENARIOS))
    if not use_wrk:
        report.note("wrk missing: a sequential Python client measured (figures not comparable)")
    bare = results["bare"]
    for scenario in SCENARIOS:
        runs = results[scenario]
        errors = sum(r["errors"] for r in runs)
        if errors:
            report.note(f"api/{backend}/{scenario}: {errors:.0f} failed or non-2xx responses")
        if args.smoke and errors:
            raise SystemExit(f"{scenario}: {errors:.0f} failed or non-2xx responses")
        target = None
        if scenario == "single":
            target = b.at_least(0.7, on="ratio")
        elif scenario == "reserve" and backend == "sqlite":
            target = b.at_least(1000)
        report.add(
            b.Figure(
                f"api/{backend}/{scenario}",
                "req/s",
                [r["rps"] for r in runs],
                baseline="bare aiohttp handler",
                baseline_samples=[r["rps"] for r in bare],
                target=target,
                note=f"{WORDS[scenario]}, {args.connections} connections",
            )
        )
        report.add(
            b.Figure(
                f"api/{backend}/{scenario}-p99",
                "ms",
                [r["p99_ms"] for r in runs],
                baseline="bare aiohttp handler p99",
                baseline_samples=[r["p99_ms"] for r in bare],
                higher_is_better=False,
                target=b.at_most(10) if scenario == "single" else None,
                headline=False,
                note=f"p50 {b.median([r['p50_ms'] for r in runs]):.2f} ms",
            )
        )


def main() -> int:
    parser = b.arguments(__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--db", help="an existing database URL instead of scratch ones")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = b.parse(parser, {"seconds": 1, "connections": 10})
    report = b.Report("api", args)
    if shutil.which("wrk") is None and not args.smoke:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    expected = []
    if args.db:
        backend = "postgresql" if args.db.startswith("postgresql") else "sqlite"
        run(backend, args.db, args, report)
        expected.append(f"api/{backend}/single")
    else:
        for backend in b.usable_backends(args.backends, report):
            with b.scratch_database(backend, "api") as url:
                run(backend, url, args, report)
            expected += [f"api/{backend}/{s}" for s in SCENARIOS]
    return report.finish(expected)


if __name__ == "__main__":
    sys.exit(main())
