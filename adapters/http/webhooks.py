"""Shop webhooks over HTTP: `POST /v1/webhooks/shop/{topic}` (e.g. .../shop/orders/create).

The shop signs each body with HMAC-SHA256 under a shared secret and sends it base64-encoded in
`X-Shopify-Hmac-Sha256`; a missing or wrong signature is refused with 401 and nothing is
stored.  A signed body that cannot be translated (unknown SKU, missing field) is kept as a
dead letter and answered 202, so the shop does not retry what only a fix here can cure;
`inventory deadletters retry` re-drives it.  Re-sent webhooks are duplicates (event ids come
from the shop's own ids).

Secrets: INVENTORY_SHOP_WEBHOOK_SECRET (comma-separated to rotate), or the app key
`WEBHOOK_SECRETS_KEY`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from adapters.channels.store import Message, Translator, apply_messages
from adapters.db.database import Database
from adapters.http.auth import public
from adapters.http.keys import DB_KEY, EXECUTOR_KEY

WEBHOOK_SECRETS_KEY: web.AppKey[tuple[str, ...]] = web.AppKey("shop_webhook_secrets")
TRANSLATOR_KEY: web.AppKey[Translator] = web.AppKey("shop_webhook_translator")
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"

T = TypeVar("T")


def sign(secret: str, body: bytes) -> str:
    """The signature a shop sends for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(secrets: Sequence[str], body: bytes, signature: str | None) -> bool:
    if not signature or not secrets:
        return False
    return any(hmac.compare_digest(sign(secret, body), signature.strip()) for secret in secrets)


def env_secrets() -> tuple[str, ...]:
    raw = os.environ.get("INVENTORY_SHOP_WEBHOOK_SECRET", "")
    return tuple(s.strip() for s in raw.split(",") if s.strip())


async def _blocking(app: web.Application, function: Callable[..., T], *args: Any) -> T:
    executor = app.get(EXECUTOR_KEY)
    return await asyncio.get_running_loop().run_in_executor(executor, function, *args)


@public
async def shop_webhook(request: web.Request) -> web.Response:
    app = request.app
    body = await request.read()
    secrets = app.get(WEBHOOK_SECRETS_KEY) or env_secrets()
    if not signed_by(secrets, body, request.headers.get(SIGNATURE_HEADER)):
        return web.json_response(
            {
                "type": "about:blank",
                "title": "Unauthorized",
                "status": 401,
                "detail": f"missing or invalid {SIGNATURE_HEADER} signature",
            },
            status=401,
            content_type="application/problem+json",
        )
    topic = request.match_info["topic"]
    db = request.config_dict[DB_KEY]
    message = Message(
        "http:shop",
        -1,
        -1,
        f"shop/{topic}",
        body,
        {str(k): v for k, v in request.headers.items() if k.lower().startswith("x-shopify-")},
    )
    report = await _blocking(app, _apply, db, app[TRANSLATOR_KEY], message)
    if report.dead:
        return web.json_response(
            {"status": "dead_letter", "reason": report.dead[0].reason}, status=202
        )
    return web.json_response(
        {"status": "applied", "accepted": report.accepted, "duplicate": report.duplicate}
    )


def _apply(db: Database, translator: Translator, message: Message) -> Any:
    return apply_messages(db, translator, [message])


async def _load_translator(app: web.Application) -> None:
    """The SKU catalogue is read once at start (and again when a message names an unknown id)."""
    app[TRANSLATOR_KEY] = await _blocking(app, Translator, app[DB_KEY])


def setup(app: web.Application) -> None:
    app.on_startup.append(_load_translator)
