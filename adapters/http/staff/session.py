"""Staff sessions: a store key is exchanged once for an expiring, HttpOnly cookie.

Sessions are aiohttp-session sessions kept server-side, in the database (`staff_sessions`): the
cookie holds only a random token, the row (found by the token's SHA-256) holds the key's id
and name, the store the tablet acts for, the CSRF token every form that changes stock must
carry back, and the page's flash messages.  So sessions survive a restart and work across
several server processes without sticky routing; signing out deletes the row, so the old
cookie stops working at once; a session whose store key is revoked is not found any more.

The cookie is `Secure` when the request came over TLS, or through a trusted proxy
(`INVENTORY_TRUSTED_PROXIES`) that says `X-Forwarded-Proto: https`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp_session
from aiohttp import web

from adapters.db import staff_sessions
from adapters.db.database import Database
from adapters.http.blocking import in_thread, in_writer
from adapters.http.keys import DB_KEY

COOKIE = "staff_session"
PATH = "/staff"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(text: str) -> tuple[Network, ...]:
    """`INVENTORY_TRUSTED_PROXIES`: comma-separated addresses or networks (CIDR)."""
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip()
    )


def served_securely(request: web.Request, trusted: Sequence[Network]) -> bool:
    """Over TLS here, or a trusted proxy in front says the client used https."""
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto")
    if not forwarded or not trusted or not request.remote:
        return False
    try:
        peer = ipaddress.ip_address(request.remote)
    except ValueError:  # a unix socket
        return False
    if not any(peer in network for network in trusted):
        return False
    # the value the nearest proxy (the trusted one) added is the last
    return forwarded.split(",")[-1].strip().lower() == "https"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DatabaseStorage(aiohttp_session.AbstractStorage):
    """aiohttp-session storage in the ledger's database; the cookie carries a token only."""

    def __init__(self, lifetime_seconds: float, trusted: Sequence[Network] = ()) -> None:
        super().__init__(cookie_name=COOKIE, path=PATH, httponly=True, samesite="Strict")
        self.lifetime = lifetime_seconds
        self.trusted = tuple(trusted)

    async def load_session(self, request: web.Request) -> aiohttp_session.Session:
        token = self.load_cookie(request)
        if not token or len(token) > 100:
            return aiohttp_session.Session(None, data=None, new=True)
        db: Database = request.config_dict[DB_KEY]
        found = await in_thread(
            request.app, staff_sessions.load, db, _digest(token), int(time.time())
        )
        if found is None:
            return aiohttp_session.Session(None, data=None, new=True)
        created, data = found
        return aiohttp_session.Session(token, data={"created": created, "session": data}, new=False)

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: aiohttp_session.Session
    ) -> None:
        db: Database = request.config_dict[DB_KEY]
        sent = self.load_cookie(request)
        if session.empty:  # signed out (or never in): the row goes, and the cookie
            if sent:
                await in_writer(request.app, staff_sessions.end, db, _digest(sent))
            response.del_cookie(COOKIE, path=PATH)
            return
        data = dict(session)
        token = session.identity
        if token is None:  # a new session: a new token, never the one the browser sent
            token = secrets.token_urlsafe(32)
            session.set_new_identity(token)
        now = int(time.time())
        expires = int(data.get("expires", now + self.lifetime))
        await in_writer(
            request.app,
            staff_sessions.save,
            db,
            _digest(str(token)),
            str(data.get("key_id", "")),
            data,
            session.created,
            expires,
            now,
            _digest(sent) if sent else None,
        )
        response.set_cookie(
            COOKIE,
            str(token),
            max_age=max(1, expires - now),
            path=PATH,
            httponly=True,
            samesite="Strict",
            secure=served_securely(request, self.trusted),
        )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def middleware(storage: DatabaseStorage) -> Any:
    """aiohttp-session's middleware, for the staff page's paths only."""
    inner = aiohttp_session.session_middleware(storage)

    @web.middleware
    async def staff_only(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == PATH or request.path.startswith(PATH + "/"):
            response: web.StreamResponse = await inner(request, handler)
            return response
        return await handler(request)

    return staff_only


class Session:
    """The signed-in tablet's view of its aiohttp-session session."""

    def __init__(self, raw: aiohttp_session.Session) -> None:
        self.raw = raw

    @property
    def key_id(self) -> str:
        return str(self.raw["key_id"])

    @property
    def key_name(self) -> str:
        return str(self.raw.get("key_name", ""))

    @property
    def store(self) -> str:
        return str(self.raw["store"])

    @property
    def csrf(self) -> str:
        return str(self.raw["csrf"])

    @property
    def timezone(self) -> str:
        return str(self.raw.get("timezone") or "UTC")

    @property
    def expires(self) -> float:
        return float(self.raw["expires"])

    @property
    def flash(self) -> list[str]:
        return list(self.raw.get("flash", []))

    @flash.setter
    def flash(self, messages: list[str]) -> None:
        if messages != self.raw.get("flash", []):
            self.raw["flash"] = list(messages)

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, str(sent))

    def end(self) -> None:
        """Sign out: the row is deleted when the response is sent."""
        self.raw.invalidate()


CURRENT: web.RequestKey[Session | None] = web.RequestKey("staff_session", object)  # type: ignore[arg-type]


async def load(request: web.Request) -> Session | None:
    """The request's live session, if any (also kept on the request for `current`)."""
    raw = await aiohttp_session.get_session(request)
    found = Session(raw) if "key_id" in raw and raw.get("expires", 0) > time.time() else None
    request[CURRENT] = found
    return found


def current(request: web.Request) -> Session | None:
    return request.get(CURRENT)


async def open_session(
    request: web.Request, key_id: str, key_name: str, store: str, timezone: str, lifetime: float
) -> Session:
    """A fresh session (a new token: the one sent before, if any, is dropped)."""
    raw = await aiohttp_session.new_session(request)
    raw.update(
        key_id=key_id,
        key_name=key_name,
        store=store,
        timezone=timezone,
        csrf=secrets.token_urlsafe(32),
        expires=int(time.time() + lifetime),
        flash=[],
    )
    session = Session(raw)
    request[CURRENT] = session
    return session
