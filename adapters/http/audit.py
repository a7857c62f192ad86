"""Audit reads: the ledger itself (paged by position) and all stock at one location (paged by
SKU)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.db.database import Database
from adapters.http.auth import requires
from adapters.http.blocking import in_thread
from adapters.http.keys import DB_KEY, LOCATIONS_KEY
from adapters.http.problems import Problem, check_name, field_errors
from adapters.http.responses import json_response
from inventory.events import format_instant
from schemas.api import LedgerQuery, StockPageQuery


def parse_query(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as error:
        raise Problem(422, "Invalid parameter", None, field_errors(error)) from None


@requires("admin")
async def ledger(request: web.Request) -> web.Response:
    query: LedgerQuery = parse_query(request, LedgerQuery)
    db = request.config_dict[DB_KEY]
    lines = await in_thread(
        request.app, db.reader.history, query.sku, query.location, query.after, query.limit
    )
    events = [{"position": position, **event.content()} for position, event in lines]
    next_after = lines[-1][0] if len(lines) == query.limit else None
    return json_response({"events": events, "next_after": next_after})


def stock_page(db: Database, location: str, after: str | None, limit: int) -> dict[str, Any]:
    now = db.reader.clock()
    positions = db.reader.at_location(location, after, limit, now)
    items = []
    for p in positions:
        item = p.as_dict()
        item.pop("location")
        items.append(item)
    return {
        "location": location,
        "as_of": format_instant(now),
        "positions": items,
        "next_after": items[-1]["sku"] if len(items) == limit else None,
    }


@requires("read")
async def location_stock(request: web.Request) -> web.Response:
    location = check_name(request.match_info["location"], "location")
    query: StockPageQuery = parse_query(request, StockPageQuery)
    app = request.app
    if await in_thread(app, app[LOCATIONS_KEY].unknown, [location]):
        raise Problem(404, "Not found", f"no location {location!r}")
    db = request.config_dict[DB_KEY]
    return json_response(await in_thread(app, stock_page, db, location, query.after, query.limit))
