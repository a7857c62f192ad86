"""The use cases on every unit of work: in memory, on SQLite and on PostgreSQL.

A test takes `backend` and runs once per store.  The backend gives the unit-of-work factory
the use cases take, the clock, the set-up the CLI would do (register locations, set safety
stock), and reads for assertions (positions through `uow.stock`, dead letters, offsets).
PostgreSQL follows the rule of `tests/conftest.py`: skipped without a server, unless
INVENTORY_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import pytest

from adapters.db import intake_log
from adapters.db import tables as t
from adapters.db.database import Database
from adapters.memory import MemoryStore
from inventory.ports import UnitOfWorkFactory
from inventory.projection import Position
from inventory.stock import Key
from tests.conftest import BACKENDS, Clock, empty_database_url, truncate_all


@dataclass(frozen=True)
class Letter:
    """A stored dead letter, the same on every backend."""

    id: int
    source: str
    offset: int
    status: str
    reason: str


class Backend(Protocol):
    name: str
    clock: Clock

    @property
    def factory(self) -> UnitOfWorkFactory: ...

    def add_locations(self, *ids: str) -> None: ...

    def set_safety_stock(self, location: str, quantity: int, sku: str | None = None) -> None: ...

    def dead_letters(self) -> list[Letter]: ...

    def offsets(self, group: str) -> dict[tuple[str, int], int]: ...

    def reset(self) -> None:
        """Empty the store (between the examples of a property test)."""
        ...


def positions(backend: Backend, keys: list[Key]) -> dict[Key, Position]:
    """Positions now, read through a unit of work as the use cases read them."""
    with backend.factory() as uow:
        return uow.stock.positions(keys, backend.clock())


def position(backend: Backend, sku: str, location: str) -> Position:
    return positions(backend, [(sku, location)])[(sku, location)]


class MemoryBackend:
    name = "memory"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.store = MemoryStore(clock)

    @property
    def factory(self) -> UnitOfWorkFactory:
        return self.store.unit_of_work

    def add_locations(self, *ids: str) -> None:
        self.store.add_locations(ids)

    def set_safety_stock(self, location: str, quantity: int, sku: str | None = None) -> None:
        self.store.set_safety_stock(location, quantity, sku)

    def dead_letters(self) -> list[Letter]:
        return [
            Letter(x.id, x.letter.message.source, x.letter.message.offset, x.status, x.reason)
            for x in self.store.dead_letters(status=None)
        ]

    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        return self.store.offsets(group)

    def reset(self) -> None:
        self.store = MemoryStore(self.clock)


class SqlBackend:
    def __init__(self, name: str, url: str, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self.db = Database(url, clock=clock)

    @property
    def factory(self) -> UnitOfWorkFactory:
        return self.db.unit_of_work

    def add_locations(self, *ids: str) -> None:
        rows = [{"id": x, "name": x, "kind": "store", "lat": 52.5, "lon": 13.4} for x in ids]
        with self.db.engines.write.begin() as connection:
            connection.execute(t.locations.insert(), rows)

    def set_safety_stock(self, location: str, quantity: int, sku: str | None = None) -> None:
        self.db.set_safety_stock(location, quantity, sku)

    def dead_letters(self) -> list[Letter]:
        return [
            Letter(r.id, r.source, r.offset, r.status, r.reason)
            for r in intake_log.list_dead_letters(self.db, status=None, limit=10_000)
        ]

    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        return intake_log.load_offsets(self.db, group)

    def reset(self) -> None:
        truncate_all(self.db)

    def close(self) -> None:
        self.db.close()


@pytest.fixture(params=["memory", *(b for b in BACKENDS if b)])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clock: Clock
) -> Iterator[Backend]:
    """An empty store behind the use cases: memory, then each SQL backend."""
    if request.param == "memory":
        yield MemoryBackend(clock)
        return
    url = empty_database_url(request.param, request, tmp_path_factory)
    sql = SqlBackend(request.param, url, clock)
    yield sql
    sql.close()
