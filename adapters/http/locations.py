"""The locations table held in memory: existence checks for writes and distances for `near=`.

The table is small (stores and warehouses) and changes rarely; it is reloaded every
`refresh_seconds` and at once when a write names a location not seen yet, so a store added by
another process is never refused for long.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from adapters.db import registry
from adapters.db.database import Database
from inventory.geo import geodesic_km, haversine_km


@dataclass(frozen=True)
class Place:
    id: str
    kind: str
    lat: float
    lon: float
    ship_enabled: bool
    pickup_enabled: bool


class LocationBook:
    def __init__(self, db: Database, refresh_seconds: float = 30.0) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._places: dict[str, Place] = {}
        self._loaded = -math.inf
        self._lock = threading.Lock()

    def reload(self) -> None:
        places = {
            row["id"]: Place(
                id=row["id"],
                kind=row["kind"],
                lat=row["lat"],
                lon=row["lon"],
                ship_enabled=bool(row["ship_enabled"]),
                pickup_enabled=bool(row["pickup_enabled"]),
            )
            for row in registry.places(self.db.engines)
        }
        with self._lock:
            self._places = places
            self._loaded = time.monotonic()

    def places(self) -> dict[str, Place]:
        if time.monotonic() - self._loaded > self.refresh_seconds:
            self.reload()
        return self._places

    def unknown(self, ids: list[str]) -> list[str]:
        """Those of `ids` that are not in the locations table (reloading once if needed)."""
        missing = [i for i in ids if i not in self.places()]
        if missing:
            self.reload()
            missing = [i for i in ids if i not in self._places]
        return missing

    def within(self, lat: float, lon: float, radius_km: float) -> list[tuple[str, float]]:
        """Locations within the radius, nearest first, with geodesic distances in km."""
        found = []
        for place in self.places().values():
            # haversine errs by < 0.6 %; geodesic decides at the edge and gives the figure
            if haversine_km(lat, lon, place.lat, place.lon) > radius_km * 1.01:
                continue
            km = geodesic_km(lat, lon, place.lat, place.lon)
            if km <= radius_km:
                found.append((place.id, round(km, 3)))
        return sorted(found, key=lambda item: (item[1], item[0]))
