"""Erasure requests over HTTP: `POST /v1/personal-data/forget` (admin).

Erases a person's details from the personal-data store and the bytes of every dead letter
that mentions them (`inventory.services.personal.forget`); the ledger and the stock are not
touched.  The answer and the log line name ids and counts only.
"""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.http.auth import requires
from adapters.http.blocking import in_writer
from adapters.http.keys import DB_KEY
from adapters.http.problems import Problem, read_body
from adapters.http.responses import json_response
from inventory.services.personal import forget
from schemas.personal import ForgetRequest, ForgetResult

log = logging.getLogger("inventory.personal_data")
BLANK = {"field": "customer", "reason": "required"}


@requires("admin")
async def forget_customer(request: web.Request) -> web.Response:
    body = await read_body(request, ForgetRequest)
    if not body.customer.strip():
        raise Problem(422, "Invalid body", "customer: required", [BLANK])
    factory = request.config_dict[DB_KEY].unit_of_work
    report = await in_writer(request.app, forget, factory, body.customer)
    log.info(
        "erasure request: %d personal-data records and %d dead letters erased",
        len(report.records),
        len(report.dead_letters),
    )
    return json_response(ForgetResult.model_validate(report.as_dict()).model_dump())
