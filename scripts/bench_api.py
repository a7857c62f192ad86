"""Benchmark of the availability API: req/s and p50/p99 latency, as ratios to a bare handler.

Serves the demo data (seeded into a scratch SQLite file unless --db is given) with
`inventory serve` in its own process, beside a bare aiohttp handler (uvloop + orjson, a fixed
JSON body) in another process, and loads each with wrk (50 connections, 1 thread) from a third
process on 127.0.0.1:

    .venv/bin/python scripts/bench_api.py [--db URL] [--seconds 10] [--connections 50]

Scenarios: bare handler; single-SKU lookup (a random demo SKU at all its locations); batch of
100 SKUs; reservations (1 unit of a random SKU at a warehouse, a fresh id each).  Targets:
single lookup >= 0.7 of the bare handler's req/s with p99 < 10 ms; >= 1,000 reservations/s on
SQLite.  Needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.db.database import Database  # noqa: E402
from adapters.demo import seed  # noqa: E402
from adapters.http.auth import KeyStore  # noqa: E402
from inventory.events import EventType, StockEvent  # noqa: E402
from inventory.services.reservations import sweep  # noqa: E402

SERVE = "import sys; from adapters.cli import main; sys.exit(main(sys.argv[1:]))"
BARE = """
import asyncio, sys, uvloop
from aiohttp import web
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
  elseif mode == "batch" then
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
    return json.loads(line[len("RESULT ") :])


def lua(mode: str, key: str, skus: list[str], stocked: list[tuple[str, str]]) -> str:
    return LUA % {
        "skus": ", ".join(f'"{sku}"' for sku in skus),
        "stocked": ", ".join(f'{{"{sku}", "{location}"}}' for sku, location in stocked),
        "mode": mode,
        "key": key,
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: seed the demo into a scratch file)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    scratch = Path(tempfile.mkdtemp(prefix="bench_api_"))
    url = args.db or f"sqlite:///{scratch / 'inventory.db'}"
    db = Database(url)
    started = time.perf_counter()
    report = seed(db)
    print(f"demo data: {report.events} events ({time.perf_counter() - started:.1f}s), {db.url}")
    keys = KeyStore(db)
    read_key = keys.create("bench read", ["read"])
    ingest_key = keys.create("bench ingest", ["ingest"])
    skus = [p.sku for p in report.network.products]
    stocked = stocked_pairs(db, [w.id for w in report.network.warehouses])
    while sweep(db.unit_of_work):  # what a running server's sweeper would have done already
        pass
    api_port, bare_port = free_port(), free_port()
    env = dict(os.environ)  # the expiry sweeper runs, as in production
    api = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--db", url, "--port", str(api_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    processes = [api]
    try:
        wait_ready(api_url + "/healthz", api)
        # the bare handler answers with a real single-lookup body, byte for byte the same size
        sample = requests.get(
            f"{api_url}/v1/availability/{skus[0]}",
            headers={"Authorization": f"Bearer {read_key}"},
            timeout=10,
        ).content
        (scratch / "body.json").write_bytes(sample)
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE, str(bare_port), str(scratch / "body.json")], cwd=ROOT
        )
        processes.append(bare)
        wait_ready(bare_url + "/v1/availability/x", bare)

        def run(target: str, mode: str, key: str) -> dict[str, float]:
            return wrk(target, lua(mode, key, skus, stocked), args.seconds, args.connections)

        run(api_url, "single", read_key)  # warm caches and pools
        figures: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
        # each scenario beside its own bare run, so machine noise hits both alike
        for name, mode, key in (
            ("single lookup", "single", read_key),
            ("batch of 100", "batch", read_key),
            ("reservations", "reserve", ingest_key),
        ):
            figures[name] = (run(bare_url, "single", read_key), run(api_url, mode, key))
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)
        db.close()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{args.connections} connections, {args.seconds}s each, wrk -t1 on 127.0.0.1")
    print(
        f"{'scenario':<16}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}"
        f"{'bare req/s':>11}{'bare p99':>9}{'ratio':>7}"
    )
    for name, (bare_figure, figure) in figures.items():
        print(
            f"{name:<16}{figure['rps']:>9.0f}{figure['p50_ms']:>8.2f}{figure['p99_ms']:>8.2f}"
            f"{figure['errors']:>8.0f}{bare_figure['rps']:>11.0f}{bare_figure['p99_ms']:>9.2f}"
            f"{figure['rps'] / bare_figure['rps']:>7.2f}"
        )
    print("ratio: the scenario's req/s over the bare handler's, measured just before it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
