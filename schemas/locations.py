"""The location registry's wire and file contract: one store or warehouse per record.

CSV files carry the same fields as columns; `opening_hours` is then a JSON text cell, and
booleans are true/false, yes/no or 1/0.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from inventory.hours import HoursError, WeeklyHours, zone
from inventory.routing import Site

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Name
    name: Annotated[str, Field(min_length=1, max_length=300)]
    kind: Literal["store", "warehouse"]
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
    address: Annotated[str, Field(max_length=500)] | None = None
    postal_code: Annotated[str, Field(max_length=40)] | None = None
    city: Annotated[str, Field(max_length=200)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    timezone: str = "UTC"
    pickup_enabled: bool = False
    ship_enabled: bool = False
    opening_hours: dict[str, Any] | None = None
    handling_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 60
    pickup_capacity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None

    @field_validator("id", "name", "address", "postal_code", "city", "timezone")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("control characters are not allowed")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except HoursError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = json.loads(value)
            except json.JSONDecodeError as error:
                raise ValueError(f"not JSON: {error.msg}") from None
        try:
            WeeklyHours.parse(value)
        except HoursError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("pickup_enabled", "ship_enabled", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError("expected true or false")
        return value

    @field_validator("address", "postal_code", "city", "country", "pickup_capacity", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def row(self) -> dict[str, Any]:
        return self.model_dump()


def site_from_row(row: Any) -> Site:
    """A registry row (database or validated record) as routing sees it."""
    data: dict[str, Any] = row if isinstance(row, dict) else dict(row._mapping)

    def get(name: str) -> Any:
        return data[name]

    return Site(
        id=get("id"),
        name=get("name"),
        kind=get("kind"),
        lat=float(get("lat")),
        lon=float(get("lon")),
        timezone=get("timezone") or "UTC",
        pickup_enabled=bool(get("pickup_enabled")),
        ship_enabled=bool(get("ship_enabled")),
        hours=WeeklyHours.parse(get("opening_hours")),
        handling_minutes=int(get("handling_minutes") or 0),
        pickup_capacity=get("pickup_capacity"),
    )
