"""The stock event wire contract (one JSON object per event; JSON Lines in files).

Other teams code against this model; later versions may only add optional fields.  Every rule
of the contract is checked here so that a rejection names the field and the reason.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from inventory.events import EventType, StockEvent, to_micros
from inventory.ledger import FieldError
from inventory.services.ingest import Refused

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
MAX_QUANTITY = 1_000_000_000


def parse_instant(value: Any) -> datetime:
    """An RFC 3339 timestamp with an offset; numbers, dates and naive times are refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("timestamp", "timestamp needs a UTC offset")
        return value
    if not isinstance(value, str) or not RFC3339.match(value):
        raise PydanticCustomError(
            "timestamp", "expected an RFC 3339 timestamp with offset, e.g. 2026-05-01T09:30:00Z"
        )
    text = value
    fraction = re.search(r"\.(\d+)", text)
    if fraction and len(fraction.group(1)) > 6:  # Python keeps microseconds
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6], 1)
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as error:
        raise PydanticCustomError(
            "timestamp", "not a valid date or time: {error}", {"error": str(error)}
        ) from None


Instant = Annotated[datetime, BeforeValidator(parse_instant)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]

_NEEDS_RESERVATION = {"reservation", "reservation_release", "fulfilment"}


class StockEventIn(BaseModel):
    """A stock event as sent by any channel."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: Name = Field(description="Globally unique; the idempotency key.")
    type: EventType
    sku: Name
    location: Name = Field(description="A store or warehouse id.")
    quantity: StrictInt = Field(
        description="> 0; signed and non-zero for adjustment; the absolute on-hand (>= 0) for "
        "count."
    )
    occurred_at: Instant = Field(description="Event time (not arrival time), RFC 3339 with offset.")
    channel: Name | None = Field(default=None, description="web, marketplace, store, wms, ...")
    reference: Name | None = Field(
        default=None,
        validate_default=True,
        description="Order, transfer or receipt id; required for transfers.",
    )
    reservation_id: Name | None = Field(
        default=None,
        validate_default=True,
        description="Required for reservation, reservation_release and fulfilment.",
    )
    expires_at: Instant | None = Field(
        default=None, validate_default=True, description="reservation only."
    )
    destination: Name | None = Field(
        default=None, validate_default=True, description="Required for transfer_out."
    )
    reason: Text | None = Field(default=None, description="e.g. damaged, shrink, found.")

    @field_validator("type", mode="before")
    @classmethod
    def _type_from_text(cls, value: Any) -> Any:
        # strict mode would refuse the plain string a JSON document carries
        if isinstance(value, str) and value in EventType._value2member_map_:
            return EventType(value)
        raise PydanticCustomError(
            "event_type", "must be one of {types}", {"types": ", ".join(t.value for t in EventType)}
        )

    @field_validator("quantity")
    @classmethod
    def _quantity_fits_type(cls, value: int, info: ValidationInfo) -> int:
        kind = info.data.get("type")
        if abs(value) > MAX_QUANTITY:
            raise PydanticCustomError(
                "quantity", "must be at most {limit} in size", {"limit": MAX_QUANTITY}
            )
        if kind is EventType.ADJUSTMENT:
            if value == 0:
                raise PydanticCustomError("quantity", "an adjustment must not be zero")
        elif kind is EventType.COUNT:
            if value < 0:
                raise PydanticCustomError("quantity", "a count must be zero or more")
        elif value <= 0:
            raise PydanticCustomError("quantity", "must be greater than zero")
        return value

    @field_validator("reservation_id")
    @classmethod
    def _reservation_id_when_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if kind in _NEEDS_RESERVATION and value is None:
            raise PydanticCustomError("required", "required for {type} events", {"type": kind})
        if kind is not None and kind not in _NEEDS_RESERVATION and value is not None:
            raise PydanticCustomError("not_allowed", "only for reservation events")
        return value

    @field_validator("reference")
    @classmethod
    def _reference_for_transfers(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if kind in (EventType.TRANSFER_OUT, EventType.TRANSFER_IN) and value is None:
            raise PydanticCustomError(
                "required",
                "required for {type} events (it pairs transfer_out with transfer_in)",
                {"type": kind},
            )
        return value

    @field_validator("expires_at")
    @classmethod
    def _expiry_for_reservations(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        kind = info.data.get("type")
        if value is None:
            return value
        if kind is not None and kind is not EventType.RESERVATION:
            raise PydanticCustomError("not_allowed", "only for reservation events")
        occurred = info.data.get("occurred_at")
        if occurred is not None and value <= occurred:
            raise PydanticCustomError("expires_at", "must be later than occurred_at")
        return value

    @field_validator("destination")
    @classmethod
    def _destination_for_transfer_out(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if kind is EventType.TRANSFER_OUT:
            if value is None:
                raise PydanticCustomError("required", "required for transfer_out events")
            if value == info.data.get("location"):
                raise PydanticCustomError("destination", "must differ from location")
        elif value is not None and kind is not None:
            raise PydanticCustomError("not_allowed", "only for transfer_out events")
        return value

    def to_domain(self) -> StockEvent:
        return StockEvent(
            event_id=self.event_id,
            type=self.type,
            sku=self.sku,
            location=self.location,
            quantity=self.quantity,
            occurred_at=to_micros(self.occurred_at),
            channel=self.channel,
            reference=self.reference,
            reservation_id=self.reservation_id,
            expires_at=None if self.expires_at is None else to_micros(self.expires_at),
            destination=self.destination,
            reason=self.reason,
        )


class Rejection(BaseModel):
    """Why an event was refused: the field (dotted path; empty for the whole event) and reason."""

    field: str
    reason: str


def rejections(error: ValidationError) -> list[Rejection]:
    found = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        reason = item["msg"]
        if item["type"] == "extra_forbidden":
            reason = "unknown field"
        elif item["type"] == "missing":
            reason = "required"
        elif item["type"] == "string_pattern_mismatch":
            reason = _pattern_reason(str((item.get("ctx") or {}).get("pattern", "")))
        found.append(Rejection(field=field, reason=reason))
    return found


NAME_PATTERN = r"^\S(.*\S)?$"
COUNTRY_PATTERNS = (r"^[A-Z]{2}$", r"^[A-Za-z]{2}$")


def _pattern_reason(pattern: str) -> str:
    """Say what was expected: each pattern in the schemas stands for one kind of value."""
    if pattern == NAME_PATTERN:
        return "must not be blank or start or end with whitespace"
    if pattern in COUNTRY_PATTERNS:
        return "expected an ISO 3166 alpha-2 country code, e.g. DE"
    return f"does not have the expected form ({pattern})"


def parse_event(raw: Any) -> StockEvent | list[Rejection]:
    """A domain event from a decoded JSON value, or the reasons it is refused."""
    if not isinstance(raw, dict):
        return [Rejection(field="", reason="an event must be a JSON object")]
    try:
        return StockEventIn.model_validate(raw).to_domain()
    except ValidationError as error:
        return rejections(error)


def parse_item(raw: Any) -> StockEvent | Refused:
    """What the ingest use case takes: the event, or its refusal with the fields named."""
    parsed = parse_event(raw)
    if isinstance(parsed, StockEvent):
        return parsed
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    return Refused(
        [FieldError(r.field, r.reason) for r in parsed],
        event_id if isinstance(event_id, str) else None,
    )
