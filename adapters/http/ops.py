"""Operations routes: health, Prometheus metrics and the OpenAPI document (no key needed)."""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.http.auth import public
from adapters.http.blocking import in_thread
from adapters.http.keys import DB_KEY, METRICS_KEY
from adapters.http.openapi import build_document
from adapters.http.problems import problem
from adapters.http.responses import json_response
from schemas.api import Health

log = logging.getLogger("inventory.http")


@public
async def healthz(request: web.Request) -> web.Response:
    """Ready when the database answers."""
    db = request.config_dict[DB_KEY]
    try:
        head = await in_thread(request.app, db.reader.head)
    except Exception as error:  # the database is down: say so, do not crash
        return problem(503, "Database unavailable", type(error).__name__)
    return json_response(
        Health(status="ok", database=db.engines.dialect, ledger_head=head).model_dump()
    )


@public
async def metrics(request: web.Request) -> web.Response:
    found = request.config_dict[METRICS_KEY]
    db = request.config_dict[DB_KEY]
    try:  # one read of the (small) oversold set: the gauge is exact at the scrape
        oversold = await in_thread(request.app, db.reader.oversold)
    except Exception:  # the database is down: the other metrics still answer
        log.warning("oversold positions not read for /metrics", exc_info=True)
    else:
        found.oversold.set(len(oversold))
    body, content_type = found.exposition()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


@public
async def openapi(request: web.Request) -> web.Response:
    return json_response(build_document(request.app))
