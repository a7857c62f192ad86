"""Event intake over HTTP: a batch of contract events, each answered on its own.

Each event is `accepted`, `duplicate` (same event_id, same content: a no-op), `conflict` (same
event_id, other content: the ledger keeps the first) or `rejected` with the field and reason
(invalid, or naming a location that does not exist).  Valid events are appended in one
transaction.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.http.auth import requires
from adapters.http.blocking import in_thread, in_writer
from adapters.http.keys import DB_KEY, LOCATIONS_KEY, METRICS_KEY, SETTINGS_KEY
from adapters.http.openapi import add_route
from adapters.http.problems import Problem, read_body
from adapters.http.responses import json_response
from inventory.events import StockEvent
from schemas.api import EventsRequest, EventsResult
from schemas.events import parse_event


def _unknown_places(app: web.Application, events: list[StockEvent]) -> set[str]:
    named = {e.location for e in events} | {e.destination for e in events if e.destination}
    return set(app[LOCATIONS_KEY].unknown(sorted(named)))


def _event_id(raw: Any) -> str | None:
    value = raw.get("event_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


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
    results: list[dict[str, Any]] = [{} for _ in body.events]
    valid: list[tuple[int, StockEvent]] = []
    for index, raw in enumerate(body.events):
        parsed = parse_event(raw)
        if isinstance(parsed, list):
            results[index] = {
                "index": index,
                "event_id": _event_id(raw),
                "status": "rejected",
                "reason": "invalid event",
                "errors": [
                    {
                        "field": f"events.{index}" + (f".{r.field}" if r.field else ""),
                        "reason": r.reason,
                    }
                    for r in parsed
                ],
            }
        else:
            valid.append((index, parsed))
    app = request.app
    unknown = await in_thread(app, _unknown_places, app, [e for _, e in valid]) if valid else set()
    accepted: list[tuple[int, StockEvent]] = []
    for index, event in valid:
        bad = [
            (name, value)
            for name, value in (("location", event.location), ("destination", event.destination))
            if value in unknown
        ]
        if bad:
            results[index] = {
                "index": index,
                "event_id": event.event_id,
                "status": "rejected",
                "reason": "unknown location",
                "errors": [
                    {"field": f"events.{index}.{n}", "reason": f"unknown location {v!r}"}
                    for n, v in bad
                ],
            }
        else:
            accepted.append((index, event))
    if accepted:
        db = request.config_dict[DB_KEY]
        appended = await in_writer(app, db.ledger.append, [e for _, e in accepted])
        for (index, event), outcome in zip(accepted, appended.outcomes, strict=True):
            results[index] = {
                "index": index,
                "event_id": event.event_id,
                "status": outcome.status,
                "position": outcome.position,
                "reason": outcome.reason,
            }
    counts = {
        s: sum(1 for r in results if r["status"] == s)
        for s in ("accepted", "duplicate", "conflict", "rejected")
    }
    metrics = request.config_dict[METRICS_KEY]
    for status, count in counts.items():
        if count:
            metrics.events.labels(status).inc(count)
    return json_response({**counts, "results": results})


def setup(app: web.Application) -> None:
    add_route(
        app,
        "POST",
        "/v1/events",
        post_events,
        summary="Record a batch of contract events (at most 5,000)",
        body=EventsRequest,
        responses={200: EventsResult},
    )
