"""Never oversell: 100 concurrent reservations for the last unit give exactly one 201 and
99 × 409, on SQLite and PostgreSQL, and with two server processes on one PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import requests

from adapters.db.database import Database
from tests.api_fixtures import Api, add_places, api, make_keys, receipt
from tests.conftest import truncate_all

__all__ = ["api"]
ROOT = Path(__file__).resolve().parents[2]
SERVE = "import sys; from adapters.cli import main; sys.exit(main(sys.argv[1:]))"


async def race(urls: list[str], key: str, count: int = 100) -> Counter[int]:
    """`count` reservations of the same single unit, sent at once, spread over `urls`."""
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(index: int) -> int:
            body = {
                "reservation_id": f"race-{index}",
                "location": "S-BER",
                "lines": [{"sku": "LAST", "quantity": 1}],
            }
            url = urls[index % len(urls)] + "/v1/reservations"
            async with session.post(url, json=body) as response:
                await response.read()
                return response.status

        return Counter(await asyncio.gather(*(one(i) for i in range(count))))


def held(db: Database) -> int:
    return db.reader.position("LAST", "S-BER").reserved


def test_last_unit_is_reserved_once(api: Api) -> None:
    api.events(receipt("r", "LAST", "S-BER", 1))
    outcome = asyncio.run(race([api.url], api.keys["ingest"]))
    assert outcome == {201: 1, 409: 99}
    assert held(api.db) == 1


def test_last_unit_from_100_threads_without_the_server(database: Database) -> None:
    """The database alone keeps the promise (no in-process queue): 100 threads, one unit."""
    from concurrent.futures import ThreadPoolExecutor

    from inventory.events import EventType, StockEvent
    from inventory.reservations import Line
    from inventory.services.reservations import reserve

    add_places(database)
    database.ledger.append([StockEvent("r", EventType.RECEIPT, "LAST", "S-BER", 1, 1)])

    def one(index: int) -> str:
        return reserve(database.unit_of_work, f"t{index}", "S-BER", [Line("LAST", 1)], None).status

    with ThreadPoolExecutor(16) as pool:
        outcome = Counter(pool.map(one, range(100)))
    assert outcome == {"created": 1, "short": 99}
    assert held(database) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def two_servers(pg_url: str) -> Iterator[tuple[list[str], Database]]:
    db = Database(pg_url)
    truncate_all(db)
    add_places(db)
    ports = [free_port(), free_port()]
    env = {**os.environ, "INVENTORY_SWEEP_INTERVAL": "0"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--db", pg_url, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
                try:
                    if requests.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:  # not up yet, or slow to answer
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield urls, db
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
        db.close()


def test_two_processes_on_one_postgresql(two_servers: tuple[list[str], Database]) -> None:
    urls, db = two_servers
    keys = make_keys(db)
    response = requests.post(
        urls[0] + "/v1/events",
        json={"events": [receipt("r", "LAST", "S-BER", 1)]},
        headers={"Authorization": f"Bearer {keys['ingest']}"},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1
    outcome = asyncio.run(race(urls, keys["ingest"]))
    assert outcome == {201: 1, 409: 99}
    assert held(db) == 1
