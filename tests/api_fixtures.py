"""Fixtures for the HTTP API tests: a real server on a free 127.0.0.1 port (in a thread of this
process, sharing the test's database and clock), keys for every role, and a small network."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from aiohttp import web

from adapters.db import tables as t
from adapters.db.database import Database
from adapters.http.app import create_app
from adapters.http.auth import KeyStore
from adapters.http.settings import Settings

# Berlin store, Potsdam store (no shipping), Hamburg store, Kassel warehouse
PLACES = [
    {"id": "S-BER", "kind": "store", "lat": 52.5200, "lon": 13.4050, "ship_enabled": True},
    {"id": "S-POT", "kind": "store", "lat": 52.3906, "lon": 13.0645, "ship_enabled": False},
    {"id": "S-HAM", "kind": "store", "lat": 53.5511, "lon": 9.9937, "ship_enabled": True},
    {"id": "WH-KS", "kind": "warehouse", "lat": 51.3127, "lon": 9.4797, "ship_enabled": True},
]


def add_places(db: Database) -> None:
    rows = [
        {"name": p["id"], "timezone": "Europe/Berlin", "pickup_enabled": True, **p} for p in PLACES
    ]
    with db.engines.write.begin() as connection:
        connection.execute(t.locations.insert(), rows)


class ServerThread:
    """An application served on 127.0.0.1:<free port> by its own event loop thread."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    async def _start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]

    def __enter__(self) -> ServerThread:
        self.thread.start()
        assert self.ready.wait(30), "server did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Api:
    """A running server, its database and a key per role; `call` returns (status, JSON)."""

    url: str
    db: Database
    keys: dict[str, str]
    session: requests.Session
    app: web.Application

    def call(
        self,
        method: str,
        path: str,
        role: str | None = "admin",
        json: Any = None,
        data: bytes | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if role is not None:
            sent["Authorization"] = f"Bearer {self.keys[role]}"
        response = self.session.request(
            method, self.url + path, json=json, data=data, params=params, headers=sent, timeout=30
        )
        kind = response.headers.get("Content-Type", "")
        body = response.json() if "json" in kind else response.text
        return response.status_code, body

    def events(self, *events: dict[str, Any]) -> dict[str, Any]:
        status, body = self.call("POST", "/v1/events", "ingest", json={"events": list(events)})
        assert status == 200, body
        return body


def make_keys(db: Database) -> dict[str, str]:
    store = KeyStore(db)
    return {
        "read": store.create("storefront", ["read"]),
        "store": store.create("tablet Berlin", ["store:S-BER"]),
        "ingest": store.create("shop back end", ["ingest"]),
        "admin": store.create("operator", ["admin"]),
    }


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    add_places(database)
    keys = make_keys(database)
    app = create_app(database, Settings(sweep_interval_seconds=0, max_body_bytes=1024 * 1024))
    with ServerThread(app) as server, requests.Session() as session:
        yield Api(server.url, database, keys, session, app)


def receipt(
    event_id: str, sku: str, location: str, quantity: int, at: str = "2026-06-01T08:00:00Z"
):
    return {
        "event_id": event_id,
        "type": "receipt",
        "sku": sku,
        "location": location,
        "quantity": quantity,
        "occurred_at": at,
    }
