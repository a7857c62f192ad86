"""Staff sessions: a store key is exchanged once for an expiring, HttpOnly cookie.

The key itself is never kept: the session remembers the key's id (to notice a revoked key
before every write), the store it acts for and a CSRF token that every form that changes
stock must carry back.  Sessions live in this process's memory: a restart signs every tablet
out, and a service run as several processes needs sticky sessions (see docs/staff.md).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web

COOKIE = "staff_session"


@dataclass
class Session:
    token: str
    key_id: str
    key_name: str
    store: str
    csrf: str
    expires: float  # time.time() seconds
    flash: list[str] = field(default_factory=list)
    timezone: str = "UTC"

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, str(sent))


class Sessions:
    """Token -> Session, with expiry; thread-safe (handlers may run on pool threads)."""

    def __init__(self, lifetime_seconds: float) -> None:
        self.lifetime = lifetime_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, key_id: str, key_name: str, store: str) -> Session:
        session = Session(
            secrets.token_urlsafe(32),
            key_id,
            key_name,
            store,
            secrets.token_urlsafe(32),
            time.time() + self.lifetime,
        )
        with self._lock:
            self._drop_expired()
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            found = self._sessions.get(token)
            if found is not None and found.expires <= time.time():
                del self._sessions[token]
                return None
            return found

    def close(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def _drop_expired(self) -> None:
        now = time.time()
        for token in [t for t, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[token]


def set_cookie(response: web.StreamResponse, request: web.Request, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        session.token,
        max_age=max(1, int(session.expires - time.time())),
        path="/staff",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/staff")
