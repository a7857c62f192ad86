"""One entry point for every payload format the intake accepts.

Formats: `contract` (a stock event as in schemas/events.py), `shop/<webhook topic>` (e.g.
`shop/orders/create`), `marketplace`, `pos`, `wms/receipt`, `wms/transfer`, `wms/snapshot`.
"""

from __future__ import annotations

from adapters.channels import marketplace, pos, shop, wms
from adapters.channels.common import ChannelSettings, SkuCatalog, TranslationError, decode_json
from inventory.events import StockEvent
from schemas.events import parse_event

FORMATS = (
    "contract",
    *(f"shop/{topic}" for topic in shop.TOPICS),
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


def translate(
    fmt: str, body: bytes, catalog: SkuCatalog, settings: ChannelSettings
) -> list[StockEvent]:
    """The events of one message in format `fmt`, or TranslationError with field and reason."""
    if fmt == "contract":
        return contract(body, catalog)
    if fmt.startswith("shop/"):
        return shop.translate(fmt[len("shop/") :], body, catalog, settings)
    if fmt == "marketplace":
        return marketplace.translate(body, catalog, settings)
    if fmt == "pos":
        return pos.translate(body, catalog)
    if fmt.startswith("wms/") and fmt[len("wms/") :] in wms.KINDS:
        return wms.KINDS[fmt[len("wms/") :]](body, catalog)
    raise TranslationError("format", f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
