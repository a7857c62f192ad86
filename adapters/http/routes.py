"""Every route the service answers, in one table.

`inventory serve` (through `adapters.http.app.create_app`) registers exactly these; each
appears in /openapi.json with its models, and `tests/e2e/test_routes.py` checks that every
path written in the docs is answered.  A feature adds its handlers here; its module's own
`setup(app)` only prepares state and background work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from adapters.http import (
    audit,
    availability,
    channels,
    events,
    ops,
    personal_data,
    reservations,
    routing,
    webhooks,
)
from adapters.http.openapi import Handler, add_route
from adapters.http.staff.routes import routes as staff_routes
from schemas.api import (
    Availability,
    AvailabilityQuery,
    BatchAvailability,
    BatchRequest,
    ChannelList,
    ChannelPolicy,
    ChannelPolicyIn,
    EventsRequest,
    EventsResult,
    FulfilRequest,
    Health,
    LedgerPage,
    LedgerQuery,
    LocationStockPage,
    ReleaseRequest,
    ReservationOut,
    ReservationRequest,
    StockPageQuery,
    WebhookResult,
)
from schemas.locations import LocationIn
from schemas.personal import ForgetRequest, ForgetResult
from schemas.routing import RouteIn, RouteOut


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str = "inventory"
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    path_params: dict[str, str] | None = None
    responses: dict[int, Any] | None = None
    errors: dict[int, str] | None = field(default=None)


RID = {"reservation_id": "the reservation's id"}
LOCATION_ID = {"location_id": "location id"}
WEBHOOK_ANSWERS = {200: WebhookResult, 202: WebhookResult}
CELLS = {413: "Too many SKUs, or cells (SKUs × locations), for one read"}
WEBHOOK_ERRORS = {401: "Missing or invalid signature; nothing stored"}

ROUTES: list[Route] = [
    # operations
    Route("GET", "/healthz", ops.healthz, "Health", "operations",
          responses={200: Health, 503: "Database unavailable"}),
    Route("GET", "/metrics", ops.metrics, "Prometheus metrics", "operations",
          responses={200: "Prometheus text format"}),
    Route("GET", "/openapi.json", ops.openapi, "This document", "operations",
          responses={200: "OpenAPI 3.1 document"}),
    # availability
    Route("GET", "/v1/availability/{sku}", availability.get_availability,
          "Where a SKU can be sold, and how much", query=AvailabilityQuery,
          path_params={"sku": "the SKU"}, responses={200: Availability}, errors=CELLS),
    Route("POST", "/v1/availability/batch", availability.batch_availability,
          "Availability of up to 1,000 SKUs", body=BatchRequest,
          responses={200: BatchAvailability},
          errors=CELLS),
    # channels
    Route("GET", "/v1/channels", channels.list_channels, "Channel policies in force",
          responses={200: ChannelList}),
    Route("PUT", "/v1/channels/{name}", channels.put_channel, "Set a channel's policy (admin)",
          body=ChannelPolicyIn, path_params={"name": "channel name"},
          responses={200: ChannelPolicy}),
    # reservations
    Route("POST", "/v1/reservations", reservations.create_reservation,
          "Hold stock: all lines or none", body=ReservationRequest,
          responses={201: ReservationOut, 200: ReservationOut},
          errors={409: "Insufficient stock (shortfalls) or reservation_id used for another body"}),
    Route("GET", "/v1/reservations/{reservation_id}", reservations.get_reservation,
          "A reservation", path_params=RID, responses={200: ReservationOut},
          errors={404: "No such reservation"}),
    Route("POST", "/v1/reservations/{reservation_id}/release", reservations.release_reservation,
          "Release what a reservation holds", path_params=RID, body=ReleaseRequest,
          body_required=False, responses={200: ReservationOut},
          errors={404: "No such reservation"}),
    Route("POST", "/v1/reservations/{reservation_id}/fulfil", reservations.fulfil_reservation,
          "Hand over a reservation, whole or given lines", path_params=RID, body=FulfilRequest,
          body_required=False, responses={200: ReservationOut},
          errors={404: "No such reservation", 409: "Expired, or more than held"}),
    # intake
    Route("POST", "/v1/events", events.post_events,
          "Record a batch of contract events (at most 5,000)", body=EventsRequest,
          responses={200: EventsResult}),
    Route("POST", "/v1/webhooks/shopify/{topic}", webhooks.shop_webhook,
          "A Shopify webhook (orders/*, fulfillments/*, refunds/create, …), HMAC-signed",
          "intake", path_params={"topic": "the webhook topic, e.g. orders/create"},
          responses=WEBHOOK_ANSWERS, errors=WEBHOOK_ERRORS),
    Route("POST", "/v1/webhooks/shopify", webhooks.shop_webhook,
          "A Shopify webhook, its topic in the Shopify-Topic header, HMAC-signed", "intake",
          responses=WEBHOOK_ANSWERS, errors=WEBHOOK_ERRORS),
    Route("POST", "/v1/webhooks/shop/{topic}", webhooks.shop_webhook,
          "A Shopify webhook (older path of /v1/webhooks/shopify/{topic})", "intake",
          path_params={"topic": "the webhook topic, e.g. orders/create"},
          responses=WEBHOOK_ANSWERS, errors=WEBHOOK_ERRORS),
    Route("POST", "/v1/webhooks/woocommerce", webhooks.woocommerce_webhook,
          "A WooCommerce order webhook (order.created/updated/deleted/restored), signed",
          "intake", responses=WEBHOOK_ANSWERS, errors=WEBHOOK_ERRORS),
    Route("POST", "/v1/webhooks/square", webhooks.square_webhook,
          "A Square webhook (inventory.count.updated), signed over URL and body", "intake",
          responses=WEBHOOK_ANSWERS, errors=WEBHOOK_ERRORS),
    Route("POST", "/v1/webhooks/shiphero", webhooks.shiphero_webhook,
          "A ShipHero webhook (Inventory Update), HMAC-signed", "intake",
          responses=WEBHOOK_ANSWERS, errors=WEBHOOK_ERRORS),
    Route("POST", "/v1/intake/{format}", webhooks.raw_intake,
          "One raw message in an intake format (as on Kafka), with an ingest key", "intake",
          path_params={"format": "the intake format, e.g. shopify/orders/create or marketplace"},
          responses=WEBHOOK_ANSWERS),
    # audit
    Route("GET", "/v1/ledger", audit.ledger, "The ledger, in order (admin)", "audit",
          query=LedgerQuery, responses={200: LedgerPage}),
    Route("GET", "/v1/locations/{location}/stock", audit.location_stock,
          "Every position at a location, paged by SKU", "audit",
          path_params={"location": "location id"}, query=StockPageQuery,
          responses={200: LocationStockPage}, errors={404: "No such location"}),
    # personal data
    Route("POST", "/v1/personal-data/forget", personal_data.forget_customer,
          "Erase a person's data (admin); ledger and stock unchanged", "personal data",
          body=ForgetRequest, responses={200: ForgetResult}),
    # click-and-collect and the location registry
    Route("POST", "/v1/routing/click-and-collect", routing.click_and_collect,
          "Stores near the customer that can hand over the cart (optionally reserve)",
          body=RouteIn, responses={200: RouteOut, 201: RouteOut},
          errors={409: "stock taken meanwhile, or reservation id in use", 422: "unknown place"}),
    Route("GET", "/v1/locations", routing.list_locations, "The location registry"),
    Route("POST", "/v1/locations", routing.import_locations,
          "Import locations, all or nothing (admin)"),
    Route("GET", "/v1/locations/{location_id}", routing.get_location, "One location",
          path_params=LOCATION_ID),
    Route("PUT", "/v1/locations/{location_id}", routing.put_location,
          "Create or replace a location (admin)", body=LocationIn, path_params=LOCATION_ID),
    Route("DELETE", "/v1/locations/{location_id}", routing.delete_location,
          "Remove a location (admin)", path_params=LOCATION_ID),
]  # fmt: skip


def register(app: web.Application) -> None:
    """Add every route of the table (and the staff page's) to the application."""
    for r in ROUTES:
        add_route(
            app,
            r.method,
            r.path,
            r.handler,
            summary=r.summary,
            tag=r.tag,
            query=r.query,
            body=r.body,
            body_required=r.body_required,
            path_params=r.path_params,
            responses=r.responses,
            errors=r.errors,
            router_path=r.path.replace("{topic}", "{topic:.+}").replace("{format}", "{format:.+}"),
        )
    app.add_routes(staff_routes())
