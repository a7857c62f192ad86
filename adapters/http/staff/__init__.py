"""The in-store staff tablet page, served at /staff/ by the availability service."""

from __future__ import annotations

import aiohttp_jinja2
import jinja2
from aiohttp import web

from adapters.http.staff.routes import HERE, asset_version
from adapters.http.staff.session import DatabaseStorage, middleware
from adapters.http.staff.settings import SESSIONS_KEY, STAFF_SETTINGS_KEY, StaffSettings


def setup(app: web.Application, settings: StaffSettings | None = None) -> None:
    settings = settings or StaffSettings.from_env()
    app[STAFF_SETTINGS_KEY] = settings
    storage = DatabaseStorage(settings.session_minutes * 60, settings.trusted_proxies)
    app[SESSIONS_KEY] = storage
    app.middlewares.append(middleware(storage))
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    environment.globals["refresh_ms"] = settings.refresh_ms
    environment.globals["asset_version"] = asset_version()
