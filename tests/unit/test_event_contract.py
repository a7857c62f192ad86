"""The wire contract: every event type accepted in its valid form, every rule named on refusal."""

from __future__ import annotations

import pytest

from inventory.events import EventType, StockEvent
from schemas.events import parse_event

BASE = {
    "event_id": "e-1",
    "sku": "TRAIL-BLK-42",
    "location": "DE-BERLIN",
    "quantity": 2,
    "occurred_at": "2026-05-01T09:30:00+02:00",
}

VALID = {
    "receipt": {},
    "sale": {"channel": "store"},
    "return": {"reason": "customer return"},
    "adjustment": {"quantity": -3, "reason": "damaged"},
    "count": {"quantity": 0},
    "transfer_out": {"destination": "DE-HAMBURG", "reference": "TR-1"},
    "transfer_in": {"reference": "TR-1"},
    "reservation": {"reservation_id": "R-1", "expires_at": "2026-05-01T10:30:00Z"},
    "reservation_release": {"reservation_id": "R-1"},
    "fulfilment": {"reservation_id": "R-1", "reference": "WEB-1001"},
}


def test_every_type_has_a_valid_example():
    assert set(VALID) == {t.value for t in EventType}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_events_parse(kind):
    event = parse_event({**BASE, "type": kind, **VALID[kind]})
    assert isinstance(event, StockEvent)
    assert event.type.value == kind
    assert event.occurred_at == 1777620600000000  # 07:30Z: the offset is honoured


def reasons(raw: dict) -> dict[str, str]:
    result = parse_event(raw)
    assert not isinstance(result, StockEvent), "expected a rejection"
    return {r.field: r.reason for r in result}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"quantity": 0}, "quantity", "greater than zero"),
        ({"quantity": -1}, "quantity", "greater than zero"),
        ({"quantity": 1.5}, "quantity", "integer"),
        ({"quantity": "2"}, "quantity", "integer"),
        ({"quantity": True}, "quantity", "integer"),
        ({"quantity": 10**12}, "quantity", "at most"),
        ({"type": "adjustment", "quantity": 0}, "quantity", "not be zero"),
        ({"type": "count", "quantity": -1}, "quantity", "zero or more"),
        ({"type": "teleport"}, "type", "must be one of"),
        ({"occurred_at": "2026-05-01T09:30:00"}, "occurred_at", "offset"),
        ({"occurred_at": "2026-05-01"}, "occurred_at", "RFC 3339"),
        ({"occurred_at": 1777620600}, "occurred_at", "RFC 3339"),
        ({"occurred_at": "2026-13-01T09:30:00Z"}, "occurred_at", "not a valid"),
        ({"event_id": ""}, "event_id", "at least 1"),
        ({"event_id": "x" * 201}, "event_id", "at most 200"),
        ({"sku": " padded "}, "sku", "whitespace"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"type": "reservation"}, "reservation_id", "required"),
        ({"type": "fulfilment"}, "reservation_id", "required"),
        ({"type": "sale", "reservation_id": "R-1"}, "reservation_id", "only for reservation"),
        ({"type": "transfer_out", "reference": "T"}, "destination", "required"),
        (
            {"type": "transfer_out", "reference": "T", "destination": "DE-BERLIN"},
            "destination",
            "differ",
        ),
        ({"type": "transfer_in"}, "reference", "required"),
        ({"type": "sale", "destination": "X"}, "destination", "only for transfer_out"),
        ({"type": "sale", "expires_at": "2026-05-02T00:00:00Z"}, "expires_at", "only for"),
        (
            {"type": "reservation", "reservation_id": "R", "expires_at": "2026-05-01T07:00:00Z"},
            "expires_at",
            "later than occurred_at",
        ),
    ],
)
def test_rejections_name_the_field_and_reason(change, field, words):
    raw = {**BASE, "type": "sale", **change}
    found = reasons(raw)
    assert field in found, found
    assert words in found[field]


def test_missing_fields_are_each_named():
    found = reasons({"type": "sale"})
    for field in ("event_id", "sku", "location", "quantity", "occurred_at"):
        assert found[field] == "required"


def test_non_object_is_refused():
    assert reasons([1, 2]) == {"": "an event must be a JSON object"}  # type: ignore[arg-type]


def test_content_hash_ignores_the_offset_spelling_of_one_instant():
    a = parse_event({**BASE, "type": "sale"})
    b = parse_event({**BASE, "type": "sale", "occurred_at": "2026-05-01T07:30:00Z"})
    assert isinstance(a, StockEvent) and isinstance(b, StockEvent)
    assert a.content_hash() == b.content_hash()
