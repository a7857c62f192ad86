"""The expiry sweeper: writes `reservation_release` events for expired reservations, then
purges personal data and dead letters whose retention period is over.

Expired holds already stop counting the moment they expire (reads compute that); the sweeper
makes it a fact in the ledger.  Every server process may run it: its events have fixed ids, so
two sweepers releasing the same line write it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from adapters.http.blocking import in_writer
from adapters.http.keys import DB_KEY, METRICS_KEY, SETTINGS_KEY
from inventory.services.personal import purge
from inventory.services.reservations import sweep

log = logging.getLogger("inventory.sweeper")


async def sweep_once(app: web.Application) -> int:
    """Release every expired line now (in batches); the number released."""
    total = 0
    while True:
        released = await in_writer(app, sweep, app[DB_KEY].unit_of_work)
        total += released
        if released == 0:
            break
    if total:
        app[METRICS_KEY].swept.inc(total)
    purged = await in_writer(app, purge, app[DB_KEY].unit_of_work, app[SETTINGS_KEY].retention)
    if purged.records or purged.dead_letters:
        log.info(
            "purged %d personal-data records and %d dead letters past retention",
            purged.records,
            purged.dead_letters,
        )
    return total


async def _loop(app: web.Application, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            released = await sweep_once(app)
            if released:
                log.info("released %d expired reservation lines", released)
        except Exception:  # keep sweeping after a database hiccup
            log.exception("expiry sweep failed")


async def _sweeper(app: web.Application) -> AsyncIterator[None]:
    interval = app[SETTINGS_KEY].sweep_interval_seconds
    task = asyncio.create_task(_loop(app, interval)) if interval > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_sweeper)
