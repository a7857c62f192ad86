"""Prometheus metrics of one application (its own registry, so several apps can coexist)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.http.keys import METRICS_KEY


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "inventory_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "inventory_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.reservations = Counter(
            "inventory_reservations",
            "Reservation requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.swept = Counter(
            "inventory_reservation_lines_expired",
            "Reservation lines released by the expiry sweeper",
            registry=self.registry,
        )
        self.events = Counter(
            "inventory_events",
            "Events posted to /v1/events by outcome",
            ["status"],
            registry=self.registry,
        )
        # set on each scrape from the database (every process sees the same figure)
        self.oversold = Gauge(
            "inventory_oversold_positions",
            "Positions holding more reserved than on hand, or on hand below zero",
            registry=self.registry,
        )

        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram of one (method, route, status)."""
        key = (method, route, status)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        return found

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    metrics = request.app[METRICS_KEY]
    counter, histogram = metrics.children(request.method, route, response.status)
    counter.inc()
    histogram.observe(time.perf_counter() - started)
    return response
