"""What every translator shares: the error it raises, the SKU catalogue and field readers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from inventory.channel_orders import OrderFacts
from inventory.events import EventType, StockEvent, to_micros
from schemas.events import StockEventIn, parse_instant, rejections

ALIAS_KINDS = (
    "sku",
    "gtin",
    "variant",
    "asin",
    "seller_sku",
    "inventory_item",
    "square",
    "woocommerce",
    "shiphero",
)

# The header a receiver sets on every message: when it arrived (RFC 3339, UTC), for formats
# whose bodies carry no time of their own.
RECEIVED_AT = "x-inventory-received-at"


@dataclass
class Translation:
    """What a message says: contract events, facts about channel orders (booked through the
    order memory), and notes on what was skipped (a line without SKU, an ignored topic).
    `delivery_timed` names the events timed by their delivery, not by the body: a redelivery
    keeps the first delivery's time, so it stays a duplicate."""

    events: list[StockEvent] = field(default_factory=list)
    orders: list[OrderFacts] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    delivery_timed: set[str] = field(default_factory=set)


class TranslationError(ValueError):
    """A payload that cannot become events; `field` is a dotted path into the payload."""

    def __init__(self, field: str, reason: str, unknown_sku: bool = False) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason
        self.unknown_sku = unknown_sku


def normalise(kind: str, value: str) -> str:
    """One spelling per id: GTINs (EAN-8/UPC-A/EAN-13/GTIN-14) as 14 digits."""
    text = value.strip()
    if kind == "gtin" and text.isdigit() and len(text) in (8, 12, 13, 14):
        return text.zfill(14)
    return text


class SkuCatalog:
    """Foreign product ids to SKUs, and the set of known SKUs (empty: every SKU is accepted)."""

    def __init__(self, aliases: Mapping[tuple[str, str], str] | None = None) -> None:
        self.aliases: dict[tuple[str, str], str] = {}
        self.skus: set[str] = set()
        for (kind, value), sku in (aliases or {}).items():
            self.add(kind, value, sku)

    def add(self, kind: str, value: str, sku: str) -> None:
        self.aliases[(kind, normalise(kind, value))] = sku
        self.skus.add(sku)

    def knows(self, sku: str) -> bool:
        return not self.skus or sku in self.skus

    def find(self, kind: str, value: Any) -> str | None:
        if value is None or value == "":
            return None
        text = normalise(kind, str(value))
        if kind == "sku":
            return text if text in self.skus else None
        return self.aliases.get((kind, text))

    def resolve(self, path: str, *candidates: tuple[str, Any]) -> str:
        """The SKU of the first candidate id that maps; unknown SKU names every id tried."""
        for kind, value in candidates:
            found = self.find(kind, value)
            if found is not None:
                return found
        tried = ", ".join(f"{k} {v}" for k, v in candidates if v not in (None, ""))
        raise TranslationError(path, f"unknown SKU: no mapping for {tried or 'an empty id'}", True)

    def own_sku(self, path: str, sku: str) -> str:
        if not self.knows(sku):
            raise TranslationError(path, f"unknown SKU: {sku}", True)
        return sku


def _pairs(text: str) -> dict[str, str]:
    """`a=b,c=d` as a mapping (blanks around names ignored)."""
    found = {}
    for pair in text.split(","):
        if "=" in pair:
            key, value = pair.split("=", 1)
            found[key.strip()] = value.strip()
    return found


def _names(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class ChannelSettings:
    """Where each channel's stock lives: platform location ids map to locations here.

    Environment (all optional):
    - INVENTORY_SHOPIFY_LOCATIONS (or INVENTORY_SHOP_LOCATIONS): `shopify-location-id=LOCATION`
      pairs, comma-separated; a Shopify location id not listed is refused (dead letter naming
      it).  INVENTORY_SHOPIFY_DEFAULT_LOCATION (or INVENTORY_SHOP_DEFAULT_LOCATION) holds orders
      that name no location.
    - INVENTORY_SHOPIFY_STOCK_LOCATIONS: Shopify location ids whose stock Shopify keeps (its
      `inventory_levels/update` is then booked as a count); elsewhere it is ignored.
    - INVENTORY_MARKETPLACE_LOCATION: where merchant-fulfilled Amazon orders are held and
      shipped from; INVENTORY_AMAZON_SUPPLY_SOURCES maps `SupplySourceId=LOCATION`;
      INVENTORY_AMAZON_FBA_LOCATIONS maps `MarketplaceId=LOCATION` for Amazon-held stock.
    - INVENTORY_WOOCOMMERCE_LOCATION, INVENTORY_WOOCOMMERCE_TIMEZONE (IANA name, e.g.
      Europe/Berlin: WooCommerce's `date_*` fields without offset are read in it; default UTC).
    - INVENTORY_SQUARE_LOCATIONS: `square-location-id=LOCATION` pairs; counts at an unlisted
      Square location are refused.
    - INVENTORY_SHIPHERO_LOCATIONS: `warehouse-id=LOCATION` pairs (ShipHero's numeric
      `warehouse_id`, or its `warehouse_uuid`); counts at an unlisted warehouse are refused.
    """

    shop_default_location: str = "WH-KASSEL"
    shop_locations: dict[str, str] = field(default_factory=dict)
    marketplace_location: str = "WH-KASSEL"
    shopify_stock_locations: frozenset[str] = frozenset()
    amazon_supply_sources: dict[str, str] = field(default_factory=dict)
    amazon_fba_locations: dict[str, str] = field(default_factory=dict)
    woocommerce_location: str = "WH-KASSEL"
    woocommerce_timezone: str = "UTC"
    square_locations: dict[str, str] = field(default_factory=dict)
    shiphero_locations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChannelSettings:
        from adapters.config import env_settings

        source = env_settings(env)
        default = source.shopify_default_location or source.shop_default_location
        return cls(
            shop_default_location=default or "WH-KASSEL",
            shop_locations=_pairs(source.shopify_locations or source.shop_locations),
            marketplace_location=source.marketplace_location,
            shopify_stock_locations=_names(source.shopify_stock_locations),
            amazon_supply_sources=_pairs(source.amazon_supply_sources),
            amazon_fba_locations=_pairs(source.amazon_fba_locations),
            woocommerce_location=source.woocommerce_location,
            woocommerce_timezone=source.woocommerce_timezone,
            square_locations=_pairs(source.square_locations),
            shiphero_locations=_pairs(source.shiphero_locations),
        )

    def shop_location(self, location_id: Any, path: str = "location_id") -> str:
        """The location of a Shopify location id; none named is the default location, one
        not mapped is refused with its id (booking it elsewhere would misplace stock)."""
        if location_id is None or location_id == "":
            return self.shop_default_location
        found = self.shop_locations.get(str(location_id).strip())
        if found is None:
            raise TranslationError(
                path,
                f"unmapped Shopify location {location_id}: add it to INVENTORY_SHOPIFY_LOCATIONS",
            )
        return found


# -- readers of payload fields ---------------------------------------------------------------


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise TranslationError("", utf8_problem(body) or f"not valid JSON: {error}") from None


def utf8_problem(body: bytes) -> str | None:
    """Why `body` is not UTF-8 (the first bad byte and its offset), or None when it is."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = body[error.start : error.start + 1].hex()
        return f"not valid UTF-8: byte 0x{bad} at offset {error.start} ({error.reason})"
    return None


def need(obj: Any, name: str, path: str = "") -> Any:
    where = f"{path}.{name}" if path else name
    if not isinstance(obj, dict):
        raise TranslationError(path, "expected a JSON object")
    value = obj.get(name)
    if value is None or value == "":
        raise TranslationError(where, "required")
    return value


def need_list(obj: Any, name: str, path: str = "") -> list[Any]:
    value = need(obj, name, path)
    if not isinstance(value, list):
        raise TranslationError(f"{path}.{name}" if path else name, "expected a list")
    return value


def ident(obj: Any, name: str, path: str = "") -> str:
    """A source id (number or text) as text."""
    value = need(obj, name, path)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TranslationError(f"{path}.{name}" if path else name, "expected an id")
    return str(value).strip()


def quantity(value: Any, path: str, allow_negative: bool = False, allow_zero: bool = False) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TranslationError(path, "expected a whole number")
    if (value < 0 and not allow_negative) or (value == 0 and not allow_zero):
        raise TranslationError(path, "must be greater than zero")
    return value


def instant(value: Any, path: str) -> int:
    try:
        return to_micros(parse_instant(value))
    except Exception:
        raise TranslationError(
            path, "expected an RFC 3339 timestamp with offset, e.g. 2026-05-01T09:30:00Z"
        ) from None


def csv_rows(body: bytes, required: Sequence[str], delimiter: str = ",") -> list[dict[str, str]]:
    """Rows of a CSV (or TSV) text with a header line; missing columns are named."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TranslationError("", f"not UTF-8 text: {error}") from None
    try:
        return _read_csv(text, required, delimiter)
    except csv.Error as error:
        raise TranslationError("", f"not valid CSV: {error}") from None


def _read_csv(text: str, required: Sequence[str], delimiter: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise TranslationError("header", f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    return [
        {k: (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
        for row in reader
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


def rows_of(body: bytes, required: Sequence[str]) -> tuple[list[dict[str, Any]], str]:
    """Rows from a JSON object, a JSON array of objects, or a CSV text; with a path prefix."""
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        value = decode_json(body)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise TranslationError(f"[{index}]", "expected a JSON object")
        prefix = "[{}]" if isinstance(value, list) else ""
        return items, prefix
    return csv_rows(body, required), "row {}"


def row_path(prefix: str, index: int) -> str:
    """Where a row sits: `[3]` in a JSON array, `row 5` (file line, header is 1) in a CSV."""
    return prefix.format(index + 2 if prefix.startswith("row") else index)


def make_event(**fields: Any) -> StockEvent:
    """A contract event, checked by the contract itself (so translators cannot bypass it)."""
    body = {k: v for k, v in fields.items() if v is not None}
    body["type"] = EventType(body["type"])
    body = {k: (_as_text(v) if k in ("occurred_at", "expires_at") else v) for k, v in body.items()}
    try:
        return StockEventIn.model_validate(body).to_domain()
    except ValidationError as error:
        first = rejections(error)[0]
        raise TranslationError(first.field, first.reason) from None


def _as_text(micros: Any) -> Any:
    from inventory.events import format_instant

    return format_instant(micros) if isinstance(micros, int) else micros


def flatten(groups: Iterable[list[StockEvent]]) -> list[StockEvent]:
    return [event for group in groups for event in group]
