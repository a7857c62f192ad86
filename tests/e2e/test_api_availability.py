"""Availability reads over a real server: filters, channels, distances, the past, batches."""

from __future__ import annotations

from adapters.db.database import Database
from tests.api_fixtures import Api, api, receipt

__all__ = ["api"]


def stocked(api: Api) -> None:
    api.events(
        receipt("r1", "SKU-1", "S-BER", 5),
        receipt("r2", "SKU-1", "S-POT", 3),
        receipt("r3", "SKU-1", "S-HAM", 4),
        receipt("r4", "SKU-1", "WH-KS", 10),
    )


def by_location(body: dict) -> dict[str, int]:
    return {row["location"]: row["available"] for row in body["locations"]}


def test_unknown_sku_is_zero_not_an_error(api: Api) -> None:
    status, body = api.call("GET", "/v1/availability/NOPE", "read")
    assert status == 200
    assert body["sku"] == "NOPE" and body["total_available"] == 0 and body["locations"] == []
    status, body = api.call("GET", "/v1/availability/NOPE", "read", params={"location": "S-BER"})
    assert status == 200
    assert body["locations"] == [
        {
            "location": "S-BER",
            "on_hand": 0,
            "reserved": 0,
            "in_transit": 0,
            "safety_stock": 0,
            "available": 0,
            "flags": [],
        }
    ]


def test_stock_per_location_with_safety_stock(api: Api, database: Database) -> None:
    stocked(api)
    database.set_safety_stock("WH-KS", 2)
    status, body = api.call("GET", "/v1/availability/SKU-1", "read")
    assert status == 200
    assert by_location(body) == {"S-BER": 5, "S-POT": 3, "S-HAM": 4, "WH-KS": 8}
    assert body["total_available"] == 20
    status, body = api.call(
        "GET",
        "/v1/availability/SKU-1",
        "read",
        params=[("location", "S-BER"), ("location", "S-HAM")],
    )
    assert by_location(body) == {"S-BER": 5, "S-HAM": 4}


def test_channels_pick_locations_and_hold_back_a_buffer(api: Api, database: Database) -> None:
    stocked(api)
    status, body = api.call(
        "GET", "/v1/availability/SKU-1", "read", params={"channel": "marketplace"}
    )
    assert status == 200
    assert by_location(body) == {"WH-KS": 8}  # warehouses only, buffer 2
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"channel": "web"})
    assert by_location(body) == {"S-BER": 5, "S-HAM": 4, "WH-KS": 10}  # no S-POT: no shipping
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"channel": "nope"})
    assert status == 422 and body["errors"][0]["field"] == "channel"
    # an operator changes the marketplace policy through the API
    status, _ = api.call(
        "PUT",
        "/v1/channels/marketplace",
        "admin",
        json={"warehouses": True, "stores": "all", "buffer": 1},
    )
    assert status == 200
    api.app[
        __import__("adapters.http.keys", fromlist=["CHANNELS_KEY"]).CHANNELS_KEY
    ]._loaded = float("-inf")
    status, body = api.call(
        "GET", "/v1/availability/SKU-1", "read", params={"channel": "marketplace"}
    )
    assert by_location(body) == {"S-BER": 4, "S-POT": 2, "S-HAM": 3, "WH-KS": 9}
    status, _ = api.call("PUT", "/v1/channels/marketplace", "read", json={"buffer": 1})
    assert status == 403


def test_near_sorts_by_distance_within_the_radius(api: Api) -> None:
    stocked(api)
    # Alexanderplatz, Berlin: Berlin store first, then Potsdam; Hamburg and Kassel are too far
    status, body = api.call(
        "GET",
        "/v1/availability/SKU-1",
        "read",
        params={"near": "52.5219,13.4132", "radius_km": "60"},
    )
    assert status == 200
    assert [row["location"] for row in body["locations"]] == ["S-BER", "S-POT"]
    distances = [row["distance_km"] for row in body["locations"]]
    assert 0.3 < distances[0] < 1.0 and 25 < distances[1] < 35
    assert body["total_available"] == 8
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"near": "95,13"})
    assert status == 422 and body["errors"][0]["field"] == "near"
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"near": "berlin"})
    assert status == 422 and body["errors"][0]["field"] == "near"


def test_as_of_reads_the_past(api: Api) -> None:
    api.events(
        receipt("r1", "SKU-1", "S-BER", 5, "2026-05-01T08:00:00Z"),
        receipt("r2", "SKU-1", "S-BER", 7, "2026-05-20T08:00:00Z"),
    )
    status, body = api.call(
        "GET", "/v1/availability/SKU-1", "read", params={"as_of": "2026-05-10T00:00:00Z"}
    )
    assert status == 200 and body["as_of"] == "2026-05-10T00:00:00Z"
    assert by_location(body) == {"S-BER": 5}
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"as_of": "yesterday"})
    assert status == 422 and body["errors"][0]["field"] == "as_of"


def test_batch(api: Api) -> None:
    stocked(api)
    status, body = api.call(
        "POST",
        "/v1/availability/batch",
        "read",
        json={"skus": ["SKU-1", "NOPE"], "locations": ["S-BER", "WH-KS"]},
    )
    assert status == 200
    assert [item["sku"] for item in body["items"]] == ["SKU-1", "NOPE"]
    assert by_location(body["items"][0]) == {"S-BER": 5, "WH-KS": 10}
    assert body["items"][1]["total_available"] == 0
    status, body = api.call(
        "POST", "/v1/availability/batch", "read", json={"skus": [f"S{i}" for i in range(1001)]}
    )
    assert status == 413 and "1000" in body["detail"] and body["errors"][0]["field"] == "skus"
    status, body = api.call("POST", "/v1/availability/batch", "read", json={"skus": "SKU-1"})
    assert status == 422 and body["errors"][0]["field"] == "skus"


def test_location_stock_pages(api: Api) -> None:
    api.events(*[receipt(f"r{i}", f"SKU-{i:02d}", "S-BER", i + 1) for i in range(5)])
    status, body = api.call("GET", "/v1/locations/S-BER/stock", "read", params={"limit": 3})
    assert status == 200 and [p["sku"] for p in body["positions"]] == ["SKU-00", "SKU-01", "SKU-02"]
    status, body = api.call(
        "GET", "/v1/locations/S-BER/stock", "read", params={"after": body["next_after"]}
    )
    assert [p["sku"] for p in body["positions"]] == ["SKU-03", "SKU-04"]
    assert body["next_after"] is None
    status, _ = api.call("GET", "/v1/locations/NOWHERE/stock", "read")
    assert status == 404


def test_ledger_pages_by_position(api: Api) -> None:
    api.events(*[receipt(f"r{i}", "SKU-1", "S-BER", 1) for i in range(5)])
    status, body = api.call("GET", "/v1/ledger", "admin", params={"sku": "SKU-1", "limit": 2})
    assert status == 200 and [e["event_id"] for e in body["events"]] == ["r0", "r1"]
    status, body = api.call("GET", "/v1/ledger", "admin", params={"after": body["next_after"]})
    assert [e["event_id"] for e in body["events"]] == ["r2", "r3", "r4"]
    status, body = api.call("GET", "/v1/ledger", "admin", params={"limit": 0})
    assert status == 422 and body["errors"][0]["field"] == "limit"
    status, _ = api.call("GET", "/v1/ledger", "read")
    assert status == 403


def test_reads_are_never_stale(api: Api, database: Database) -> None:
    """Whatever changes the database (this server, another process, the clock passing an
    expiry), the next read shows it: remembered answers are dropped at once."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from inventory.events import EventType, StockEvent

    steps = st.lists(
        st.tuples(
            st.sampled_from(["receipt", "sale", "reserve", "release", "safety", "wait"]),
            st.sampled_from(["A", "B"]),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=12,
    )
    counter = iter(range(10**9))

    @given(steps)
    @settings(
        max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(plan: list[tuple[str, str, int]]) -> None:
        for action, sku, quantity in plan:
            n = next(counter)
            now = database.ledger.clock()
            if action in ("receipt", "sale"):
                kind = EventType.RECEIPT if action == "receipt" else EventType.SALE
                database.ledger.append([StockEvent(f"e{n}", kind, sku, "S-BER", quantity, now)])
            elif action == "reserve":
                api.call(
                    "POST",
                    "/v1/reservations",
                    "ingest",
                    json={
                        "reservation_id": f"R{n}",
                        "location": "S-BER",
                        "ttl_seconds": 30,
                        "lines": [{"sku": sku, "quantity": 1}],
                    },
                )
            elif action == "release":
                api.call("POST", f"/v1/reservations/R{n - 1}/release", "ingest")
            elif action == "safety":
                database.set_safety_stock("S-BER", quantity - 1, sku=sku)
            else:
                database.ledger.clock.advance(quantity * 10)  # type: ignore[attr-defined]
            for target in ([sku], ["A", "B"]):
                status, body = api.call(
                    "POST",
                    "/v1/availability/batch",
                    "read",
                    json={"skus": target, "locations": ["S-BER"]},
                )
                assert status == 200
                single = api.call("GET", f"/v1/availability/{sku}", "read")[1]
                truth = database.reader.position(sku, "S-BER")
                shown = {i["sku"]: i["locations"][0] for i in body["items"]}[sku]
                assert (shown["on_hand"], shown["reserved"], shown["available"]) == (
                    truth.on_hand,
                    truth.reserved,
                    truth.available,
                )
                if single["locations"]:
                    assert single["locations"][0]["available"] == truth.available

    run()


def test_unknown_locations_are_named_not_answered_as_zeros(api: Api) -> None:
    stocked(api)
    status, body = api.call(
        "GET",
        "/v1/availability/SKU-1",
        "read",
        params=[("location", "S-BER"), ("location", "NOWHERE"), ("location", "ATLANTIS")],
    )
    assert status == 200
    assert body["unknown_locations"] == ["ATLANTIS", "NOWHERE"]
    assert by_location(body) == {"S-BER": 5} and body["total_available"] == 5
    status, body = api.call(
        "POST",
        "/v1/availability/batch",
        "read",
        json={"skus": ["SKU-1", "NOPE"], "locations": ["NOWHERE", "WH-KS"]},
    )
    assert status == 200 and body["unknown_locations"] == ["NOWHERE"]
    assert [by_location(item) for item in body["items"]] == [{"WH-KS": 10}, {"WH-KS": 0}]
    assert all("unknown_locations" not in item for item in body["items"])
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"location": "NOWHERE"})
    assert status == 200 and body["locations"] == [] and body["unknown_locations"] == ["NOWHERE"]
    # all known: no such field
    status, body = api.call("GET", "/v1/availability/SKU-1", "read", params={"location": "S-BER"})
    assert "unknown_locations" not in body


def test_reads_are_bounded_by_skus_times_locations(api: Api) -> None:
    """1,000 SKUs × 1,000 unknown locations once answered 1,000,000 rows of zeros."""
    skus = [f"SKU-{i:04d}" for i in range(1000)]
    places = [f"NOWHERE-{i:04d}" for i in range(1000)]
    status, body = api.call(
        "POST", "/v1/availability/batch", "read", json={"skus": skus, "locations": places}
    )
    assert status == 413 and body["limit"] == 100_000
    assert [e["field"] for e in body["errors"]] == ["skus", "locations"]
    assert "1000000 cells" in body["errors"][0]["reason"]
    status, body = api.call(
        "POST", "/v1/availability/batch", "read", json={"skus": skus[:100], "locations": places}
    )
    assert status == 200 and len(body["unknown_locations"]) == 1000
    settings = api.app[__import__("adapters.http.keys", fromlist=["SETTINGS_KEY"]).SETTINGS_KEY]
    settings.max_read_cells = 3
    status, body = api.call(
        "GET", "/v1/availability/SKU-1", "read", params=[("location", p) for p in places[:4]]
    )
    assert status == 413 and body["errors"][0]["field"] == "location"
    status, body = api.call(
        "GET", "/v1/availability/SKU-1", "read", params=[("location", p) for p in places[:3]]
    )
    assert status == 200
