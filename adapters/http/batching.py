"""Group commit for reservations on SQLite: many checkouts, one transaction.

SQLite has one writer, and a reservation's own work is small next to its transaction's begin
and commit.  Requests that arrive while the writer is busy wait in a queue; the writer then
takes them all (up to `MAX_BATCH`) into one transaction, one savepoint each, in arrival order.
Each sees the holds of those before it (same connection), so the never-oversell check is the
same as one transaction each; one that fails rolls back its savepoint alone.  On PostgreSQL
reservations run in parallel instead (row locks), so nothing is batched there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from adapters.http.blocking import in_writer
from adapters.http.keys import DB_KEY
from inventory.ports import UnitOfWorkFactory
from inventory.reservations import ReserveResult
from inventory.services.reservations import reserve, reserve_many

MAX_BATCH = 200
BATCHER_KEY: web.AppKey[ReserveBatcher] = web.AppKey("reserve_batcher")


class ReserveBatcher:
    def __init__(self) -> None:
        self.pending: list[tuple[dict[str, Any], asyncio.Future[ReserveResult]]] = []
        self.draining = False

    async def reserve(self, app: web.Application, **arguments: Any) -> ReserveResult:
        db = app[DB_KEY]
        if db.engines.dialect != "sqlite":
            return await in_writer(app, reserve, db.unit_of_work, **arguments)
        future: asyncio.Future[ReserveResult] = asyncio.get_running_loop().create_future()
        self.pending.append((arguments, future))
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain(app))
        return await future

    async def _drain(self, app: web.Application) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                try:
                    factory: UnitOfWorkFactory = app[DB_KEY].unit_of_work
                    results = await in_writer(
                        app, reserve_many, factory, [arguments for arguments, _ in batch]
                    )
                except Exception as error:  # the commit itself failed: nothing was reserved
                    results = [error] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.draining = False
