"""A customer's name and phone number, end to end (SQLite and PostgreSQL): held for on the staff
page, handed over, then purged (the sweeper, after the retention period) or erased on request
(`inventory forget`, `POST /v1/personal-data/forget`).  Afterwards neither is anywhere in the
database (every text and binary column of every table, dead letters included) nor in the logs,
while the ledger, the stock and `inventory verify` are as before."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from sqlalchemy import MetaData, inspect, select
from sqlalchemy import Table as SqlTable

from adapters.cli import main
from adapters.db.database import Database
from adapters.http.keys import SETTINGS_KEY
from adapters.http.sweeper import sweep_once
from inventory.personal import Retention
from inventory.ports import DeadLetter, Message
from tests.api_fixtures import Api, api  # noqa: F401  (fixture)
from tests.conftest import Clock
from tests.e2e.test_staff_http import Tablet, available, numbers, stocked  # noqa: F401  (fixture)

NAME = "Ms Weber"
PHONE = "+49 170 1234567"
# how the name and number could be found, however written
TRACES = ("weber", "1701234567", "170 1234567")
RID = "staff-0123456789abcdef"


def url_of(db: Database) -> str:
    return db.engines.write.url.render_as_string(hide_password=False)


def every_text(db: Database) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text or binary value in every table of the database."""
    found = []
    with db.engines.read.connect() as connection:
        for name in inspect(connection).get_table_names():
            table = SqlTable(name, MetaData(), autoload_with=connection)
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if isinstance(value, bytes | bytearray | memoryview):
                        value = bytes(value).decode("utf-8", errors="replace")
                    if isinstance(value, dict | list):
                        value = json.dumps(value)
                    if isinstance(value, str):
                        found.append((name, str(column), value))
    return found


def traces(texts: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [
        (table, column)
        for table, column, value in texts
        if any(t in value.casefold() for t in TRACES)
    ]


def ledger_and_stock(server: Api) -> tuple[Any, ...]:
    with server.db.engines.read.connect() as connection:
        events = [tuple(r) for r in connection.execute(select(SqlTable(
            "events", MetaData(), autoload_with=connection)))]  # fmt: skip
    return (events, available(server, "SHOE-42", "S-BER"))


def a_dead_letter_mentioning_her(db: Database) -> None:
    """A channel message that could not be applied and names her (kept byte for byte)."""
    payload = json.dumps(
        {
            "id": 991,
            "customer": {"first_name": "Anna", "last_name": "Weber", "phone": "0170 1234567"},
            "line_items": [{"id": 1, "sku": "NO-SUCH", "quantity": 1}],
        }
    ).encode()
    message = Message("shop.orders", 0, 7, "shop/orders/create", payload)
    with db.unit_of_work() as uow:
        uow.intake.dead_letters([DeadLetter(message, "unknown SKU")], uow.clock())
        uow.commit()


@pytest.mark.parametrize("exit_path", ["purge", "forget"])
def test_a_customers_name_leaves_no_trace_after_purge_or_erasure(
    stocked: Api,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    clock: Clock,
    exit_path: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    a_dead_letter_mentioning_her(stocked.db)
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    done = tablet.post(
        "/staff/hold",
        sku="SHOE-42",
        quantity=2,
        reference=NAME,
        contact=PHONE,
        minutes=30,
        hold_id="0123456789abcdef",
        location="S-BER",
    )
    assert done.status_code == 200 and f"for {NAME}" in done.text
    page = tablet.get("SHOE-42").text
    assert NAME in page  # the open hold names her, for the staff who hand it over
    why = page[page.index("Why:") : page.index("Nearby")]
    assert "Weber" not in why and "for a customer" in why  # the ledger lines do not
    assert set(traces(every_text(stocked.db))) == {
        ("dead_letters", "payload"),
        ("personal_data", "name"),
        ("personal_data", "contact"),
        ("personal_data", "name_key"),
        ("personal_data", "contact_key"),
    }  # never the events, the reservation lines or any other table
    handed = tablet.post(f"/staff/reservations/{RID}/fulfil", sku="SHOE-42")
    assert handed.status_code == 200 and f"({NAME})" in handed.text
    assert numbers(tablet.get("SHOE-42").text)["on_hand"] == 8
    before = ledger_and_stock(stocked)

    if exit_path == "purge":
        # the sweeper, once the retention period after the hand-over is over
        stocked.app[SETTINGS_KEY].retention = Retention(personal_data_days=1, dead_letter_days=30)
        clock.advance(86_400)
        asyncio.run(sweep_once(stocked.app))
        assert traces(every_text(stocked.db)) == [("dead_letters", "payload")]
        # the dead letter is younger than its own retention: her erasure request takes it
        status, body = stocked.call("POST", "/v1/personal-data/forget", json={"customer": PHONE})
        assert status == 200, body
        assert (body["personal_data"], body["dead_letters"]) == ([], [1])
    else:
        argv = ["forget", "--customer", "0170/123 45 67", "--db", url_of(stocked.db), "--json"]
        assert main(argv) == 0
        report = json.loads(capsys.readouterr().out)
        assert [r["reservation_id"] for r in report["personal_data"]] == [RID]
        assert report["dead_letters"] == [1]

    assert traces(every_text(stocked.db)) == []
    assert NAME not in tablet.get("SHOE-42").text
    assert ledger_and_stock(stocked) == before
    assert main(["verify", "--db", url_of(stocked.db)]) == 0
    logged = caplog.text.casefold()
    assert not [t for t in TRACES if t in logged]
    if exit_path == "purge":  # the sweeper and the API log what they erased, by counts
        assert "purged 1 personal-data records" in logged and "1 dead letters erased" in logged


def test_forget_needs_an_admin_key_and_a_reference(stocked: Api) -> None:  # noqa: F811
    status, _ = stocked.call("POST", "/v1/personal-data/forget", "read", json={"customer": "x"})
    assert status == 403
    status, body = stocked.call("POST", "/v1/personal-data/forget", json={"customer": "  "})
    assert status == 422 and body["errors"][0]["field"] == "customer"
    status, body = stocked.call("POST", "/v1/personal-data/forget", json={"customer": "nobody"})
    assert status == 200 and (body["personal_data"], body["dead_letters"]) == ([], [])
