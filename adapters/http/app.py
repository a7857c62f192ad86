"""The availability service: one aiohttp application assembled from feature modules.

How a feature plugs in
----------------------
1. Write the handlers in a module of their own, and add each route to the one table of routes,
   `adapters.http.routes.ROUTES` (that also puts it in /openapi.json).
2. If the feature needs state or background work, give its module `setup(app)` and add its
   dotted name to `FEATURE_MODULES` below (an import error there stops the service at start:
   a listed feature never silently disappears).
3. Shared objects are on the application under the keys in `adapters.http.keys`:
   `request.config_dict[DB_KEY]` (the Database), `SETTINGS_KEY`, `CHANNELS_KEY`,
   `LOCATIONS_KEY`, `METRICS_KEY`, `KEYSTORE_KEY`, `EXECUTOR_KEY`.
4. Authentication is on by default: every route needs an API key.  Mark handlers with
   `@requires("read")` (or "store", "ingest", "admin") from `adapters.http.auth`; use
   `caller(request)` to see the key's scopes and `ensure_location(request, loc)` for store keys.
   Routes that authenticate differently (HMAC-signed webhooks, cookie sessions) use `@public`.
5. Errors: raise `adapters.http.problems.Problem(status, title, detail, errors=[...])`; parse
   bodies with `read_body(request, Model)`.  Any other exception becomes a 500 problem.
6. Feature modules write no SQL: stock is read through `db.reader` (the read model in
   `adapters.db.stock_reads`, whose `current` is the cached hot path), everything else through
   the small modules of `adapters.db` named for what they hold.
   Blocking database work goes through `await in_thread(request.app, fn, *args)`
   (`adapters.http.blocking`), so the event loop keeps serving; transactions that write use
   `await in_writer(request.app, fn, *args)` (one writer thread on SQLite).
7. Background work: append to `app.cleanup_ctx` inside `setup`.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from adapters.db.database import Database
from adapters.http import routes
from adapters.http.auth import KeyStore, auth_middleware
from adapters.http.channels import ChannelBook
from adapters.http.keys import (
    CHANNELS_KEY,
    DB_KEY,
    EXECUTOR_KEY,
    KEYSTORE_KEY,
    LOCATIONS_KEY,
    METRICS_KEY,
    SETTINGS_KEY,
    STOCK_READS_KEY,
    WRITER_KEY,
)
from adapters.http.locations import LocationBook
from adapters.http.metrics import Metrics, metrics_middleware
from adapters.http.problems import error_middleware
from adapters.http.settings import Settings

FEATURE_MODULES: list[str] = [
    "adapters.http.reservations",
    "adapters.http.sweeper",
    "adapters.http.routing",
    "adapters.http.webhooks",
    "adapters.http.staff",
]


def create_app(db: Database, settings: Settings | None = None) -> web.Application:
    """The application over `db`, with every feature in FEATURE_MODULES set up."""
    settings = settings or Settings()
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware, auth_middleware],
        client_max_size=settings.max_body_bytes,
        handler_args={"max_line_size": 32 * 1024},  # long location lists in a query string
    )
    app[DB_KEY] = db
    app[SETTINGS_KEY] = settings
    executor = ThreadPoolExecutor(settings.db_threads, thread_name_prefix="inventory-db")
    app[EXECUTOR_KEY] = executor
    writer = executor
    if db.engines.dialect == "sqlite":
        writer = ThreadPoolExecutor(1, thread_name_prefix="inventory-writer")
    app[WRITER_KEY] = writer
    app[KEYSTORE_KEY] = KeyStore(db, settings.key_cache_seconds)
    app[CHANNELS_KEY] = ChannelBook(db, settings.channels_file)
    app[LOCATIONS_KEY] = LocationBook(db)
    app[METRICS_KEY] = Metrics()
    app[STOCK_READS_KEY] = db.reader

    async def executor_lifetime(_app: web.Application) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=True, cancel_futures=True)
        writer.shutdown(wait=True, cancel_futures=True)
        db.reader.close()  # the threads' own connections go with the threads

    app.cleanup_ctx.append(executor_lifetime)
    for name in FEATURE_MODULES:
        importlib.import_module(name).setup(app)
    routes.register(app)
    return app
