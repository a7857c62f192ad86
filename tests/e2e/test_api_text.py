"""Text no database stores alike (NUL, other control characters, lone surrogates) in any field
of a request: a 4xx naming the field, never a 500, on SQLite and PostgreSQL alike.  Reads
refuse such a path or query value before it reaches the driver (PostgreSQL would refuse NUL).

A property test then sends arbitrary unicode (control characters included) in every string
field of the event contract and of the reservation request: the answer is never a 500, and
the same input gets the same answer on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.db.database import Database
from adapters.http.app import create_app
from adapters.http.settings import Settings
from tests.api_fixtures import Api, ServerThread, add_places, api, make_keys  # noqa: F401
from tests.conftest import BACKENDS, truncate_all

NUL = "A\x00B"


def problem_fields(body: Any) -> set[str]:
    return {e["field"] for e in body.get("errors", [])} if isinstance(body, dict) else set()


def event(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": "e1",
        "type": "receipt",
        "sku": "SKU-1",
        "location": "S-BER",
        "quantity": 1,
        "occurred_at": "2026-06-01T08:00:00Z",
        **fields,
    }


@pytest.mark.parametrize("name", ["event_id", "sku", "location", "channel", "reference", "reason"])
def test_nul_in_an_event_field_is_refused_naming_it(api: Api, name: str) -> None:  # noqa: F811
    status, body = api.call("POST", "/v1/events", "ingest", json={"events": [event(**{name: NUL})]})
    assert status == 200  # a batch answers per event (docs/api.md)
    (result,) = body["results"]
    assert result["status"] == "rejected"
    assert problem_fields(result) == {f"events.0.{name}"}


def test_nul_in_availability_paths_and_queries_is_a_422(api: Api) -> None:  # noqa: F811
    for path, params, field in [
        (f"/v1/availability/{quote(NUL)}", None, "sku"),
        ("/v1/availability/SKU-1", {"location": NUL}, "location"),
    ]:
        status, body = api.call("GET", path, "read", params=params)
        assert status == 422, (path, body)
        assert any(f.startswith(field) for f in problem_fields(body)), body
    status, body = api.call("POST", "/v1/availability/batch", "read", json={"skus": ["SKU-1", NUL]})
    assert status == 422 and problem_fields(body) == {"skus.1"}, body
    status, body = api.call(
        "POST", "/v1/availability/batch", "read", json={"skus": ["A"], "locations": [NUL]}
    )
    assert status == 422 and problem_fields(body) == {"locations.0"}, body


def test_nul_in_reservations_is_a_422_naming_the_field(api: Api) -> None:  # noqa: F811
    good = {"reservation_id": "r1", "location": "S-BER", "lines": [{"sku": "A", "quantity": 1}]}
    for field, request in [
        ("reservation_id", {**good, "reservation_id": NUL}),
        ("location", {**good, "location": NUL}),
        ("channel", {**good, "channel": NUL}),
        ("reference", {**good, "reference": NUL}),
        ("lines.0.sku", {**good, "lines": [{"sku": NUL, "quantity": 1}]}),
    ]:
        status, body = api.call("POST", "/v1/reservations", "ingest", json=request)
        assert status == 422 and problem_fields(body) == {field}, (field, body)
    for method, path in [
        ("GET", f"/v1/reservations/{quote(NUL)}"),
        ("POST", f"/v1/reservations/{quote(NUL)}/release"),
        ("POST", f"/v1/reservations/{quote(NUL)}/fulfil"),
    ]:
        status, body = api.call(method, path, "admin", json={} if method == "POST" else None)
        assert status == 422 and problem_fields(body) == {"reservation_id"}, (path, body)


def test_nul_in_the_staff_lookup_is_refused(api: Api) -> None:  # noqa: F811
    browser = requests.Session()
    browser.post(f"{api.url}/staff/signin", data={"key": api.keys["store"]}, timeout=30)
    page = browser.get(f"{api.url}/staff/", params={"q": NUL}, timeout=30)
    assert page.status_code == 422 and "q: contains a control character" in page.text
    live = browser.get(f"{api.url}/staff/live", params={"sku": NUL}, timeout=30)
    assert live.status_code == 422 and "sku: contains a control character" in live.text


# -- the same arbitrary text on both databases -----------------------------------------------

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["", " ", "A\x00", "\ud800", "x" * 201, "S-BER", "SKU-1", "a\tb", "\x7f", "\u2028"]
)
EVENT_TEXT = ("event_id", "type", "sku", "location", "occurred_at", "channel", "reference")
EVENT_TEXT += ("reservation_id", "destination", "reason", "expires_at")
RESERVATION_TEXT = ("reservation_id", "location", "channel", "reference", "lines.0.sku")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server per database, each with the same locations and keys."""
    found: dict[str, Any] = {}
    opened = []
    for backend in [b for b in BACKENDS if b]:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('text') / 'inventory.db'}"
        else:
            from tests.conftest import PG_ADMIN_URL, _pg_reachable

            if _pg_reachable():
                continue
            url = _scratch_pg(PG_ADMIN_URL)
        db = Database(url)
        truncate_all(db)
        add_places(db)
        keys = make_keys(db)
        server = ServerThread(create_app(db, Settings(sweep_interval_seconds=0)))
        server.__enter__()
        opened.append((server, db))
        found[backend] = (server.url, keys, requests.Session())
    yield found
    for server, db in opened:
        server.__exit__()
        db.close()


def _scratch_pg(admin_url: str) -> str:
    import os
    import uuid

    from sqlalchemy import create_engine, text

    name = f"inventory_text_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def answers(servers: dict[str, Any], method: str, path: str, body: Any) -> dict[str, Any]:
    found = {}
    for backend, (url, keys, session) in servers.items():
        response = session.request(
            method,
            url + path,
            json=body,
            headers={"Authorization": f"Bearer {keys['ingest']}"},
            timeout=30,
        )
        assert response.status_code < 500, (backend, response.text)
        data = response.json()
        found[backend] = (response.status_code, _shape(data))
    return found


def _shape(body: Any) -> Any:
    """What must agree across databases: statuses and the fields named (not free text)."""
    if "results" in body:
        return tuple((r["status"], tuple(sorted(problem_fields(r)))) for r in body["results"])
    return tuple(sorted(problem_fields(body)))


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(field=st.sampled_from(EVENT_TEXT), value=TEXT, counter=st.integers(0, 10**9))
def test_any_text_in_an_event_gets_the_same_answer_on_both_databases(
    servers: dict[str, Any], field: str, value: str, counter: int
) -> None:
    body = event(event_id=f"fuzz-{counter}", quantity=1)
    body[field] = value
    if field in ("reservation_id", "destination"):
        body["type"] = "reservation" if field == "reservation_id" else "transfer_out"
    result = answers(servers, "POST", "/v1/events", {"events": [body]})
    assert len(set(result.values())) == 1, result


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(field=st.sampled_from(RESERVATION_TEXT), value=TEXT, counter=st.integers(0, 10**9))
def test_any_text_in_a_reservation_gets_the_same_answer_on_both_databases(
    servers: dict[str, Any], field: str, value: str, counter: int
) -> None:
    body: dict[str, Any] = {
        "reservation_id": f"fuzz-{counter}",
        "location": "S-BER",
        "lines": [{"sku": "SKU-1", "quantity": 1}],
    }
    if field == "lines.0.sku":
        body["lines"][0]["sku"] = value
    else:
        body[field] = value
    result = answers(servers, "POST", "/v1/reservations", body)
    assert len(set(result.values())) == 1, result
