"""Event intake over HTTP: a batch of contract events, each answered on its own.

Each event is `accepted`, `duplicate` (same event_id, same content: a no-op), `conflict` (same
event_id, other content: the ledger keeps the first) or `rejected` with the field and reason
(invalid, or naming a location that does not exist).  Valid events are appended in one
transaction, through the ingest use case every other intake path shares.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.http.auth import requires
from adapters.http.blocking import in_writer
from adapters.http.keys import DB_KEY, METRICS_KEY, SETTINGS_KEY
from adapters.http.problems import Problem, read_body
from adapters.http.responses import json_response
from inventory.ledger import REJECTED
from inventory.services.ingest import ItemOutcome, ingest
from schemas.api import EventsRequest
from schemas.events import parse_item


@requires("ingest")
async def post_events(request: web.Request) -> web.Response:
    body = await read_body(request, EventsRequest)
    limit = request.config_dict[SETTINGS_KEY].max_events
    if len(body.events) > limit:
        raise Problem(
            413,
            "Too many events",
            f"a batch holds at most {limit} events",
            [{"field": "events", "reason": f"at most {limit} events, got {len(body.events)}"}],
            limit=limit,
        )
    items = [parse_item(raw) for raw in body.events]
    db = request.config_dict[DB_KEY]
    report = await in_writer(request.app, ingest, db.unit_of_work, items)
    results = [_result(outcome) for outcome in report.outcomes]
    counts = {
        s: sum(1 for r in results if r["status"] == s)
        for s in ("accepted", "duplicate", "conflict", "rejected")
    }
    metrics = request.config_dict[METRICS_KEY]
    for status, count in counts.items():
        if count:
            metrics.events.labels(status).inc(count)
    return json_response({**counts, "results": results})


def _result(outcome: ItemOutcome) -> dict[str, Any]:
    """One event's answer; a refusal names each field as `events.<index>.<field>`."""
    if outcome.status != REJECTED:
        return {
            "index": outcome.index,
            "event_id": outcome.event_id,
            "status": outcome.status,
            "position": outcome.position,
            "reason": outcome.reason,
        }
    prefix = f"events.{outcome.index}"
    return {
        "index": outcome.index,
        "event_id": outcome.event_id,
        "status": REJECTED,
        "reason": outcome.reason or "invalid event",
        "errors": [
            {"field": prefix + (f".{e.field}" if e.field else ""), "reason": e.reason}
            for e in outcome.errors
        ],
    }
