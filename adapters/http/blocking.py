"""Database calls run on the service's thread pool, never on the event loop.

SQLAlchemy and the drivers block; a lookup that waits for a lock or the disk would stall every
other request.  `await in_thread(request.app, function, *args)` runs it on the pool.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from adapters.http.keys import EXECUTOR_KEY, WRITER_KEY

T = TypeVar("T")


async def in_thread(app: web.Application, function: Callable[..., T], *args: Any, **kw: Any) -> T:
    call = functools.partial(function, *args, **kw) if kw else functools.partial(function, *args)
    return await asyncio.get_running_loop().run_in_executor(app[EXECUTOR_KEY], call)


async def in_writer(app: web.Application, function: Callable[..., T], *args: Any, **kw: Any) -> T:
    call = functools.partial(function, *args, **kw) if kw else functools.partial(function, *args)
    return await asyncio.get_running_loop().run_in_executor(app[WRITER_KEY], call)
