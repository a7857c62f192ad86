"""Availability reads: one SKU (with location, channel, near and as_of filters) or a batch.

Current stock comes from the projection tables with expired reservations taken off at once;
`as_of` folds the ledger.  An unknown SKU is simply zero everywhere (storefronts ask before
stock exists).  With explicit locations every one of them is answered (zeros where nothing is
held); otherwise the locations holding a position for the SKU are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from adapters.http.auth import requires
from adapters.http.blocking import in_thread
from adapters.http.channels import resolve
from adapters.http.keys import DB_KEY, LOCATIONS_KEY, SETTINGS_KEY, STOCK_READS_KEY
from adapters.http.problems import Problem, check_name, field_errors, read_body
from adapters.http.query_hints import availability_query_errors
from adapters.http.responses import instant_text, json_response
from inventory.events import to_micros
from inventory.projection import Position
from schemas.api import AvailabilityQuery, BatchRequest


@dataclass
class Scope:
    """Which locations to answer for, how far each is, and what the channel holds back."""

    explicit: list[str] | None = None  # answer every one of these
    allowed: set[str] | None = None  # only these count (channel and radius)
    distances: dict[str, float] | None = None
    buffer: int = 0

    def signature(self) -> tuple[Any, ...]:
        return (
            None if self.explicit is None else tuple(self.explicit),
            None if self.allowed is None else tuple(sorted(self.allowed)),
            None if self.distances is None else tuple(sorted(self.distances.items())),
            self.buffer,
        )


def answer(sku: str, positions: list[Position], scope: Scope, as_of: str) -> dict[str, Any]:
    rows = []
    for p in positions:
        if scope.allowed is not None and p.location not in scope.allowed:
            continue
        row: dict[str, Any] = {
            "location": p.location,
            "on_hand": p.on_hand,
            "reserved": p.reserved,
            "in_transit": p.in_transit,
            "safety_stock": p.safety_stock,
            "available": p.sellable(scope.buffer),
        }
        if scope.distances is not None:
            row["distance_km"] = scope.distances[p.location]
        rows.append(row)
    if scope.distances is not None:
        rows.sort(key=lambda r: (r["distance_km"], r["location"]))
    else:
        rows.sort(key=lambda r: r["location"])
    return {
        "sku": sku,
        "as_of": as_of,
        "total_available": sum(r["available"] for r in rows),
        "locations": rows,
    }


def build_scope(
    app: web.Application,
    locations: list[str] | None,
    channel: str | None,
    near: tuple[float, float] | None,
    radius_km: float,
) -> Scope:
    """Reads the (cached) locations and channel tables."""
    scope = Scope(explicit=sorted(set(locations)) if locations else None)
    if channel is not None:
        fed, scope.buffer = resolve(app, channel)
        scope.allowed = fed
    if near is not None:
        found = app[LOCATIONS_KEY].within(near[0], near[1], radius_km)
        scope.distances = dict(found)
        inside = set(scope.distances)
        scope.allowed = inside if scope.allowed is None else scope.allowed & inside
    if scope.explicit is not None and scope.allowed is not None:
        scope.explicit = [loc for loc in scope.explicit if loc in scope.allowed]
    return scope


def lookup(
    app: web.Application, skus: list[str], scope: Scope, at: int | None
) -> tuple[str, list[dict[str, Any]]]:
    db = app[DB_KEY]
    now = db.reader.clock()
    wanted = scope.explicit
    if wanted is None and scope.allowed is not None:
        wanted = sorted(scope.allowed)  # only positions that exist there
    by_sku: dict[str, list[Position]]
    if at is None:
        fill = scope.explicit is not None
        reads = app[STOCK_READS_KEY]
        by_sku = reads.current(skus, wanted, now, fill) if wanted != [] else {}
    else:
        by_sku = {}
        for sku in skus:
            past = {p.location: p for p in db.reader.as_of(sku, at)}
            if scope.explicit is not None:
                past = {loc: past.get(loc) or Position(sku, loc, 0, 0, 0) for loc in scope.explicit}
            by_sku[sku] = list(past.values())
    stamp = instant_text(at if at is not None else now)
    signature = scope.signature()
    items = []
    for sku in skus:
        positions = by_sku.get(sku, [])
        # an answer built from remembered positions is remembered with them (`Remembered`)
        memo: dict[Any, dict[str, Any]] | None = getattr(positions, "memo", None)
        item = memo.get(signature) if memo is not None else None
        if item is None:
            item = answer(sku, positions, scope, stamp)
            if memo is not None:
                memo[signature] = item
        items.append({**item, "as_of": stamp})
    return stamp, items


def scoped_lookup(
    app: web.Application,
    skus: list[str],
    locations: list[str] | None,
    channel: str | None,
    near: tuple[float, float] | None,
    radius_km: float,
    at: int | None,
) -> tuple[str, list[dict[str, Any]]]:
    scope = build_scope(app, locations, channel, near, radius_km)
    return lookup(app, skus, scope, at)


PLAIN_QUERY = AvailabilityQuery()


def parse_query(request: web.Request) -> AvailabilityQuery:
    raw: dict[str, Any] = {k: v for k, v in request.query.items() if k != "location"}
    raw["location"] = request.query.getall("location", [])
    hints = availability_query_errors(request.query)
    if hints:
        raise Problem(422, "Invalid parameter", None, hints)
    try:
        return AvailabilityQuery.model_validate(raw)
    except ValidationError as error:
        raise Problem(422, "Invalid parameter", None, field_errors(error)) from None


def parse_near(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    lat, lon = (float(part) for part in text.split(","))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Problem(
            422,
            "Invalid parameter",
            None,
            [{"field": "near", "reason": "latitude must be within ±90 and longitude within ±180"}],
        )
    return lat, lon


@requires("read")
async def get_availability(request: web.Request) -> web.Response:
    sku = check_name(request.match_info["sku"], "sku")
    query = PLAIN_QUERY if not request.query else parse_query(request)
    app = request.app
    near = parse_near(query.near)
    at = None if query.as_of is None else to_micros(query.as_of)
    arguments = (app, [sku], query.location or None, query.channel, near, query.radius_km, at)
    if app[STOCK_READS_KEY].inline and at is None:
        _, items = scoped_lookup(*arguments)  # quicker than a hop to the pool (measured)
    else:
        _, items = await in_thread(app, scoped_lookup, *arguments)
    return json_response(items[0])


@requires("read")
async def batch_availability(request: web.Request) -> web.Response:
    body = await read_body(request, BatchRequest)
    limit = request.config_dict[SETTINGS_KEY].max_batch_skus
    if len(body.skus) > limit:
        raise Problem(
            413,
            "Too many SKUs",
            f"a batch holds at most {limit} SKUs",
            [{"field": "skus", "reason": f"at most {limit} SKUs, got {len(body.skus)}"}],
            limit=limit,
        )
    skus = list(dict.fromkeys(body.skus))
    app = request.app
    stamp, items = await in_thread(
        app, scoped_lookup, app, skus, body.locations, body.channel, None, 0.0, None
    )
    return json_response({"as_of": stamp, "items": items})
