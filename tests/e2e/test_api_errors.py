"""Keys and errors: 401/403, problem documents naming the field, no state change on bad input,
metrics and the OpenAPI document."""

from __future__ import annotations

from sqlalchemy import select

from adapters.cli import main
from adapters.db import api_tables
from adapters.db.database import Database
from adapters.http.auth import KeyStore
from tests.api_fixtures import Api, api, receipt

__all__ = ["api"]


def test_missing_bad_and_revoked_keys_are_401(api: Api) -> None:
    status, body = api.call("GET", "/v1/availability/A", None)
    assert status == 401 and body["errors"][0]["field"] == "Authorization"
    for header in ("Bearer nonsense", "Bearer inv_000000000000_ffff", "Basic abc"):
        status, _ = api.call("GET", "/v1/availability/A", None, headers={"Authorization": header})
        assert status == 401, header
    key_id = api.keys["read"].split("_")[1]
    assert KeyStore(api.db).revoke(key_id)
    api.app[__import__("adapters.http.keys", fromlist=["x"]).KEYSTORE_KEY]._cache.clear()
    assert api.call("GET", "/v1/availability/A", "read")[0] == 401


def test_wrong_scope_is_403(api: Api) -> None:
    assert api.call("POST", "/v1/events", "read", json={"events": [{}]})[0] == 403
    assert api.call("POST", "/v1/events", "store", json={"events": [{}]})[0] == 403
    assert api.call("GET", "/v1/availability/A", "ingest")[0] == 403
    assert api.call("GET", "/v1/availability/A", "store")[0] == 200


def test_keys_are_stored_hashed(api: Api) -> None:
    with api.db.engines.read.connect() as connection:
        stored = [row.secret_hash for row in connection.execute(select(api_tables.api_keys))]
    secrets = [key.split("_")[2] for key in api.keys.values()]
    assert len(stored) == 4 and not set(stored) & set(secrets)


def test_bad_bodies_are_4xx_problems_and_change_nothing(api: Api, database: Database) -> None:
    api.events(receipt("a", "A", "S-BER", 5))
    head = database.reader.head()
    cases = [
        (b"{not json", 400, ""),
        (b"[1, 2]", 422, ""),
        (b"", 400, ""),
        (b'{"events": "x"}', 422, "events"),
        (b"x" * 1_100_000, 413, ""),
    ]
    for data, code, field in cases:
        status, body = api.call(
            "POST", "/v1/events", "ingest", data=data, headers={"Content-Type": "application/json"}
        )
        assert status == code, (data[:20], body)
        assert body["status"] == code and body["errors"][0]["field"] == field
    assert database.reader.head() == head


def test_events_answer_each_event(api: Api, database: Database) -> None:
    good = receipt("e1", "A", "S-BER", 5)
    body = api.events(
        good,
        good,
        {**good, "quantity": 6},
        {**receipt("e2", "A", "S-BER", 1), "occurred_at": "2026-13-01T00:00:00Z"},
        {**receipt("e3", "A", "NOWHERE", 1)},
        {**receipt("e4", "A", "S-BER", -2)},
        "not an object",
    )
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "duplicate",
        "conflict",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert body["results"][3]["errors"][0]["field"] == "events.3.occurred_at"
    assert body["results"][4]["errors"][0]["field"] == "events.4.location"
    assert body["results"][5]["errors"][0]["field"] == "events.5.quantity"
    assert (body["accepted"], body["rejected"]) == (1, 4)
    assert database.reader.position("A", "S-BER").on_hand == 5
    status, answer = api.call("POST", "/v1/events", "ingest", json={"events": [good] * 5001})
    assert status == 413 and answer["errors"][0]["field"] == "events"


def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    status, body = api.call("GET", "/v2/nothing")
    assert status == 404 and body["status"] == 404
    status, body = api.call("DELETE", "/v1/reservations")
    assert status == 405 and body["status"] == 405


def test_health_metrics_and_openapi_need_no_key(api: Api) -> None:
    status, body = api.call("GET", "/healthz", None)
    assert status == 200 and body["status"] == "ok"
    api.call("GET", "/v1/availability/A", "read")
    status, text = api.call("GET", "/metrics", None)
    assert status == 200
    assert (
        'inventory_http_requests_total{method="GET",route="/v1/availability/{sku}",status="200"}'
        in text
    )
    status, doc = api.call("GET", "/openapi.json", None)
    assert status == 200 and doc["openapi"].startswith("3.1")
    assert "/v1/reservations" in doc["paths"]
    assert "ReservationRequest" in doc["components"]["schemas"]


def test_keys_command(database: Database, capsys) -> None:
    url = database.url
    assert main(["keys", "create", "--db", url, "--scope", "read", "--name", "shop"]) == 0
    token = capsys.readouterr().out.strip()
    assert KeyStore(database).verify(token).scopes == frozenset({"read"})
    assert main(["keys", "create", "--db", url, "--scope", "root"]) == 2
    assert main(["keys", "create", "--db", url, "--scope", "store:NOWHERE"]) == 2
    assert "unknown location" in capsys.readouterr().err
    assert main(["keys", "list", "--db", url]) == 0
    assert "shop" in capsys.readouterr().out
    assert main(["keys", "revoke", "--db", url, token.split("_")[1]]) == 0
    assert KeyStore(database).verify(token) is None


def test_demo_keys_are_created_once(database: Database) -> None:
    from adapters.cli.api_commands import demo_keys

    if database.engines.dialect != "sqlite":
        return  # the keys file sits beside a SQLite database; PostgreSQL is the same code
    first = demo_keys(database, "S-BER")
    again = demo_keys(database, "S-BER")
    assert first == again and set(first) == {"read", "store", "ingest", "admin"}
    store = KeyStore(database)
    assert store.verify(first["store"]).scopes == frozenset({"store:S-BER"})
    assert len(store.list()) == 4
