"""The pure routing function, checked against brute force over every store."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.geo import GridIndex, geodesic_km, haversine_km
from inventory.hours import WeeklyHours
from inventory.routing import Line, Network, RouteRequest, Site, route
from tests.conftest import at

NOW = at("2026-06-02T10:00:00Z")  # a Tuesday
SKUS = ["A", "B", "C", "D"]


def store(i: int, lat: float, lon: float, pickup: bool = True, **extra) -> Site:
    return Site(f"S{i:03d}", f"Store {i}", "store", lat, lon, "Europe/Berlin", pickup, **extra)


@st.composite
def scenarios(draw):
    count = draw(st.integers(1, 30))
    rng = random.Random(draw(st.integers(0, 2**32)))
    sites = []
    for i in range(count):
        # clusters make equal and near-equal distances likely
        lat = round(
            50 + rng.choice([0, 0, 0.3, -0.4]) + rng.uniform(-0.6, 0.6), rng.choice([1, 2, 4])
        )
        lon = round(8 + rng.choice([0, 0.5, -0.5]) + rng.uniform(-0.9, 0.9), rng.choice([1, 2, 4]))
        sites.append(store(i, lat, lon, pickup=rng.random() > 0.2))
    sites.append(Site("W1", "Warehouse", "warehouse", 51.3, 9.5, "Europe/Berlin", False, True))
    availability = {}
    for site in sites:
        for sku in SKUS:
            if rng.random() < 0.6:
                availability[(sku, site.id)] = rng.randint(0, 4)
    lines = [Line(sku, rng.randint(1, 3)) for sku in rng.sample(SKUS, rng.randint(1, 3))]
    request = RouteRequest(
        lines,
        round(50 + rng.uniform(-1, 1), 3),
        round(8 + rng.uniform(-1.5, 1.5), 3),
        radius_km=draw(st.sampled_from([5.0, 20.0, 40.0, 80.0, 200.0])),
        limit=draw(st.integers(1, 6)),
    )
    return Network(sites), availability, request


def brute(network: Network, availability, request: RouteRequest):
    complete, partial = [], []
    for site in network.sites.values():
        if site.kind != "store" or not site.pickup_enabled:
            continue
        km = round(geodesic_km(request.lat, request.lon, site.lat, site.lon), 3)
        if km > request.radius_km:
            continue
        have = [availability.get((x.sku, site.id), 0) for x in request.lines]
        if all(h >= x.quantity for h, x in zip(have, request.lines, strict=True)):
            complete.append((km, site.id))
        elif any(h > 0 for h in have):
            partial.append((km, site.id))
    return sorted(complete), sorted(partial)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_options_match_brute_force(scenario) -> None:
    network, availability, request = scenario
    result = route(network, request, availability, NOW)
    complete, partial = brute(network, availability, request)
    options = result.options
    assert len(options) <= request.limit
    for option in options:
        site = network.sites[option.location]
        assert site.kind == "store" and site.pickup_enabled  # pickup-disabled never appear
        assert option.distance_km <= request.radius_km
        assert option.ready_by is not None and option.ready_by >= NOW
        for offer in option.lines:
            assert offer.available == availability.get((offer.sku, option.location), 0)
        if option.complete:  # no option that says complete lacks stock
            assert all(o.available >= o.quantity for o in option.lines)
        else:
            assert any(o.available > 0 for o in option.lines)
    flags = [o.complete for o in options]
    assert flags == sorted(flags, reverse=True)  # complete first
    expected = complete[: request.limit] + partial[: max(0, request.limit - len(complete))]
    assert [(o.distance_km, o.location) for o in options] == expected
    if complete:
        # nothing complete inside the radius is closer than the first complete option
        assert (options[0].distance_km, options[0].location) == complete[0]
        assert result.ship_to_store is None and result.message is None
    else:
        assert result.message is not None


def _cover_brute(network, availability, request):
    stores = []
    for site in network.sites.values():
        if site.kind != "store" or not site.pickup_enabled:
            continue
        km = round(geodesic_km(request.lat, request.lon, site.lat, site.lon), 3)
        if km <= request.radius_km:
            mask = {
                x.sku for x in request.lines if availability.get((x.sku, site.id), 0) >= x.quantity
            }
            if mask:
                stores.append((km, site.id, frozenset(mask)))
    wanted = {x.sku for x in request.lines}
    for size in range(1, len(wanted) + 1):
        best = None
        for combo in itertools.combinations(stores, size):
            if frozenset().union(*(c[2] for c in combo)) == wanted:
                total = round(sum(c[0] for c in combo), 3)
                if best is None or total < best:
                    best = total
        if best is not None:
            return size, best
    return None


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_split_is_the_fewest_stores_then_least_distance(scenario) -> None:
    network, availability, request = scenario
    request.allow_split = True
    result = route(network, request, availability, NOW)
    complete, _ = brute(network, availability, request)
    if complete or len({x.sku for x in request.lines}) < 2:
        assert not any(o.split for o in result.options)
        return
    expected = _cover_brute(network, availability, request)
    splits = [o for o in result.options if o.split]
    if expected is None:
        assert not splits and result.message is not None
        return
    assert len(splits) == 1 and result.options[0] is splits[0]
    split = splits[0]
    assert len(split.parts) == expected[0]
    assert abs(split.distance_km - expected[1]) < 0.002
    served = [o.sku for part in split.parts for o in part.lines]
    assert sorted(served) == sorted(x.sku for x in request.lines)  # each line once
    for part in split.parts:
        assert all(o.available >= o.quantity for o in part.lines)


def test_ties_at_equal_distance_go_by_location_id() -> None:
    sites = [store(3, 50.1, 8.1), store(1, 50.1, 8.1), store(2, 50.1, 8.1)]
    availability = {("A", s.id): 5 for s in sites}
    result = route(Network(sites), RouteRequest([Line("A", 1)], 50.0, 8.0), availability, NOW)
    assert [o.location for o in result.options] == ["S001", "S002", "S003"]


def test_ship_to_store_when_nothing_in_radius_can_serve() -> None:
    shop = WeeklyHours.parse({d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
    sites = [
        store(1, 52.52, 13.40, hours=shop, handling_minutes=60),  # Berlin, 170 km away
        Site("WH-KASSEL", "Kassel", "warehouse", 51.31, 9.49, "Europe/Berlin", False, True),
        Site("WH-LEIPZIG", "Leipzig", "warehouse", 51.34, 12.37, "Europe/Berlin", False, True),
        Site("WH-EMPTY", "Empty", "warehouse", 52.5, 13.4, "Europe/Berlin", False, True),
    ]
    availability = {
        ("A", "WH-KASSEL"): 9,
        ("B", "WH-KASSEL"): 9,
        ("A", "WH-LEIPZIG"): 9,
        ("B", "WH-LEIPZIG"): 9,
        ("A", "WH-EMPTY"): 9,
    }
    request = RouteRequest([Line("A", 1), Line("B", 2)], 52.0, 11.0, radius_km=200)
    result = route(Network(sites), request, availability, NOW)
    assert result.options == []
    assert result.message == "no store within 200 km can hand over the whole cart"
    ship = result.ship_to_store
    assert ship is not None
    assert (ship.warehouse, ship.store) == ("WH-LEIPZIG", "S001")  # nearest stocked one
    assert ship.transit_days == 1 and 140 < ship.transit_km < 160
    # Leipzig (open 24/7, 60 min handling) sends Tue 13:00 Berlin; it arrives Wed 13:00 and
    # the store's 60 minutes make it ready at 14:00 Berlin
    assert ship.ready_by == at("2026-06-03T12:00:00Z")


def test_no_ship_to_store_beyond_the_radius() -> None:
    sites = [
        store(1, 52.52, 13.40),  # Berlin
        Site("WH-KASSEL", "Kassel", "warehouse", 51.31, 9.49, "Europe/Berlin", False, True),
    ]
    request = RouteRequest([Line("A", 1)], 30.0, -30.0, radius_km=50)  # the Atlantic
    result = route(Network(sites), request, {("A", "WH-KASSEL"): 9}, NOW)
    assert result.options == [] and result.ship_to_store is None
    assert result.message is not None
    assert result.message.startswith("no pickup store within 50 km of the origin")
    assert "km away" in result.message


def test_pickup_capacity_used_up_moves_the_option_to_the_next_day() -> None:
    from datetime import date

    shop = WeeklyHours.parse({d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
    site = store(1, 50.0, 8.0, hours=shop, handling_minutes=30, pickup_capacity=2)
    booked = {("S001", date(2026, 6, 2)): 2}
    result = route(
        Network([site]), RouteRequest([Line("A", 1)], 50.0, 8.0), {("A", "S001"): 1}, NOW, booked
    )
    assert result.options[0].ready_by == at("2026-06-03T07:00:00Z")  # Wed 09:00 Berlin
    assert result.options[0].pickup_day == date(2026, 6, 3)


def test_channel_hook_restricts_locations() -> None:
    sites = [store(1, 50.0, 8.0), store(2, 50.01, 8.0)]
    availability = {("A", "S001"): 1, ("A", "S002"): 1}
    request = RouteRequest([Line("A", 1)], 50.0, 8.0, allowed={"S002"}.__contains__)
    assert [o.location for o in route(Network(sites), request, availability, NOW).options] == [
        "S002"
    ]


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180)), min_size=1, max_size=60),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    radius=st.floats(0.1, 3000),
)
def test_grid_index_finds_exactly_the_points_brute_force_finds(points, lat, lon, radius) -> None:
    index = GridIndex(points)
    found = {near[1] for near in index.within(lat, lon, radius)}
    expected = {
        n for n, (plat, plon) in enumerate(points) if haversine_km(lat, lon, plat, plon) <= radius
    }
    assert found == expected
    nearest = index.nearest(lat, lon)
    assert nearest is not None
    best = min(haversine_km(lat, lon, p, q) for p, q in points)
    assert abs(nearest[0] - best) < 1e-9
