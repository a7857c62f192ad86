"""Typed keys for what the application and each request carry.

Feature modules read shared objects with `request.app[DB_KEY]` etc.; they may add their own
`web.AppKey`s in their own modules.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.db.database import Database
from adapters.db.stock_reads import StockReads

if TYPE_CHECKING:
    from adapters.http.auth import Caller, KeyStore
    from adapters.http.channels import ChannelBook
    from adapters.http.locations import LocationBook
    from adapters.http.metrics import Metrics
    from adapters.http.settings import Settings

DB_KEY = web.AppKey("db", Database)
SETTINGS_KEY: web.AppKey[Settings] = web.AppKey("settings")
EXECUTOR_KEY = web.AppKey("executor", ThreadPoolExecutor)
# writes: one thread on SQLite (see adapters.http.blocking.in_writer), else the pool above
WRITER_KEY = web.AppKey("writer", ThreadPoolExecutor)
KEYSTORE_KEY: web.AppKey[KeyStore] = web.AppKey("keystore")
CHANNELS_KEY: web.AppKey[ChannelBook] = web.AppKey("channels")
LOCATIONS_KEY: web.AppKey[LocationBook] = web.AppKey("locations")
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics")
# the stock read model (`db.reader`): its `current` answers the availability hot path
STOCK_READS_KEY = web.AppKey("stock_reads", StockReads)
# OpenAPI operations collected from the feature modules: {(method, path): operation dict}
OPERATIONS_KEY: web.AppKey[dict[tuple[str, str], dict[str, Any]]] = web.AppKey("operations")

# per request: the authenticated caller, absent on public routes
CALLER: web.RequestKey[Caller] = web.RequestKey("caller")
