"""One entry point for every payload format the intake accepts.

Formats: `contract` (a stock event as in schemas/events.py), `shopify/<webhook topic>` (e.g.
`shopify/orders/create`; `shop/<topic>` is the older spelling), `woocommerce/<topic>` (e.g.
`woocommerce/order.updated`), `square` (webhook events), `shiphero` (ShipHero webhooks),
`marketplace` (Amazon notifications and order reports), `pos`, `wms/receipt`, `wms/transfer`,
`wms/snapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.channels import marketplace, pos, shiphero, shop, square, wms, woocommerce
from adapters.channels.common import (
    ChannelSettings,
    SkuCatalog,
    Translation,
    TranslationError,
    decode_json,
)
from inventory.events import StockEvent
from schemas.events import parse_event

SHOPIFY_PREFIXES = ("shopify/", "shop/")
FORMATS = (
    "contract",
    *(f"shopify/{topic}" for topic in shop.TOPICS),
    *(f"woocommerce/{topic}" for topic in woocommerce.TOPICS),
    "square",
    "shiphero",
    "marketplace",
    "pos",
    *(f"wms/{kind}" for kind in wms.KINDS),
)


def contract(body: bytes, catalog: SkuCatalog) -> list[StockEvent]:
    parsed = parse_event(decode_json(body))
    if not isinstance(parsed, StockEvent):
        first = parsed[0]
        raise TranslationError(first.field, first.reason)
    catalog.own_sku("sku", parsed.sku)
    return [parsed]


def format_of(base: str, headers: dict[str, str]) -> str:
    """The format of a message whose topic is configured as `base`: a platform's own topic
    header completes it (`shopify` + Shopify-Topic: orders/create → shopify/orders/create)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if base in ("shop", "shopify"):
        topic = lowered.get("x-shopify-topic") or lowered.get("shopify-topic") or "?"
        return f"shopify/{topic.strip().lower()}"
    if base == "woocommerce":
        return f"woocommerce/{(lowered.get('x-wc-webhook-topic') or '?').strip().lower()}"
    return base


def read(
    fmt: str,
    body: bytes,
    catalog: SkuCatalog,
    settings: ChannelSettings,
    headers: Mapping[str, str] | None = None,
) -> Translation:
    """What one message in format `fmt` says, or TranslationError with field and reason.
    `headers` are the delivery's (a platform's message id, the receiver's RECEIVED_AT)."""
    for prefix in SHOPIFY_PREFIXES:
        if fmt.startswith(prefix):
            return shop.read(fmt[len(prefix) :], body, catalog, settings)
    if fmt == "contract":
        return Translation(events=contract(body, catalog))
    if fmt.startswith("woocommerce/"):
        return woocommerce.read(fmt[len("woocommerce/") :], body, catalog, settings)
    if fmt == "square":
        return square.read(body, catalog, settings)
    if fmt == "shiphero":
        return shiphero.read(body, headers or {}, catalog, settings)
    if fmt == "marketplace":
        return marketplace.read(body, catalog, settings)
    if fmt == "pos":
        return Translation(events=pos.translate(body, catalog))
    if fmt.startswith("wms/") and fmt[len("wms/") :] in wms.KINDS:
        return Translation(events=wms.KINDS[fmt[len("wms/") :]](body, catalog))
    raise TranslationError("format", f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def translate(
    fmt: str, body: bytes, catalog: SkuCatalog, settings: ChannelSettings
) -> list[StockEvent]:
    """The contract events of one message (facts about channel orders are left out: they
    become events only against the order memory, see `read`)."""
    return read(fmt, body, catalog, settings).events
