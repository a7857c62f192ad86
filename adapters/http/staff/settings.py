"""Staff page settings (environment variables) and the application keys it adds."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from adapters.config import env_settings
from adapters.http.staff.session import DatabaseStorage, Network, parse_proxies


@dataclass(frozen=True)
class StaffSettings:
    # a shift: the tablet signs out by itself after this
    session_minutes: int = 10 * 60
    # other stores within this distance are listed under "nearby"
    nearby_radius_km: float = 1000.0
    # how often the page refreshes its numbers (milliseconds)
    refresh_ms: int = 1000
    # proxies whose X-Forwarded-Proto is believed (for the session cookie's Secure flag)
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls) -> StaffSettings:
        env = env_settings()
        return cls(
            session_minutes=env.staff_session_minutes,
            nearby_radius_km=env.staff_nearby_km,
            refresh_ms=env.staff_refresh_ms,
            trusted_proxies=parse_proxies(env.trusted_proxies),
        )


STAFF_SETTINGS_KEY = web.AppKey("staff_settings", StaffSettings)
SESSIONS_KEY = web.AppKey("staff_sessions", DatabaseStorage)
