"""`POST /v1/routing/click-and-collect`, and the location registry over HTTP.

Routing reads availability the way the availability API does (on hand less unexpired
reservations and safety stock, less the channel's buffer) and hands it to the pure
`inventory.routing.route`.  With `reserve`, the first complete option is reserved through
`adapters.db.reservations.reserve`, which checks and appends in one transaction; the pickup is
booked against the store's daily capacity inside that same transaction.  If someone took the
last unit meanwhile, the next complete option is tried.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from adapters import locations as registry
from adapters.db import registry as stored
from adapters.db.database import Database
from adapters.geocode import Geocoder, Point, UnknownPlace
from adapters.http.auth import caller, requires
from adapters.http.blocking import in_thread
from adapters.http.keys import CHANNELS_KEY, DB_KEY, EXECUTOR_KEY, LOCATIONS_KEY
from adapters.http.problems import Problem, read_body, read_json
from adapters.http.responses import json_response
from adapters.locations import Registry, describe
from inventory import reservations as store
from inventory.events import format_instant
from inventory.hours import ready_by
from inventory.ports import UnitOfWork
from inventory.routing import Line, Option, Route, RouteRequest, Site, route
from inventory.services import reservations
from schemas.locations import LocationIn
from schemas.routing import RouteIn

SECOND = 1_000_000
DAY = 86_400 * SECOND
PICKUP_HOLD_DAYS = 3  # a click-and-collect reservation holds until this long after ready_by


GEOCODER = Geocoder()  # one per process: its tables are large and never change


class NoPickupSlot(Exception):
    """The store has no pickup capacity left within the horizon (found inside the reserve)."""


@dataclass
class Routing:
    """What the endpoint keeps between requests: the network cache and the geocoder."""

    db: Database
    registry: Registry
    geocoder: Geocoder = field(default_factory=lambda: GEOCODER)


ROUTING_KEY = web.AppKey("routing", Routing)
# channel -> (locations the channel may sell from, buffer held back); None: no restriction.
# The default reads the API's channel policies; replace it to route with other rules.
ChannelHook = Callable[[web.Application, str], tuple[set[str], int]]
CHANNEL_HOOK: web.AppKey[ChannelHook] = web.AppKey("routing_channel_hook")


def channel_policy(app: web.Application, name: str) -> tuple[set[str], int]:
    from adapters.http.channels import resolve

    return resolve(app, name)


@dataclass
class Plan:
    point: Point
    result: Route
    lines: list[Line]
    allowed: set[str] | None
    buffer: int
    now: int


def plan(app: web.Application, body: RouteIn) -> Plan:
    """Resolve the origin, read availability near it, and route (blocking)."""
    service = app[ROUTING_KEY]
    try:
        point = service.geocoder.resolve(body.origin.model_dump(exclude_none=True))
    except UnknownPlace as error:
        raise Problem(
            422, "Unknown place", str(error), [{"field": "origin", "reason": str(error)}]
        ) from None
    allowed, buffer = None, 0
    if body.channel is not None:
        allowed, buffer = app[CHANNEL_HOOK](app, body.channel)
    network = service.registry.network()
    lines = [Line(x.sku, x.quantity) for x in body.lines]
    request = RouteRequest(
        lines,
        point.lat,
        point.lon,
        body.radius_km,
        body.limit,
        body.allow_split,
        allowed=None if allowed is None else allowed.__contains__,
    )
    db = service.db
    now = db.ledger.clock()
    sites = network.candidates(point.lat, point.lon, body.radius_km) + network.warehouses
    skus = sorted({x.sku for x in lines})
    keys = [(sku, site.id) for site in sites for sku in skus]
    availability = {
        (p.sku, p.location): p.sellable(buffer) for p in db.reader.positions(keys=keys, now=now)
    }
    pickup_sites = [s.id for s in sites if s.pickup_capacity is not None]
    booked = stored.booked_now(db.engines, pickup_sites, _since(now))
    result = route(network, request, availability, now, booked)
    return Plan(point, result, lines, allowed, buffer, now)


def _since(now: int) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + now // DAY) - timedelta(days=1)


def book_pickup(
    db: Database, site: Site, reservation_id: str, found: dict[str, Any]
) -> Callable[[UnitOfWork, int], None]:
    """Runs inside the reservation's unit of work: take a pickup slot on the earliest day."""

    def then(uow: UnitOfWork, now: int) -> None:
        if site.pickup_capacity is not None:
            uow.registry.lock_for_booking(site.id)
        counts = uow.registry.booked([site.id], _since(now))
        ready = ready_by(
            site.hours,
            site.tz,
            now,
            site.handling_minutes,
            site.pickup_capacity,
            lambda day: counts.get((site.id, day), 0),
        )
        if ready is None:
            raise NoPickupSlot(site.id)
        uow.registry.book(reservation_id, site.id, ready[1], ready[0], now)
        found.update(ready_by=ready[0], day=ready[1])

    return then


def reserve_first(app: web.Application, body: RouteIn, chosen: Plan, may: set[str] | None) -> Any:
    """Reserve the first complete option that still has the stock; returns (option, result)."""
    service = app[ROUTING_KEY]
    network = service.registry.network()
    reservation_id = body.reservation_id or f"cc-{uuid.uuid4().hex}"
    tried = 0
    for option in chosen.result.options:
        if not option.complete or option.split or option.location is None:
            continue
        if may is not None and option.location not in may:
            continue
        site = network.sites[option.location]
        booking: dict[str, Any] = {}
        now = service.db.ledger.clock()
        if body.ttl_seconds is not None:
            expires = now + body.ttl_seconds * SECOND
        else:
            expires = (option.ready_by or now) + PICKUP_HOLD_DAYS * DAY
        tried += 1
        try:
            result = reservations.reserve(
                service.db.unit_of_work,
                reservation_id,
                site.id,
                [store.Line(x.sku, x.quantity) for x in chosen.lines],
                expires_at=expires,
                channel=body.channel,
                reference=body.reference,
                buffer=chosen.buffer,
                then=book_pickup(service.db, site, reservation_id, booking),
            )
        except NoPickupSlot:
            continue
        if result.status == "short":
            continue
        if result.status == "created":
            option.ready_by, option.pickup_day = booking["ready_by"], booking["day"]
        return option, result
    return None, tried


@requires("read", "store", "ingest")
async def click_and_collect(request: web.Request) -> web.Response:
    body = await read_body(request, RouteIn)
    app = request.app
    may = None
    if body.reserve:
        who = caller(request)
        if who is None or not ({"admin", "ingest"} & who.scopes or who.stores):
            raise Problem(
                403,
                "Forbidden",
                "reserving needs an ingest, admin or store key",
                [{"field": "reserve", "reason": "this key may not hold stock"}],
            )
        if not {"admin", "ingest"} & who.scopes:
            may = set(who.stores)
    chosen = await in_thread(app, plan, app, body)
    answer = _answer(chosen)
    if not body.reserve:
        return json_response(answer)
    if body.reservation_id is not None:
        known = await in_thread(
            app, reservations.get, app[DB_KEY].unit_of_work, body.reservation_id
        )
        if known is not None:  # a retry: answer with what was reserved then
            return json_response(await _replay(app, body, chosen, answer, known))
    if not any(o.complete and not o.split for o in chosen.result.options):
        answer["message"] = answer.get("message") or "no single store can hold the whole cart"
        return json_response(answer)
    if may is not None and not any(o.complete and o.location in may for o in chosen.result.options):
        raise Problem(
            403,
            "Forbidden",
            "this key may reserve only at its own stores",
            [{"field": "reserve", "reason": "no complete option at the key's stores"}],
        )
    option, outcome = await in_thread(app, reserve_first, app, body, chosen, may)
    if option is None:
        raise Problem(
            409,
            "Stock taken meanwhile",
            "every complete option was taken or full before it could be reserved; "
            "nothing was reserved, route again",
            options=answer["options"],
        )
    if outcome.status == "conflict":
        raise Problem(
            409,
            "Reservation id in use",
            f"reservation {body.reservation_id!r} exists with another request",
            [{"field": "reservation_id", "reason": "already used for another request"}],
        )
    answer = _answer(chosen, first=option)
    answer["reservation"] = _reservation(outcome.reservation, chosen.now)
    answer["pickup"] = await in_thread(app, _pickup, app, outcome.reservation.reservation_id)
    return json_response(answer, 201 if outcome.status == "created" else 200)


async def _replay(
    app: web.Application, body: RouteIn, chosen: Plan, answer: dict[str, Any], known: Any
) -> dict[str, Any]:
    asked = [
        (x.sku, x.quantity)
        for x in store.merge_lines([store.Line(y.sku, y.quantity) for y in chosen.lines])
    ]
    if sorted((x["sku"], int(x["reserved"])) for x in known.lines) != asked:
        raise Problem(
            409,
            "Reservation id in use",
            f"reservation {body.reservation_id!r} exists with another cart",
            [{"field": "reservation_id", "reason": "already used for another cart"}],
        )
    answer["reservation"] = _reservation(known, chosen.now)
    answer["pickup"] = await in_thread(app, _pickup, app, known.reservation_id)
    return answer


def _pickup(app: web.Application, reservation_id: str) -> dict[str, Any] | None:
    found = stored.pickup_of(app[ROUTING_KEY].db.engines, reservation_id)
    if found is None:
        return None
    return {
        "location": found["location"],
        "day": found["day"],
        "ready_by": format_instant(found["ready_by"]),
    }


def _reservation(found: store.Reservation | None, now: int) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "reservation_id": found.reservation_id,
        "location": found.location,
        "status": found.status(now),
        "expires_at": None if found.expires_at is None else format_instant(found.expires_at),
        "lines": [{"sku": x["sku"], "quantity": int(x["reserved"])} for x in found.lines],
    }


def _answer(chosen: Plan, first: Option | None = None) -> dict[str, Any]:
    options = list(chosen.result.options)
    if first is not None:
        options = [first, *(o for o in options if o is not first)]
    body: dict[str, Any] = {
        "origin": {"lat": chosen.point.lat, "lon": chosen.point.lon},
        "options": [option_body(o) for o in options],
    }
    if chosen.result.message:
        body["message"] = chosen.result.message
    ship = chosen.result.ship_to_store
    if ship is not None:
        body["ship_to_store"] = {
            "warehouse": ship.warehouse,
            "warehouse_name": ship.warehouse_name,
            "store": ship.store,
            "store_name": ship.store_name,
            "distance_km": ship.distance_km,
            "transit_km": ship.transit_km,
            "transit_days": ship.transit_days,
            "ready_by": None if ship.ready_by is None else format_instant(ship.ready_by),
        }
    elif chosen.result.message:
        body["ship_to_store"] = None
    return body


def option_body(option: Option) -> dict[str, Any]:
    return {
        "location": option.location,
        "name": option.name,
        "distance_km": option.distance_km,
        "complete": option.complete,
        "ready_by": None if option.ready_by is None else format_instant(option.ready_by),
        "pickup_day": None if option.pickup_day is None else option.pickup_day.isoformat(),
        "lines": [
            {"sku": x.sku, "quantity": x.quantity, "available": x.available} for x in option.lines
        ],
        "split": option.split,
        "parts": [option_body(p) for p in option.parts],
    }


# -- the location registry ---------------------------------------------------------------------


def _changed(app: web.Application) -> None:
    app[ROUTING_KEY].registry.invalidate()
    if LOCATIONS_KEY in app:
        app[LOCATIONS_KEY].reload()


@requires("read", "store", "ingest")
async def list_locations(request: web.Request) -> web.Response:
    kind = request.query.get("kind")
    if kind not in (None, "store", "warehouse"):
        raise Problem(
            422, "Invalid query", None, [{"field": "kind", "reason": "store or warehouse"}]
        )
    db = request.config_dict[DB_KEY]
    found = await in_thread(request.app, registry.rows, db, kind)
    return json_response({"locations": found})


@requires("read", "store", "ingest")
async def get_location(request: web.Request) -> web.Response:
    db = request.config_dict[DB_KEY]
    found = await in_thread(request.app, registry.get, db, request.match_info["location_id"])
    if found is None:
        raise Problem(404, "Not found", f"no location {request.match_info['location_id']!r}")
    return json_response(found)


@requires("admin")
async def put_location(request: web.Request) -> web.Response:
    body = await read_body(request, LocationIn)
    if body.id != request.match_info["location_id"]:
        raise Problem(
            422,
            "Invalid body",
            "the id in the body differs from the path",
            [{"field": "id", "reason": "must equal the path's location id"}],
        )
    db = request.config_dict[DB_KEY]
    await in_thread(request.app, registry.save, db, [body])
    await in_thread(request.app, _changed, request.app)
    return json_response(body.row())


@requires("admin")
async def import_locations(request: web.Request) -> web.Response:
    """All or nothing: a list of locations (or {"locations": [...]}); errors name the record."""
    raw = await read_json(request)
    if isinstance(raw, dict) and isinstance(raw.get("locations"), list):
        raw = raw["locations"]
    if not isinstance(raw, list) or not raw:
        raise Problem(
            422,
            "Invalid body",
            "expected a non-empty list of locations",
            [{"field": "", "reason": "a non-empty list of locations"}],
        )
    records, errors = [], []
    for number, item in enumerate(raw):
        try:
            records.append(LocationIn.model_validate(item))
        except ValidationError as error:
            errors.append({"field": f"locations.{number}", "reason": describe(error)})
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        errors.append({"field": "locations", "reason": "ids repeat"})
    if errors:
        raise Problem(422, "Invalid locations", "nothing was imported", errors)
    db = request.config_dict[DB_KEY]
    written = await in_thread(request.app, registry.save, db, records)
    await in_thread(request.app, _changed, request.app)
    return json_response({"written": written})


@requires("admin")
async def delete_location(request: web.Request) -> web.Response:
    db = request.config_dict[DB_KEY]
    done = await in_thread(request.app, registry.remove, db, request.match_info["location_id"])
    if not done:
        raise Problem(404, "Not found", f"no location {request.match_info['location_id']!r}")
    await in_thread(request.app, _changed, request.app)
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    db = app[DB_KEY]
    app[ROUTING_KEY] = Routing(db, Registry(db))
    if CHANNEL_HOOK not in app:
        app[CHANNEL_HOOK] = channel_policy if CHANNELS_KEY in app else _no_channels

    async def warm(app: web.Application) -> AsyncIterator[None]:
        # the city table takes a second or two to load: start it before the first customer asks
        asyncio.get_running_loop().run_in_executor(app[EXECUTOR_KEY], GEOCODER.cities)
        yield

    app.cleanup_ctx.append(warm)


def _no_channels(app: web.Application, name: str) -> tuple[set[str], int]:
    raise Problem(
        422,
        "Unknown channel",
        f"no policy for channel {name!r}",
        [{"field": "channel", "reason": "channels are not configured"}],
    )
