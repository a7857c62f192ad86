"""Who is calling, and may they: API keys with scopes.

Every route needs a valid key (`Authorization: Bearer inv_<id>_<secret>`) unless its handler
is marked `@public` (for routes that authenticate otherwise: a shop webhook's HMAC signature,
the staff page's session cookie, health checks).  `@requires("read")` further asks for one of
the given scopes; `admin` passes every check.  Scopes:

- `read`: stock and reservation reads (a storefront);
- `store:<location>`: reads, plus reserve/fulfil/release at that location only (a staff tablet);
  `@requires("store")` accepts any store scope, the handler then calls `ensure_location`;
- `ingest`: write events and hold stock anywhere (channel back ends);
- `admin`: everything, including channel policies and the audit ledger.

Missing or bad key: 401.  Valid key without the scope: 403.  Keys are stored as SHA-256 of their
secret part and remembered for a few seconds after a successful check.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from adapters.db import keys as stored_keys
from adapters.db.database import Database
from adapters.http.keys import CALLER, EXECUTOR_KEY, KEYSTORE_KEY
from adapters.http.problems import Problem

BASE_SCOPES = ("read", "ingest", "admin")
PREFIX = "inv"
F = TypeVar("F", bound=Callable[..., Awaitable[web.StreamResponse]])


@dataclass(frozen=True)
class Caller:
    key_id: str
    name: str
    scopes: frozenset[str]

    @property
    def stores(self) -> frozenset[str]:
        return frozenset(s[6:] for s in self.scopes if s.startswith("store:"))

    def allows(self, wanted: Iterable[str]) -> bool:
        if "admin" in self.scopes:
            return True
        for scope in wanted:
            if scope == "store" and self.stores:
                return True
            if scope == "read" and self.stores:  # a store key reads too
                return True
            if scope in self.scopes:
                return True
        return False

    def may_act_at(self, location: str) -> bool:
        """Hold or hand over stock at `location`."""
        return bool({"admin", "ingest"} & self.scopes) or location in self.stores


def check_scope(scope: str) -> str:
    """A valid scope string, or ValueError saying why not."""
    if scope in BASE_SCOPES:
        return scope
    if scope.startswith("store:") and len(scope) > 6 and not any(c.isspace() for c in scope):
        return scope
    raise ValueError(f"unknown scope {scope!r}: use read, ingest, admin or store:<location>")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyStore:
    """Creates, lists, revokes and verifies keys in the database."""

    def __init__(self, db: Database, cache_seconds: float = 5.0) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Caller]] = {}

    def create(self, name: str, scopes: Iterable[str]) -> str:
        """A new key; the returned token is the only time its secret is visible."""
        chosen = sorted({check_scope(s) for s in scopes})
        if not chosen:
            raise ValueError("a key needs at least one scope")
        key_id, secret = secrets.token_hex(6), secrets.token_hex(24)
        stored_keys.add(
            self.db.engines, key_id, name, _hash(secret), chosen, self.db.ledger.clock()
        )
        return f"{PREFIX}_{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        done = stored_keys.revoke(self.db.engines, key_id, self.db.ledger.clock())
        self._cache.clear()
        return done

    def list(self) -> list[dict[str, Any]]:
        return [
            {
                "key_id": r.key_id,
                "name": r.name,
                "scopes": r.scope_list,
                "created_at": r.created_at,
                "revoked": r.revoked_at is not None,
            }
            for r in stored_keys.every(self.db.engines)
        ]

    def cached(self, token: str) -> Caller | None:
        hit = self._cache.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def verify(self, token: str) -> Caller | None:
        """The caller a token belongs to, or None (unknown, revoked or wrong secret)."""
        hit = self.cached(token)
        if hit is not None:
            return hit
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        row = stored_keys.find(self.db.engines, key_id)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        caller = Caller(row.key_id, row.name, frozenset(row.scope_list))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (time.monotonic() + self.cache_seconds, caller)
        return caller


def public(handler: F) -> F:
    """Mark a handler as authenticating on its own (no API key asked)."""
    handler.__inventory_public__ = True  # type: ignore[attr-defined]
    return handler


def requires(*scopes: str) -> Callable[[F], F]:
    """Let only keys holding one of `scopes` (or admin) call the handler."""

    def mark(handler: F) -> F:
        handler.__inventory_scopes__ = scopes  # type: ignore[attr-defined]
        return handler

    return mark


def caller(request: web.Request) -> Caller | None:
    """The key making this request (None on public routes)."""
    found: Caller | None = request.get(CALLER)
    return found


def ensure_location(request: web.Request, location: str) -> None:
    """403 unless the caller may hold or hand over stock at `location`."""
    who = caller(request)
    if who is None or not who.may_act_at(location):
        raise Problem(
            403,
            "Forbidden",
            f"this key may not act at location {location!r}",
            [{"field": "location", "reason": "outside the key's stores"}],
        )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route_handler = request.match_info.handler
    if request.match_info.http_exception is not None or getattr(
        route_handler, "__inventory_public__", False
    ):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "Unauthorized",
            "send an API key as 'Authorization: Bearer <key>'",
            [{"field": "Authorization", "reason": "missing bearer key"}],
        )
    store = request.config_dict[KEYSTORE_KEY]
    token = token.strip()
    who = store.cached(token)
    if who is None:
        pool = request.config_dict[EXECUTOR_KEY]
        who = await asyncio.get_running_loop().run_in_executor(pool, store.verify, token)
    if who is None:
        raise Problem(
            401,
            "Unauthorized",
            "the API key is unknown or revoked",
            [{"field": "Authorization", "reason": "unknown or revoked key"}],
        )
    wanted = getattr(route_handler, "__inventory_scopes__", None)
    if wanted and not who.allows(wanted):
        raise Problem(
            403,
            "Forbidden",
            f"this key lacks the scope: {' or '.join(wanted)}",
            [{"field": "Authorization", "reason": f"needs scope {' or '.join(wanted)}"}],
        )
    request[CALLER] = who
    return await handler(request)
