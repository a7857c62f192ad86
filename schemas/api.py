"""Wire models of the availability API; /openapi.json is generated from these.

Later versions only add optional fields.  Request models are strict (no type coercion, unknown
fields refused) so a bad request is a 422 naming the field; query strings are parsed leniently
(they are text) but bounded the same way.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

from inventory.services.ingest import UNSTORABLE_TEXT, unstorable
from schemas.events import MAX_QUANTITY, Instant
from schemas.events import Name as ContractName
from schemas.events import Text as ContractText


def _storable(value: str) -> str:
    """Refused before any database sees it (PostgreSQL refuses NUL; SQLite would keep it)."""
    if unstorable(value):
        raise PydanticCustomError("unstorable_text", UNSTORABLE_TEXT)
    return value


# an id in a path, a query or a request body
Name = Annotated[ContractName, AfterValidator(_storable)]
Text = Annotated[ContractText, AfterValidator(_storable)]

Quantity = StrictInt


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# -- problems --------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field ('' for the whole body).")
    reason: str


class Shortfall(BaseModel):
    sku: str
    requested: int
    available: int


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    shortfalls: list[Shortfall] | None = None


# -- availability ----------------------------------------------------------------------------


class AvailabilityQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    location: list[Name] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Answer exactly these (repeatable); unregistered ones are named in "
            "unknown_locations, not answered.  Bounded by the service's read cells (413)."
        ),
    )
    channel: Name | None = None
    near: str | None = Field(
        default=None,
        pattern=r"^\s*-?\d{1,3}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?\s*$",
        description="lat,lon in degrees",
    )
    radius_km: float = Field(default=50.0, gt=0, le=20_040)
    as_of: Instant | None = None


class LocationStock(BaseModel):
    location: str
    on_hand: int
    reserved: int
    in_transit: int
    safety_stock: int
    available: int
    flags: list[str] = Field(
        default_factory=list,
        description=(
            "negative_on_hand, reserved_exceeds_on_hand, and oversold when either is set "
            "(more is promised than is here); empty when all is well."
        ),
    )
    distance_km: float | None = Field(default=None, description="Only with near=.")


UNKNOWN_LOCATIONS = (
    "Explicit locations that are not registered, left out of the rows (absent when none)."
)


class Availability(BaseModel):
    unknown_locations: list[str] | None = Field(default=None, description=UNKNOWN_LOCATIONS)
    sku: str
    as_of: str
    total_available: int
    locations: list[LocationStock]


class BatchRequest(Strict):
    skus: list[Name] = Field(min_length=1, description="At most 1,000 (more: 413).")
    locations: list[Name] | None = Field(
        default=None,
        max_length=1000,
        description="SKUs × locations at most the service's read cells, 100,000 by default "
        "(more: 413).",
    )
    channel: Name | None = None


class BatchAvailability(BaseModel):
    as_of: str
    unknown_locations: list[str] | None = Field(default=None, description=UNKNOWN_LOCATIONS)
    items: list[Availability]


# -- reservations ----------------------------------------------------------------------------


class LineIn(Strict):
    sku: Name
    quantity: Quantity = Field(gt=0, le=MAX_QUANTITY)


class ReservationRequest(Strict):
    reservation_id: Name
    location: Name
    lines: list[LineIn] = Field(min_length=1, max_length=1000)
    ttl_seconds: StrictInt | None = Field(default=None, gt=0, description="Default 900.")
    channel: Name | None = None
    reference: Name | None = None


class LineOut(BaseModel):
    sku: str
    quantity: int
    held: int
    released: int
    fulfilled: int


class ReservationOut(BaseModel):
    reservation_id: str
    location: str
    status: Literal["active", "expired", "released", "fulfilled"]
    expires_at: str | None
    opened_at: str | None
    channel: str | None
    reference: str | None
    lines: list[LineOut]


class FulfilRequest(Strict):
    lines: list[LineIn] | None = Field(
        default=None, max_length=1000, description="Omit to hand over everything held."
    )


class ReleaseRequest(Strict):
    reason: Text | None = None


# -- events and ledger -----------------------------------------------------------------------


class EventsRequest(Strict):
    events: list[Any] = Field(
        min_length=1, description="Contract events (see StockEventIn); at most 5,000."
    )


class EventResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "conflict", "rejected"]
    position: int | None = None
    reason: str | None = None
    errors: list[FieldError] | None = None


class EventsResult(BaseModel):
    accepted: int
    duplicate: int
    conflict: int
    rejected: int
    results: list[EventResult]


class LedgerQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: Name | None = None
    location: Name | None = None
    after: int = Field(default=0, ge=0, le=2**62)
    limit: int = Field(default=100, ge=1, le=1000)


class LedgerEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    position: int
    event_id: str
    type: str
    sku: str
    location: str
    quantity: int
    occurred_at: str


class LedgerPage(BaseModel):
    events: list[LedgerEntry]
    next_after: int | None = Field(description="Pass as after= for the next page; null at the end.")


class StockPageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    after: Name | None = Field(default=None, description="Last SKU of the previous page.")
    limit: int = Field(default=100, ge=1, le=1000)


class SkuStock(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    in_transit: int
    safety_stock: int
    available: int
    flags: list[str]


class LocationStockPage(BaseModel):
    location: str
    as_of: str
    positions: list[SkuStock]
    next_after: str | None


# -- channels and health ---------------------------------------------------------------------


class ChannelPolicyIn(Strict):
    warehouses: bool = True
    stores: Literal["none", "all", "ship_enabled", "pickup_enabled"] = "none"
    locations: list[Name] = Field(default_factory=list, max_length=1000)
    buffer: StrictInt = Field(default=0, ge=0, le=MAX_QUANTITY)


class ChannelPolicy(ChannelPolicyIn):
    name: Name


class ChannelList(BaseModel):
    channels: list[ChannelPolicy]


class WebhookResult(BaseModel):
    """What a signed webhook did: applied (with event counts) or kept as a dead letter."""

    status: str
    accepted: int | None = None
    duplicate: int | None = None
    reason: str | None = None
    notes: list[str] | None = None  # what the message held that books no stock (skipped lines)
    code: str | None = None  # ShipHero's documented answer: {"code": "200", "Message": "Success"}
    Message: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    ledger_head: int | None = None
