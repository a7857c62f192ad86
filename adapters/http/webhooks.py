"""Signed platform webhooks over HTTP, and the raw intake route.

- Shopify: `POST /v1/webhooks/shopify/{topic}` (or `/v1/webhooks/shopify` with the topic in
  `X-Shopify-Topic` / `Shopify-Topic`, read when the path names none;
  `/v1/webhooks/shop/{topic}` is the older path).  The body is signed with HMAC-SHA256 under
  the app's secret, base64 in `X-Shopify-Hmac-Sha256` or `Shopify-Hmac-Sha256`.  Secrets:
  INVENTORY_SHOPIFY_WEBHOOK_SECRET (comma-separated to rotate; INVENTORY_SHOP_WEBHOOK_SECRET
  is read too).
- WooCommerce: `POST /v1/webhooks/woocommerce`, topic in `X-WC-Webhook-Topic`, signature
  `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the body), INVENTORY_WOOCOMMERCE_WEBHOOK_SECRET.
  The ping WooCommerce sends when a webhook is created (form body `webhook_id=…`) is answered
  200 and stored nowhere.
- Square: `POST /v1/webhooks/square`, `x-square-hmacsha256-signature` = base64 HMAC-SHA256 over
  the notification URL (as configured at Square, INVENTORY_SQUARE_NOTIFICATION_URL) followed
  by the body, under INVENTORY_SQUARE_WEBHOOK_SECRET.
- ShipHero: `POST /v1/webhooks/shiphero` ("Inventory Update"), `x-shiphero-hmac-sha256` =
  base64 HMAC-SHA256 of the body under the webhook's shared secret,
  INVENTORY_SHIPHERO_WEBHOOK_SECRET (comma-separated to rotate).  The header is known from a
  third-party guide and a captured delivery, not from ShipHero's own documentation.

A missing or wrong signature is refused with 401 and nothing is stored.  A signed body that
cannot be translated (unknown SKU, unmapped location, missing field) is kept as a dead letter
and answered 202, so the platform does not retry what only a fix here can cure;
`inventory deadletters retry` re-drives it.  Re-sent webhooks change nothing: order messages
are facts merged into the order memory, other events carry the platform's own ids.

`POST /v1/intake/{format}` takes a raw body in any intake format (the same translators as the
Kafka consumer), for callers holding an API key with the `ingest` scope.

Every message is stamped with its arrival (header RECEIVED_AT), the time of events whose body
carries none.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from adapters.channels.common import RECEIVED_AT
from adapters.channels.store import Message, Translator, apply_messages
from adapters.config import env_settings
from adapters.db.database import Database
from adapters.http.auth import public, requires
from adapters.http.keys import DB_KEY, EXECUTOR_KEY
from inventory.events import format_instant

WEBHOOK_SECRETS_KEY: web.AppKey[tuple[str, ...]] = web.AppKey("shop_webhook_secrets")
SHIPHERO_SECRETS_KEY: web.AppKey[tuple[str, ...]] = web.AppKey("shiphero_webhook_secrets")
WOOCOMMERCE_SECRETS_KEY: web.AppKey[tuple[str, ...]] = web.AppKey("woocommerce_webhook_secrets")
SQUARE_SECRETS_KEY: web.AppKey[tuple[str, ...]] = web.AppKey("square_webhook_secrets")
SQUARE_URL_KEY: web.AppKey[str] = web.AppKey("square_notification_url")
TRANSLATOR_KEY: web.AppKey[Translator] = web.AppKey("shop_webhook_translator")
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
SIGNATURE_HEADERS = ("X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256")
TOPIC_HEADERS = ("X-Shopify-Topic", "Shopify-Topic")
WOO_SIGNATURE = "X-WC-Webhook-Signature"
WOO_TOPIC = "X-WC-Webhook-Topic"
SQUARE_SIGNATURE = "x-square-hmacsha256-signature"
SHIPHERO_SIGNATURE = "x-shiphero-hmac-sha256"
# ShipHero documents this answer to its webhooks; a dead letter is answered so too (it is kept,
# and only a fix here cures it, so ShipHero must not retry)
SHIPHERO_RECEIPT = {"code": "200", "Message": "Success"}

T = TypeVar("T")


def sign(secret: str, body: bytes) -> str:
    """The signature a platform sends for `body` (base64 HMAC-SHA256)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(secrets: Sequence[str], body: bytes, signature: str | None) -> bool:
    if not signature or not secrets:
        return False
    return any(hmac.compare_digest(sign(secret, body), signature.strip()) for secret in secrets)


def env_list(*values: str) -> tuple[str, ...]:
    """The comma-separated items of settings, each once."""
    found: list[str] = []
    for value in values:
        found.extend(s.strip() for s in value.split(",") if s.strip())
    return tuple(dict.fromkeys(found))


def env_secrets() -> tuple[str, ...]:
    env = env_settings()
    return env_list(env.shopify_webhook_secret, env.shop_webhook_secret)


async def _blocking(app: web.Application, function: Callable[..., T], *args: Any) -> T:
    executor = app.get(EXECUTOR_KEY)
    return await asyncio.get_running_loop().run_in_executor(executor, function, *args)


def _first_header(request: web.Request, names: Sequence[str]) -> str | None:
    for name in names:
        value = request.headers.get(name)
        if value:
            return value
    return None


def _unauthorized(detail: str) -> web.Response:
    return web.json_response(
        {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail},
        status=401,
        content_type="application/problem+json",
    )


async def _take(
    request: web.Request,
    source: str,
    fmt: str,
    body: bytes,
    prefixes: Sequence[str],
    receipt: dict[str, str] | None = None,
) -> web.Response:
    """Apply one signed message and answer: 200 applied, or 202 kept as a dead letter (with
    `receipt`, the fields a platform expects in any answer)."""
    app = request.app
    headers = {
        str(k): v
        for k, v in request.headers.items()
        if any(k.lower().startswith(p) for p in prefixes)
    }
    db = request.config_dict[DB_KEY]
    headers[RECEIVED_AT] = format_instant(db.ledger.clock())
    message = Message(source, -1, -1, fmt, body, headers)
    report = await _blocking(app, _apply, db, app[TRANSLATOR_KEY], message)
    answer: dict[str, Any]
    if report.dead:
        answer = {"status": "dead_letter", "reason": report.dead[0].reason}
        status = 202
    else:
        answer = {"status": "applied", "accepted": report.accepted, "duplicate": report.duplicate}
        status = 200
    if report.notes:
        answer["notes"] = report.notes
    return web.json_response({**(receipt or {}), **answer}, status=status)


@public
async def shop_webhook(request: web.Request) -> web.Response:
    """A Shopify webhook (either header spelling; topic from the path, else the header)."""
    body = await request.read()
    secrets = request.app.get(WEBHOOK_SECRETS_KEY) or env_secrets()
    if not signed_by(secrets, body, _first_header(request, SIGNATURE_HEADERS)):
        return _unauthorized(f"missing or invalid {' / '.join(SIGNATURE_HEADERS)} signature")
    topic = request.match_info.get("topic") or _first_header(request, TOPIC_HEADERS) or "?"
    return await _take(
        request,
        "http:shopify",
        f"shopify/{topic.strip().lower()}",
        body,
        ("x-shopify-", "shopify-"),
    )


@public
async def woocommerce_webhook(request: web.Request) -> web.Response:
    body = await request.read()
    secrets = request.app.get(WOOCOMMERCE_SECRETS_KEY) or env_list(
        env_settings().woocommerce_webhook_secret
    )
    if not signed_by(secrets, body, request.headers.get(WOO_SIGNATURE)):
        return _unauthorized(f"missing or invalid {WOO_SIGNATURE} signature")
    topic = request.headers.get(WOO_TOPIC, "")
    if not topic and body.startswith(b"webhook_id="):
        return web.json_response({"status": "applied", "accepted": 0, "duplicate": 0})  # ping
    return await _take(
        request, "http:woocommerce", f"woocommerce/{topic.strip().lower() or '?'}", body, ("x-wc-",)
    )


def square_url() -> str:
    return env_settings().square_notification_url


@public
async def square_webhook(request: web.Request) -> web.Response:
    body = await request.read()
    secrets = request.app.get(SQUARE_SECRETS_KEY) or env_list(env_settings().square_webhook_secret)
    url = request.app.get(SQUARE_URL_KEY) or square_url()
    signature = request.headers.get(SQUARE_SIGNATURE)
    if not url or not signed_by(secrets, url.encode() + body, signature):
        return _unauthorized(f"missing or invalid {SQUARE_SIGNATURE} signature")
    return await _take(request, "http:square", "square", body, ("x-square-", "square-"))


@public
async def shiphero_webhook(request: web.Request) -> web.Response:
    """A ShipHero webhook ("Inventory Update"); the type is in the body's `webhook_type`."""
    body = await request.read()
    secrets = request.app.get(SHIPHERO_SECRETS_KEY) or env_list(
        env_settings().shiphero_webhook_secret
    )
    if not signed_by(secrets, body, request.headers.get(SHIPHERO_SIGNATURE)):
        return _unauthorized(f"missing or invalid {SHIPHERO_SIGNATURE} signature")
    return await _take(
        request, "http:shiphero", "shiphero", body, ("x-shiphero-",), SHIPHERO_RECEIPT
    )


@requires("ingest")
async def raw_intake(request: web.Request) -> web.Response:
    """`POST /v1/intake/{format}`: a raw body in an intake format (API key, `ingest` scope)."""
    body = await request.read()
    fmt = request.match_info["format"]
    return await _take(request, "http:intake", fmt, body, ("x-",))


def _apply(db: Database, translator: Translator, message: Message) -> Any:
    return apply_messages(db, translator, [message])


async def _load_translator(app: web.Application) -> None:
    """The SKU catalogue is read once at start (and again when a message names an unknown id)."""
    app[TRANSLATOR_KEY] = await _blocking(app, Translator, app[DB_KEY])


def setup(app: web.Application) -> None:
    app.on_startup.append(_load_translator)
