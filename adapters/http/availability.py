"""Availability reads: one SKU (with location, channel, near and as_of filters) or a batch.

Current stock comes from the projection tables with expired reservations taken off at once;
`as_of` folds the ledger.  An unknown SKU is simply zero everywhere (storefronts ask before
stock exists).  With explicit locations every registered one of them is answered (zeros where
nothing is held) and the others are named in `unknown_locations` at the top of the answer,
never answered as zeros; otherwise the locations holding a position for the SKU are.  Each row
carries the position's `flags` (`inventory.projection.position_flags`: `oversold` among them).

A read is bounded by its cells, SKUs × explicit locations (`Settings.max_read_cells`): beyond
it, 413 naming the fields, before any database work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    unknown: list[str] = field(default_factory=list)  # asked for, but not registered
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
            "flags": p.flags,
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
    if scope.explicit is not None:
        # a location is unknown to a read exactly when a write naming it would be refused
        # (none is while the registry is empty); the cached registry, never a reload per miss
        places = app[LOCATIONS_KEY].places()
        if places:
            scope.unknown = [loc for loc in scope.explicit if loc not in places]
            if scope.unknown:
                scope.explicit = [loc for loc in scope.explicit if loc in places]
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
    stamp, items, _ = scoped_answer(app, skus, locations, channel, near, radius_km, at)
    return stamp, items


def scoped_answer(
    app: web.Application,
    skus: list[str],
    locations: list[str] | None,
    channel: str | None,
    near: tuple[float, float] | None,
    radius_km: float,
    at: int | None,
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """`scoped_lookup`, and the explicit locations left out as unknown."""
    scope = build_scope(app, locations, channel, near, radius_km)
    stamp, items = lookup(app, skus, scope, at)
    return stamp, items, scope.unknown


def check_cells(app: web.Application, skus: int, locations: int, fields: list[str]) -> None:
    """413 when a read asks for more cells (SKUs × explicit locations) than allowed."""
    limit = app[SETTINGS_KEY].max_read_cells
    cells = skus * locations
    if cells > limit:
        reason = f"{skus} SKUs × {locations} locations = {cells} cells; at most {limit}"
        raise Problem(
            413,
            "Too many cells",
            f"a read answers at most {limit} cells (SKUs × locations)",
            [{"field": name, "reason": reason} for name in fields],
            limit=limit,
        )


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
    if query.location:
        check_cells(app, 1, len(set(query.location)), ["location"])
    arguments = (app, [sku], query.location or None, query.channel, near, query.radius_km, at)
    if app[STOCK_READS_KEY].inline and at is None:
        _, items, unknown = scoped_answer(*arguments)  # quicker than a hop to the pool (measured)
    else:
        _, items, unknown = await in_thread(app, scoped_answer, *arguments)
    if unknown:
        return json_response({"unknown_locations": unknown, **items[0]})
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
    if body.locations:
        check_cells(app, len(skus), len(set(body.locations)), ["skus", "locations"])
    stamp, items, unknown = await in_thread(
        app, scoped_answer, app, skus, body.locations, body.channel, None, 0.0, None
    )
    if unknown:
        return json_response({"as_of": stamp, "unknown_locations": unknown, "items": items})
    return json_response({"as_of": stamp, "items": items})
