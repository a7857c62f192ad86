"""Click-and-collect routing: which nearby stores can hand over a cart, and when.

Pure: the caller passes the stores, what each has available for the cart's SKUs (on hand less
unexpired reservations and safety stock), the pickups already booked per store and day, and
"now".  Options are pickup-enabled stores within the radius that have something of the cart;
stores that can serve every line come first, nearest first, ties by location id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from inventory.geo import SPHERE_ERROR, GridIndex, Near, geodesic_km
from inventory.hours import WeeklyHours, ready_after, ready_by, zone

DAY = 86_400_000_000
MAX_SPLIT_LINES = 16  # beyond this the cover search is greedy
Availability = Mapping[tuple[str, str], int]  # (sku, location) -> available
Booked = Mapping[tuple[str, date], int]  # (location, local day) -> pickups booked


@dataclass(frozen=True, slots=True)
class Site:
    """A store or warehouse as routing needs it."""

    id: str
    name: str
    kind: str
    lat: float
    lon: float
    timezone: str = "UTC"
    pickup_enabled: bool = False
    ship_enabled: bool = False
    hours: WeeklyHours = field(default_factory=lambda: WeeklyHours(None))
    handling_minutes: int = 60
    pickup_capacity: int | None = None

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class LineOffer:
    sku: str
    quantity: int
    available: int


@dataclass
class Option:
    """One store (or, for a split, several in `parts`) and what it can hand over, when."""

    location: str | None
    name: str | None
    distance_km: float
    complete: bool
    ready_by: int | None
    pickup_day: date | None
    lines: list[LineOffer]
    parts: list[Option] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return bool(self.parts)


@dataclass
class ShipToStore:
    """Lines sent from a warehouse to the store nearest the customer."""

    warehouse: str
    warehouse_name: str
    store: str
    store_name: str
    distance_km: float  # customer to store
    transit_km: float  # warehouse to store
    transit_days: int
    ready_by: int | None


@dataclass
class Route:
    options: list[Option]
    ship_to_store: ShipToStore | None = None
    message: str | None = None


@dataclass
class RouteRequest:
    lines: Sequence[Line]
    lat: float
    lon: float
    radius_km: float = 50.0
    limit: int = 5
    allow_split: bool = False
    # channel policy hook: a location for which this returns False is never offered
    allowed: Callable[[str], bool] | None = None
    transit_km_per_day: float = 400.0


class Network:
    """Stores and warehouses, indexed once; routes are computed against it."""

    def __init__(self, sites: Sequence[Site]) -> None:
        self.sites = {site.id: site for site in sites}
        self.stores = sorted(
            (s for s in sites if s.kind == "store" and s.pickup_enabled), key=lambda s: s.id
        )
        self.warehouses = sorted(
            (s for s in sites if s.kind == "warehouse" and s.ship_enabled), key=lambda s: s.id
        )
        self.index = GridIndex([(s.lat, s.lon) for s in self.stores])

    def candidates(self, lat: float, lon: float, radius_km: float) -> list[Site]:
        """Pickup stores that may lie within the radius (spherical bound with margin)."""
        reach = radius_km * (1 + SPHERE_ERROR)
        return [self.stores[near[1]] for near in self.index.within(lat, lon, reach)]

    def nearest_store(self, lat: float, lon: float, beyond_km: float = 0.0) -> Site | None:
        near = self.index.nearest(lat, lon, beyond_km)
        return None if near is None else self.stores[near[1]]


def merge(lines: Sequence[Line]) -> list[Line]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return [Line(sku, quantity) for sku, quantity in totals.items()]


class _Distances:
    """Geodesic distances from the origin, computed once per site and only when needed."""

    def __init__(self, lat: float, lon: float) -> None:
        self.lat, self.lon = lat, lon
        self.known: dict[str, float] = {}

    def __call__(self, site: Site) -> float:
        found = self.known.get(site.id)
        if found is None:
            found = round(geodesic_km(self.lat, self.lon, site.lat, site.lon), 3)
            self.known[site.id] = found
        return found


def route(
    network: Network,
    request: RouteRequest,
    availability: Availability,
    now: int,
    booked: Booked | None = None,
) -> Route:
    """Options for picking up the cart near (lat, lon); see the module docstring."""
    lines = merge(request.lines)
    booked = booked or {}
    distance = _Distances(request.lat, request.lon)
    nearby = network.index.within(request.lat, request.lon, request.radius_km * (1 + SPHERE_ERROR))
    scan = _Scan(network, request, lines, availability)
    # in dense areas most stores are farther than the `limit` nearest complete ones: stop there,
    # and scan on only if some of those turn out unusable (outside the radius, never ready)
    scan.run(nearby, stop_early=True)
    chosen_complete = _nearest(scan.complete, request, distance, now, booked, request.limit)
    if len(chosen_complete) < request.limit and not scan.finished:
        scan.run(nearby, stop_early=False)
        chosen_complete = _nearest(scan.complete, request, distance, now, booked, request.limit)
    offers = _LazyOffers(scan)
    options = [_option(s, offers[s.id], distance(s), ready) for s, ready in chosen_complete]
    if len(options) < request.limit:
        rest = request.limit - len(options)
        chosen_partial = _nearest(scan.partial, request, distance, now, booked, rest)
        options += [_option(s, offers[s.id], distance(s), ready) for s, ready in chosen_partial]
    result = Route(options)
    if chosen_complete:
        return result
    if request.allow_split and len(lines) > 1:
        split = _split(scan.partial, lines, offers, request, distance, now, booked)
        if split is not None:
            result.options = [split, *options][: request.limit]
            return result
    result.message = f"no store within {request.radius_km:g} km can hand over the whole cart"
    nearest = network.stores[nearby[0][1]] if nearby and request.allowed is None else None
    store = nearest or _nearest_allowed_store(network, request)
    if store is None:
        return result
    km = geodesic_km(request.lat, request.lon, store.lat, store.lon)
    if km > request.radius_km:  # a pickup the customer cannot reach is no offer
        result.message = (
            f"no pickup store within {request.radius_km:g} km of the origin "
            f"(the nearest, {store.name}, is {km:,.0f} km away)"
        )
        return result
    result.ship_to_store = _ship_to_store(network, request, lines, availability, now, booked, store)
    return result


class _LazyOffers(dict[str, list[LineOffer]]):
    """Line offers built only for the stores that end up in the answer."""

    def __init__(self, scan: _Scan) -> None:
        super().__init__()
        self.scan = scan

    def __missing__(self, sid: str) -> list[LineOffer]:
        get = self.scan.availability.get
        offer = [LineOffer(x.sku, x.quantity, get((x.sku, sid), 0)) for x in self.scan.lines]
        self[sid] = offer
        return offer


class _Scan:
    """Stores within reach, split into complete and partial offers, in spherical order."""

    def __init__(
        self, network: Network, request: RouteRequest, lines: list[Line], availability: Availability
    ) -> None:
        self.network, self.request, self.lines = network, request, lines
        self.availability = availability
        self.complete: list[tuple[float, Site]] = []
        self.partial: list[tuple[float, Site]] = []
        self.position = 0
        self.finished = False
        # lines checked in order of how often they were short so far: a store usually fails on
        # the rare line, and is found to have something through a common one
        self.order = list(range(len(lines)))
        self.short = [0] * len(lines)

    def run(self, nearby: list[Near], stop_early: bool) -> None:
        limit, allowed, stores = self.request.limit, self.request.allowed, self.network.stores
        get = self.availability.get
        skus = [x.sku for x in self.lines]
        quantities = [x.quantity for x in self.lines]
        order, short = self.order, self.short
        while self.position < len(nearby):
            near = nearby[self.position]
            if stop_early and len(self.complete) >= limit:
                bound = self.complete[limit - 1][0] * (1 + SPHERE_ERROR)
                if near[0] * (1 - SPHERE_ERROR) > bound:
                    return
            self.position += 1
            if self.position % 64 == 0:
                order.sort(key=short.__getitem__, reverse=True)
            site = stores[near[1]]
            sid = site.id
            if allowed is not None and not allowed(sid):
                continue
            for n in order:
                if get((skus[n], sid), 0) < quantities[n]:
                    short[n] += 1
                    break
            else:
                self.complete.append((near[0], site))
                continue
            for n in reversed(order):
                if get((skus[n], sid), 0) > 0:
                    self.partial.append((near[0], site))
                    break
        self.finished = True


def _option(
    site: Site, offer: list[LineOffer], km: float, ready: tuple[int, date] | None
) -> Option:
    full = all(o.available >= o.quantity for o in offer)
    return Option(
        site.id,
        site.name,
        km,
        full,
        None if ready is None else ready[0],
        None if ready is None else ready[1],
        offer,
    )


def _ready(site: Site, now: int, booked: Booked) -> tuple[int, date] | None:
    return ready_by(
        site.hours,
        site.tz,
        now,
        site.handling_minutes,
        site.pickup_capacity,
        lambda day: booked.get((site.id, day), 0),
    )


def _nearest(
    found: list[tuple[float, Site]],
    request: RouteRequest,
    distance: _Distances,
    now: int,
    booked: Booked,
    limit: int,
) -> list[tuple[Site, tuple[int, date]]]:
    """The `limit` nearest by geodesic within the radius that can be ready, ties by id.

    `found` is in spherical order; a site's geodesic is computed only while its spherical lower
    bound could still beat the worst of the best `limit` so far.
    """
    if limit <= 0:
        return []
    best: list[tuple[float, str, Site, tuple[int, date]]] = []
    for sphere, site in found:
        if len(best) >= limit and sphere * (1 - SPHERE_ERROR) > best[-1][0]:
            break
        km = distance(site)
        if km > request.radius_km:
            continue
        ready = _ready(site, now, booked)
        if ready is None:
            continue
        best.append((km, site.id, site, ready))
        best.sort(key=lambda item: (item[0], item[1]))
        del best[limit:]
    return [(site, ready) for _, _, site, ready in best]


def _split(
    partial: list[tuple[float, Site]],
    lines: list[Line],
    offers: dict[str, list[LineOffer]],
    request: RouteRequest,
    distance: _Distances,
    now: int,
    booked: Booked,
) -> Option | None:
    """Fewest stores that together serve every line whole, then least total distance."""
    full_mask = (1 << len(lines)) - 1
    by_mask: dict[int, list[tuple[float, Site]]] = {}
    for sphere, site in partial:
        mask = sum(1 << n for n, o in enumerate(offers[site.id]) if o.available >= o.quantity)
        if mask:
            by_mask.setdefault(mask, []).append((sphere, site))
    covered = 0
    for mask in by_mask:
        covered |= mask
    if covered != full_mask:
        return None
    # per coverage mask only the nearest usable store can be part of a best cover
    representatives: list[tuple[int, float, Site, tuple[int, date]]] = []
    for mask, found in by_mask.items():
        chosen = _nearest(found, request, distance, now, booked, 1)
        if chosen:
            site, ready = chosen[0]
            representatives.append((mask, distance(site), site, ready))
    cover = _cover(representatives, full_mask, len(lines))
    if cover is None:
        return None
    parts = []
    remaining = full_mask
    for mask, km, site, ready in sorted(cover, key=lambda r: (r[1], r[2].id)):
        take = mask & remaining
        remaining &= ~mask
        offer = [o for n, o in enumerate(offers[site.id]) if take >> n & 1]
        parts.append(_option(site, offer, km, ready))
    readies = [p.ready_by for p in parts if p.ready_by is not None]
    return Option(
        None,
        None,
        round(sum(p.distance_km for p in parts), 3),
        True,
        max(readies) if readies else None,
        None,
        [o for p in parts for o in p.lines],
        parts,
    )


Rep = tuple[int, float, Site, tuple[int, date]]


def _cover(reps: list[Rep], full_mask: int, count: int) -> list[Rep] | None:
    """Exact minimum cover by layers (fewest sets, then least distance); greedy when large."""
    if count > MAX_SPLIT_LINES:
        return _greedy_cover(reps, full_mask)
    layer: dict[int, tuple[float, tuple[str, ...], list[Rep]]] = {0: (0.0, (), [])}
    for _ in range(count):
        following: dict[int, tuple[float, tuple[str, ...], list[Rep]]] = {}
        for covered, (total, ids, chosen) in layer.items():
            for rep in reps:
                if rep[0] & ~covered == 0:
                    continue
                key = covered | rep[0]
                candidate = (total + rep[1], tuple(sorted((*ids, rep[2].id))), [*chosen, rep])
                known = following.get(key)
                if known is None or candidate[:2] < known[:2]:
                    following[key] = candidate
        if full_mask in following:
            return following[full_mask][2]
        layer = following
    return None


def _greedy_cover(reps: list[Rep], full_mask: int) -> list[Rep] | None:
    chosen: list[Rep] = []
    covered = 0
    while covered != full_mask:
        best = max(
            reps,
            key=lambda r: (bin(r[0] & ~covered).count("1"), -r[1], r[2].id),
            default=None,
        )
        if best is None or best[0] & ~covered == 0:
            return None
        chosen.append(best)
        covered |= best[0]
    return chosen


def _ship_to_store(
    network: Network,
    request: RouteRequest,
    lines: list[Line],
    availability: Availability,
    now: int,
    booked: Booked,
    nearest: Site | None = None,
) -> ShipToStore | None:
    """The nearest allowed store, supplied by the nearest warehouse holding every line."""
    store = nearest or _nearest_allowed_store(network, request)
    if store is None:
        return None
    stocked = [
        w
        for w in network.warehouses
        if (request.allowed is None or request.allowed(w.id))
        and all(availability.get((x.sku, w.id), 0) >= x.quantity for x in lines)
    ]
    if not stocked:
        return None
    legs = sorted((geodesic_km(w.lat, w.lon, store.lat, store.lon), w.id, w) for w in stocked)
    transit_km, _, warehouse = legs[0]
    days = 1 + int(transit_km // request.transit_km_per_day)
    sent = ready_after(warehouse.hours, warehouse.tz, now, warehouse.handling_minutes)
    ready = None
    if sent is not None:
        arrival = _ready(store, sent + days * DAY, booked)
        ready = None if arrival is None else arrival[0]
    return ShipToStore(
        warehouse.id,
        warehouse.name,
        store.id,
        store.name,
        round(geodesic_km(request.lat, request.lon, store.lat, store.lon), 3),
        round(transit_km, 3),
        days,
        ready,
    )


def _nearest_allowed_store(network: Network, request: RouteRequest) -> Site | None:
    if request.allowed is None:
        return network.nearest_store(request.lat, request.lon, request.radius_km)
    radius = max(request.radius_km, 25.0)
    while radius < 40_000:
        for near in network.index.within(request.lat, request.lon, radius):
            site = network.stores[near[1]]
            if request.allowed(site.id):
                return site
        radius *= 2
    return None
