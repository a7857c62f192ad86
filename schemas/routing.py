"""Wire models of `POST /v1/routing/click-and-collect`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _printable(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("control characters are not allowed")
    return value


Printable = AfterValidator(_printable)
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$"), Printable]
MAX_LINES = 100
MAX_RADIUS_KM = 1000.0


class CartLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Name
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]


class Origin(BaseModel):
    """One of {"lat","lon"}, {"postal_code","country"} or {"city","country"}."""

    model_config = ConfigDict(extra="forbid")

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=20), Printable] | None = None
    city: Annotated[str, Field(min_length=1, max_length=200), Printable] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Origin:
        point = self.lat is not None or self.lon is not None
        if point:
            if self.lat is None or self.lon is None:
                raise ValueError("give both lat and lon")
            if self.postal_code or self.city:
                raise ValueError("give lat/lon, or a postal code or city with a country, not both")
            return self
        if self.postal_code and self.city:
            raise ValueError("give a postal_code or a city, not both")
        if not (self.postal_code or self.city):
            raise ValueError('needs {"lat","lon"}, {"postal_code","country"} or {"city","country"}')
        if not self.country:
            raise ValueError("country (ISO 3166 alpha-2) is required with a postal_code or city")
        return self


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[CartLine], Field(min_length=1, max_length=MAX_LINES)]
    origin: Origin
    radius_km: Annotated[float, Field(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)] = 50.0
    limit: Annotated[int, Field(ge=1, le=50)] = 5
    allow_split: bool = False
    channel: Name | None = None
    reserve: bool = False
    reservation_id: Name | None = None
    # how long a reservation made here holds (default: the service's reservation TTL)
    ttl_seconds: Annotated[int, Field(ge=60)] | None = None
    reference: Name | None = None


class LineOut(BaseModel):
    sku: str
    quantity: int
    available: int


class OptionOut(BaseModel):
    location: str | None = Field(description="store id; null for a split option (see parts)")
    name: str | None
    distance_km: float = Field(description="geodesic km; for a split, the sum over its stores")
    complete: bool
    ready_by: str | None
    pickup_day: str | None = Field(description="the store's local date of the pickup")
    lines: list[LineOut]
    split: bool = False
    parts: list[OptionOut] = Field(default_factory=list)


class ShipToStoreOut(BaseModel):
    warehouse: str
    warehouse_name: str
    store: str
    store_name: str
    distance_km: float
    transit_km: float
    transit_days: int
    ready_by: str | None


class PointOut(BaseModel):
    lat: float
    lon: float


class RouteOut(BaseModel):
    origin: PointOut
    options: list[OptionOut]
    message: str | None = None
    ship_to_store: ShipToStoreOut | None = None
    reservation: dict[str, Any] | None = None
    pickup: dict[str, Any] | None = None
