"""Distances and a spatial index for "which stores are near this point".

The figure a customer sees is the WGS-84 geodesic (geopy), which is exact but costs about
0.2 ms a pair.  The index finds candidates on a lat/lon grid and ranks them by the spherical
(haversine) distance, which never differs from the geodesic by more than `SPHERE_ERROR`
(relative); callers compute the geodesic only for the few candidates that bound a result.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from geographiclib.geodesic import Geodesic

EARTH_KM = 6371.0088  # mean radius
# the sphere's radius of curvature lies within 6335..6400 km of the ellipsoid's: < 0.6 %
SPHERE_ERROR = 0.008
CELL_DEGREES = 0.5
_WGS84 = Geodesic.WGS84  # the ellipsoid and algorithm geopy's `geodesic` uses
_DISTANCE = Geodesic.DISTANCE


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """geopy's `geodesic(...).km` (Karney's method on WGS-84) without its point parsing and
    azimuths: the same figure, three times faster."""
    return float(_WGS84.Inverse(lat1, lon1, lat2, lon2, _DISTANCE)["s12"]) / 1000.0


def valid_point(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


# (spherical km from the query, point number): plain tuples sort fast and cost little to make
Near = tuple[float, int]


class GridIndex:
    """Points bucketed in CELL_DEGREES cells; a query visits the cells of the circle's box.

    Each point also keeps its 3-D unit vector, so most points are accepted or rejected by a
    chord length (three multiplications) before any trigonometry.
    """

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        self.points = list(points)
        self.vectors = [_unit(lat, lon) for lat, lon in self.points]
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for number, (lat, lon) in enumerate(self.points):
            self.cells[_cell(lat, lon)].append(number)

    def __len__(self) -> int:
        return len(self.points)

    def within(self, lat: float, lon: float, radius_km: float) -> list[Near]:
        """Every point whose spherical distance is at most `radius_km`, nearest first."""
        found = []
        asin, sqrt = math.asin, math.sqrt
        for squared, number in self._chord_hits(lat, lon, radius_km):
            distance = 2 * EARTH_KM * asin(min(1.0, sqrt(squared) / 2))  # great-circle km
            if distance <= radius_km:
                found.append((distance, number))
        found.sort()
        return found

    def nearest(self, lat: float, lon: float, beyond_km: float = 0.0) -> Near | None:
        """The spherically nearest point: circles of growing radius until one holds a point.

        `beyond_km`: the caller knows no point is that close, so the search starts farther out.
        """
        if not self.points:
            return None
        radius = max(25.0, 1.5 * beyond_km)
        while True:
            hits = self._chord_hits(lat, lon, radius)
            if hits:
                break
            radius *= 1.5
        best = min(hits)[1]
        return (haversine_km(lat, lon, *self.points[best]), best)

    def _chord_hits(self, lat: float, lon: float, radius_km: float) -> list[tuple[float, int]]:
        """(squared chord, point) for the points of the box within the radius's chord (with a
        hair of slack; callers decide on the exact distance)."""
        angle = min(radius_km / EARTH_KM, math.pi)
        limit = (2 * math.sin(angle / 2)) ** 2 * (1 + 1e-9) + 1e-15
        x, y, z = _unit(lat, lon)
        vectors = self.vectors
        hits = []
        for number in self._in_box(lat, lon, radius_km):
            px, py, pz = vectors[number]
            squared = (px - x) ** 2 + (py - y) ** 2 + (pz - z) ** 2
            if squared <= limit:
                hits.append((squared, number))
        return hits

    def _in_box(self, lat: float, lon: float, radius_km: float) -> list[int]:
        angle = math.degrees(radius_km / EARTH_KM)
        south, north = lat - angle, lat + angle
        if north >= 90 or south <= -90 or angle >= 90:
            lon_half = 180.0
        else:
            ratio = math.sin(math.radians(angle)) / math.cos(math.radians(lat))
            lon_half = 180.0 if ratio >= 1 else math.degrees(math.asin(ratio))
        rows = range(_row(max(south, -90.0)), _row(min(north, 90.0)) + 1)
        if lon_half >= 180:
            columns: list[int] = list(range(_row(-180.0), _row(180.0) + 1))
        else:
            first, last = _row(lon - lon_half), _row(lon + lon_half)
            span = _row(180.0) - _row(-180.0)
            columns = [_wrap(c, span) for c in range(first, last + 1)]
        hits: list[int] = []
        cells = self.cells
        unique = list(dict.fromkeys(columns))
        for row in rows:
            for column in unique:
                found = cells.get((row, column))
                if found:
                    hits.extend(found)
        return hits


def _unit(lat: float, lon: float) -> tuple[float, float, float]:
    p, q = math.radians(lat), math.radians(lon)
    return (math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p))


def _row(degrees: float) -> int:
    return math.floor(degrees / CELL_DEGREES)


def _wrap(column: int, span: int) -> int:
    low = _row(-180.0)
    return (column - low) % span + low


def _cell(lat: float, lon: float) -> tuple[int, int]:
    span = _row(180.0) - _row(-180.0)
    return _row(lat), _wrap(_row(lon), span)
