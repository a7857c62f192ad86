"""The staff tablet page at /staff/: look up, find nearby, hold, hand over, count.

Server-rendered HTML; a small script refreshes the live part every second and shows an offline
banner (and disables writes) when the service cannot be reached.  Every handler is `@public`
for the API-key middleware and checks the page's own session cookie instead.  Writes need the
session's CSRF token and act only at the session's store: a form (or a hand-crafted request)
naming another location or another store's reservation is refused with 403, before anything
is written.  Errors are rendered as pages, never as stack traces.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from adapters.db import personal_data, registry
from adapters.http.auth import public
from adapters.http.blocking import in_thread, in_writer
from adapters.http.keys import DB_KEY, KEYSTORE_KEY, SETTINGS_KEY
from adapters.http.problems import Problem
from adapters.http.staff import data, shown
from adapters.http.staff.forms import text, whole_number
from adapters.http.staff.session import Session, current, load, open_session
from adapters.http.staff.settings import STAFF_SETTINGS_KEY
from inventory.personal import Customer
from inventory.reservations import Line, Reservation
from inventory.services import counts, reservations
from inventory.services.ingest import UNSTORABLE_TEXT, unstorable

log = logging.getLogger("inventory.staff")
HERE = Path(__file__).parent
STATIC = {"staff.css": "text/css", "staff.js": "text/javascript"}
SECOND = 1_000_000
NONCE = re.compile(r"^[0-9a-f]{16}$")
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
COUNT_REASONS = ("cycle count", "damaged", "found", "lost or stolen", "other")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request the page answers with an error page (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def page(handler: Handler) -> Handler:
    """Public to the key middleware; errors become HTML pages, never traces."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            if not request.path.startswith("/staff/static/"):
                await load(request)
            response = await handler(request)
        except Refused as refused:
            response = error_page(request, refused.status, refused.message)
        except Problem as problem:
            message = problem.detail or problem.title
            if problem.errors:
                message = "; ".join(f"{e['field']}: {e['reason']}" for e in problem.errors)
            response = error_page(request, problem.status, message)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("staff page error on %s %s", request.method, request.path)
            response = error_page(request, 500, "Something went wrong; it was logged. Try again.")
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    wrapped.__name__ = handler.__name__
    return public(wrapped)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    session = current(request)
    return aiohttp_jinja2.render_template(
        "error.html",
        request,
        {"session": session, "status": status, "message": message},
        status=status,
    )


def nonce() -> str:
    return secrets.token_hex(8)


def local_time(session: Session | None, micros: int | None, with_date: bool = True) -> str:
    if micros is None:
        return ""
    zone = ZoneInfo(session.timezone) if session is not None else UTC
    moment = datetime.fromtimestamp(micros / SECOND, UTC).astimezone(zone)
    return moment.strftime("%d %b %H:%M" if with_date else "%H:%M")


def duration(seconds: int) -> str:
    """Time left on a hold, as staff say it: "45 min", "3 h 5 min", "2 d 4 h"."""
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


# -- reading ---------------------------------------------------------------------------------


async def resolve_query(request: web.Request, query: str, field: str = "q") -> str | None:
    if unstorable(query):  # refused before the database (PostgreSQL refuses NUL)
        raise Refused(422, f"{field}: {UNSTORABLE_TEXT}")
    db = request.config_dict[DB_KEY]
    return await in_thread(request.app, data.find_sku, db, query)


async def live_context(request: web.Request, session: Session, sku: str | None) -> dict[str, Any]:
    radius = request.config_dict[STAFF_SETTINGS_KEY].nearby_radius_km
    view = await in_thread(request.app, data.live_view, request.app, sku, session.store, radius)
    return {
        "session": session,
        "view": view,
        "time": local_time,
        "duration": duration,
        "shown": shown,
    }


@page
async def home(request: web.Request) -> web.StreamResponse:
    session = current(request)
    if session is None:
        return aiohttp_jinja2.render_template("signin.html", request, {"errors": {}})
    return await render_home(request, session, request.query.get("q", ""))


async def render_home(
    request: web.Request,
    session: Session,
    query: str,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    query = query.strip()
    sku = await resolve_query(request, query) if query else None
    missing = bool(query) and sku is None
    context = await live_context(request, session, sku)
    gtin = (
        await in_thread(request.app, data.gtin_of, request.config_dict[DB_KEY], sku)
        if sku
        else None
    )
    flash, session.flash = session.flash, []
    settings = request.config_dict[SETTINGS_KEY]
    context.update(
        query=query,
        missing=missing,
        gtin=gtin,
        flash=flash,
        errors=errors or {},
        values=values or {},
        hold_id=nonce(),
        count_id=nonce(),
        reasons=COUNT_REASONS,
        max_hold_minutes=settings.max_ttl_seconds // 60,
    )
    if missing and status == 200:
        status = 404
    return aiohttp_jinja2.render_template("page.html", request, context, status=status)


@page
async def live(request: web.Request) -> web.StreamResponse:
    session = current(request)
    if session is None:
        raise Refused(401, "Signed out: sign in again.")
    sku = request.query.get("sku") or None
    if sku is not None:
        sku = await resolve_query(request, sku, "sku")
    context = await live_context(request, session, sku)
    return aiohttp_jinja2.render_template("live.html", request, context)


# -- signing in and out ----------------------------------------------------------------------


def _timezone(request: web.Request, location: str) -> str:
    return registry.timezone_of(request.config_dict[DB_KEY].engines, location) or "UTC"


@page
async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    key = str(form.get("key", "")).strip()
    errors: dict[str, str] = {}
    who = None
    if not key:
        errors["key"] = "required"
    else:
        who = await in_thread(request.app, request.config_dict[KEYSTORE_KEY].verify, key)
        if who is None:
            errors["key"] = "unknown or revoked key"
        elif not who.stores:
            errors["key"] = "this key has no store scope (store:<location>)"
    if errors or who is None:
        status = 403 if who is not None else 401
        return aiohttp_jinja2.render_template(
            "signin.html", request, {"errors": errors}, status=status
        )
    location = sorted(who.stores)[0]
    zone = await in_thread(request.app, _timezone, request, location)
    lifetime = request.config_dict[STAFF_SETTINGS_KEY].session_minutes * 60
    await open_session(request, who.key_id, who.name, location, zone, lifetime)
    return redirect("/staff/")


@page
async def sign_out(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    session = current(request)
    if session is not None and session.csrf_ok(form.get("csrf")):  # type: ignore[arg-type]
        session.end()  # the row goes with this response: the cookie stops working at once
    return redirect("/staff/")


# -- writing ---------------------------------------------------------------------------------


async def writer(request: web.Request) -> tuple[Session, Any]:
    """The session allowed to write, and the form; 401/403 before anything is written."""
    form = await request.post()
    session = current(request)
    if session is None:
        raise Refused(401, "Signed out: sign in again before changing stock.")
    if not session.csrf_ok(form.get("csrf")):  # type: ignore[arg-type]
        raise Refused(403, "This form has expired; reload the page and try again.")
    db = request.config_dict[DB_KEY]
    if not await in_thread(request.app, data.key_active, db, session.key_id):
        session.end()
        raise Refused(401, "The store key was revoked; sign in with a valid key.")
    location = str(form.get("location", session.store))
    if location != session.store:
        raise Refused(403, f"This tablet may act only at {session.store}, not at {location}.")
    return session, form


def redirect(location: str) -> web.Response:
    """303 after a write, so a reload never repeats it."""
    return web.Response(status=303, headers={"Location": location})


def _done(session: Session, message: str, sku: str) -> web.Response:
    session.flash = [*session.flash, message]
    return redirect(f"/staff/?{urlencode({'q': sku})}" if sku else "/staff/")


@page
async def hold(request: web.Request) -> web.StreamResponse:
    session, form = await writer(request)
    errors: dict[str, str] = {}
    sku = await resolve_query(request, str(form.get("sku", "")), "sku")
    if sku is None:
        errors["sku"] = "no such product"
    quantity = whole_number(form, "quantity", errors, 1, 1_000_000)
    reference = text(form, "reference", errors, True, 120)
    contact = text(form, "contact", errors, False, 120)
    max_minutes = request.config_dict[SETTINGS_KEY].max_ttl_seconds // 60
    minutes = whole_number(form, "minutes", errors, 1, max_minutes)
    hold_id = str(form.get("hold_id", ""))
    if not NONCE.match(hold_id):
        hold_id = nonce()
    values = {k: str(form.get(k, "")) for k in ("quantity", "reference", "contact", "minutes")}
    if errors or sku is None:
        return await render_home(request, session, str(form.get("sku", "")), errors, values, 422)
    db = request.config_dict[DB_KEY]
    result = await in_writer(
        request.app,
        reservations.reserve,
        db.unit_of_work,
        f"staff-{hold_id}",
        session.store,
        [Line(sku, quantity)],
        None,
        channel=data.STAFF_CHANNEL,
        ttl=minutes * 60 * SECOND,
        # the name and number go to the personal-data store; the ledger gets an opaque id
        customer=Customer(reference, contact or None),
    )
    if result.status == "short":
        have = result.shortfalls[0].available
        errors["quantity"] = f"more than is available: only {have} available here"
        return await render_home(request, session, sku, errors, values, 409)
    if result.status == "conflict":
        raise Refused(409, "This hold form was already used for another hold; try again.")
    return _done(session, f"Held {quantity} × {sku} for {reference} ({minutes} min).", sku)


async def _who(request: web.Request, found: Reservation) -> str:
    """Whom a reservation is for, as the flash message names it: the customer's name while
    the personal-data store holds it, else the reference or the reservation id."""
    db = request.config_dict[DB_KEY]
    rid = found.reservation_id
    names = await in_thread(request.app, personal_data.customer_names, db, [rid])
    return names.get(rid) or found.reference or rid


async def _reservation(request: web.Request, session: Session) -> Reservation:
    rid = request.match_info["reservation_id"]
    db = request.config_dict[DB_KEY]
    found = await in_thread(request.app, reservations.get, db.unit_of_work, rid)
    if found is None:
        raise Refused(404, f"No reservation {rid}.")
    if found.location != session.store:
        raise Refused(403, f"This tablet may act only at {session.store}, not at {found.location}.")
    return found


@page
async def hand_over(request: web.Request) -> web.StreamResponse:
    session, form = await writer(request)
    found = await _reservation(request, session)
    who = await _who(request, found)
    db = request.config_dict[DB_KEY]
    result = await in_writer(
        request.app, reservations.fulfil, db.unit_of_work, found.reservation_id, None
    )
    if result.status == "expired":
        raise Refused(409, "This hold has expired and no longer holds stock; hold again.")
    sku = str(form.get("sku", ""))
    what = ", ".join(f"{line['held']} × {line['sku']}" for line in found.lines if line["held"])
    return _done(session, f"Handed over {what or 'nothing left'} ({who}).", sku)


@page
async def release(request: web.Request) -> web.StreamResponse:
    session, form = await writer(request)
    found = await _reservation(request, session)
    who = await _who(request, found)
    db = request.config_dict[DB_KEY]
    reason = "not collected" if found.channel != data.STAFF_CHANNEL else "released in store"
    await in_writer(
        request.app, reservations.release, db.unit_of_work, found.reservation_id, reason
    )
    sku = str(form.get("sku", ""))
    return _done(session, f"Released {who}.", sku)


@page
async def count(request: web.Request) -> web.StreamResponse:
    session, form = await writer(request)
    errors: dict[str, str] = {}
    sku = await resolve_query(request, str(form.get("sku", "")), "sku")
    if sku is None:
        errors["sku"] = "no such product"
    counted = whole_number(form, "counted", errors, 0, 10_000_000)
    reason = text(form, "reason", errors, True, 200)
    values = {k: str(form.get(k, "")) for k in ("counted", "reason")}
    if errors or sku is None:
        return await render_home(request, session, str(form.get("sku", "")), errors, values, 422)
    count_id = str(form.get("count_id", ""))
    if not NONCE.match(count_id):
        count_id = nonce()
    db = request.config_dict[DB_KEY]
    result = await in_writer(
        request.app,
        counts.record_count,
        db.unit_of_work,
        f"staff-count-{count_id}",
        sku,
        session.store,
        counted,
        data.STAFF_CHANNEL,
        reason,
    )
    if result.status in ("conflict", "not_applied"):
        raise Refused(
            409, "This count form was already sent with another number; nothing was recorded."
        )
    if result.status == "rejected":
        raise Refused(422, "; ".join(f"{e.field}: {e.reason}" for e in result.errors))
    if result.status == "duplicate":
        return _done(session, f"Count of {sku} already recorded: on hand {result.after}.", sku)
    change = result.after - result.before
    return _done(
        session,
        f"Counted {sku}: on hand {result.before} → {result.after} ({change:+d}), {reason}.",
        sku,
    )


@cache
def _asset(name: str) -> bytes:
    return (HERE / "static" / name).read_bytes()


@page
async def asset(request: web.Request) -> web.StreamResponse:
    """The page's script and style sheet (public: the sign-in page needs them)."""
    name = request.match_info["name"]
    if name not in STATIC:
        raise Refused(404, "Not found.")
    response = web.Response(body=_asset(name), content_type=STATIC[name], charset="utf-8")
    # links carry the content's hash (?v=), so a cached copy is never stale
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@cache
def asset_version() -> str:
    """A short hash of the script and style sheet, for cache-busting links."""
    return hashlib.sha256(b"".join(_asset(name) for name in sorted(STATIC))).hexdigest()[:12]


def routes() -> list[web.RouteDef]:
    return [
        web.get("/staff/static/{name}", asset),
        web.get("/staff/", home),
        web.get("/staff/live", live),
        web.post("/staff/signin", sign_in),
        web.post("/staff/signout", sign_out),
        web.post("/staff/hold", hold),
        web.post("/staff/count", count),
        web.post("/staff/reservations/{reservation_id}/fulfil", hand_over),
        web.post("/staff/reservations/{reservation_id}/release", release),
    ]
