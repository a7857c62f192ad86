"""Reservations over HTTP: hold stock for a customer, then release or hand it over.

All lines or none, checked and appended in one transaction (`adapters.db.reservations`), so
concurrent checkouts never oversell.  A repeated request with the same reservation_id and the
same body gets the same answer (200); the same id with another body is a 409.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.http.auth import ensure_location, requires
from adapters.http.batching import BATCHER_KEY, ReserveBatcher
from adapters.http.blocking import in_thread, in_writer
from adapters.http.channels import resolve
from adapters.http.keys import DB_KEY, LOCATIONS_KEY, METRICS_KEY, SETTINGS_KEY, STOCK_READS_KEY
from adapters.http.problems import Problem, check_name, read_body
from adapters.http.responses import instant_text, json_response
from inventory.reservations import Line, Reservation
from inventory.services import reservations
from schemas.api import FulfilRequest, ReleaseRequest, ReservationRequest

SECOND = 1_000_000


def reservation_body(found: Reservation, now: int) -> dict[str, Any]:
    return {
        "reservation_id": found.reservation_id,
        "location": found.location,
        "status": found.status(now),
        "expires_at": None if found.expires_at is None else instant_text(found.expires_at),
        "opened_at": None if found.opened_at is None else instant_text(found.opened_at),
        "channel": found.channel,
        "reference": found.reference,
        "lines": [
            {
                "sku": line["sku"],
                "quantity": int(line["reserved"]),
                "held": int(line["held"]),
                "released": int(line["released"]),
                "fulfilled": int(line["fulfilled"]),
            }
            for line in found.lines
        ],
    }


def same_request(found: Reservation, body: ReservationRequest, ttl: int) -> bool:
    """Does a stored reservation answer this request (lines were compared by the store)?"""
    stored_ttl = None
    if found.expires_at is not None and found.opened_at is not None:
        stored_ttl = (found.expires_at - found.opened_at) // SECOND
    return stored_ttl == ttl and found.channel == body.channel and found.reference == body.reference


def shortfall_problem(title: str, detail: str, shortfalls: list[Any]) -> Problem:
    return Problem(
        409,
        title,
        detail,
        shortfalls=[
            {"sku": s.sku, "requested": s.requested, "available": s.available} for s in shortfalls
        ],
    )


def _check_place(app: web.Application, body: ReservationRequest) -> int:
    """The channel's buffer; 422 for an unknown location or one outside the channel."""
    if app[LOCATIONS_KEY].unknown([body.location]):
        raise Problem(
            422,
            "Unknown location",
            f"no location {body.location!r}",
            [{"field": "location", "reason": "unknown location"}],
        )
    if body.channel is None:
        return 0
    fed, buffer = resolve(app, body.channel)
    if body.location not in fed:
        raise Problem(
            422,
            "Location outside channel",
            None,
            [{"field": "location", "reason": f"does not feed channel {body.channel!r}"}],
        )
    return buffer


@requires("store", "ingest")
async def create_reservation(request: web.Request) -> web.Response:
    body = await read_body(request, ReservationRequest)
    ensure_location(request, body.location)
    app, settings = request.app, request.config_dict[SETTINGS_KEY]
    ttl = settings.default_ttl_seconds if body.ttl_seconds is None else body.ttl_seconds
    if ttl > settings.max_ttl_seconds:
        raise Problem(
            422,
            "Invalid body",
            None,
            [{"field": "ttl_seconds", "reason": f"at most {settings.max_ttl_seconds}"}],
        )
    if app[STOCK_READS_KEY].inline:  # cached tables on SQLite: quicker than a pool hop
        buffer = _check_place(app, body)
    else:
        buffer = await in_thread(app, _check_place, app, body)
    db = request.config_dict[DB_KEY]
    metrics = request.config_dict[METRICS_KEY]

    result = await request.config_dict[BATCHER_KEY].reserve(
        app,
        reservation_id=body.reservation_id,
        location=body.location,
        lines=[Line(line.sku, line.quantity) for line in body.lines],
        expires_at=None,
        channel=body.channel,
        reference=body.reference,
        buffer=buffer,
        ttl=ttl * SECOND,
    )
    now = db.ledger.clock()
    metrics.reservations.labels(result.status).inc()
    if result.status == "short":
        raise shortfall_problem(
            "Insufficient stock",
            "not every line can be held; nothing was reserved",
            result.shortfalls,
        )
    assert result.reservation is not None
    if result.status == "conflict" or (
        result.status == "existing" and not same_request(result.reservation, body, ttl)
    ):
        raise Problem(
            409,
            "Reservation id in use",
            f"reservation {body.reservation_id!r} exists with another request",
            [{"field": "reservation_id", "reason": "already used for another request"}],
        )
    status = 201 if result.status == "created" else 200
    return json_response(reservation_body(result.reservation, now), status)


async def _load(request: web.Request) -> Reservation:
    reservation_id = check_name(request.match_info["reservation_id"], "reservation_id")
    db = request.config_dict[DB_KEY]
    found = await in_thread(request.app, reservations.get, db.unit_of_work, reservation_id)
    if found is None:
        raise Problem(404, "Not found", f"no reservation {reservation_id!r}")
    return found


@requires("read")
async def get_reservation(request: web.Request) -> web.Response:
    found = await _load(request)
    now = request.config_dict[DB_KEY].ledger.clock()
    return json_response(reservation_body(found, now))


async def _optional_body(request: web.Request, model: Any) -> Any:
    if not request.body_exists:
        return model()
    return await read_body(request, model)


@requires("store", "ingest")
async def release_reservation(request: web.Request) -> web.Response:
    body = await _optional_body(request, ReleaseRequest)
    found = await _load(request)
    ensure_location(request, found.location)
    db = request.config_dict[DB_KEY]
    result = await in_writer(
        request.app,
        reservations.release,
        db.unit_of_work,
        found.reservation_id,
        body.reason or "released",
    )
    if result.reservation is None:
        raise Problem(404, "Not found", f"no reservation {found.reservation_id!r}")
    return json_response(reservation_body(result.reservation, db.ledger.clock()))


@requires("store", "ingest")
async def fulfil_reservation(request: web.Request) -> web.Response:
    body = await _optional_body(request, FulfilRequest)
    found = await _load(request)
    ensure_location(request, found.location)
    db = request.config_dict[DB_KEY]
    lines = None if body.lines is None else [Line(x.sku, x.quantity) for x in body.lines]
    result = await in_writer(
        request.app, reservations.fulfil, db.unit_of_work, found.reservation_id, lines
    )
    if result.status == "expired":
        raise Problem(
            409,
            "Reservation expired",
            "an expired reservation no longer holds stock; reserve again",
        )
    if result.status == "too_much":
        raise shortfall_problem(
            "More than held",
            "a line asks more than the reservation holds; nothing was fulfilled",
            result.problems,
        )
    if result.reservation is None:
        raise Problem(404, "Not found", f"no reservation {found.reservation_id!r}")
    return json_response(reservation_body(result.reservation, db.ledger.clock()))


def setup(app: web.Application) -> None:
    app[BATCHER_KEY] = ReserveBatcher()
