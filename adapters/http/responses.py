"""Fast JSON responses (orjson)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def instant_text(micros: int) -> str:
    """Same text as `inventory.events.format_instant`, several times faster (a hot path)."""
    seconds, fraction = divmod(micros, 1_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{text}.{fraction:06d}Z" if fraction else text + "Z"
