"""RFC 9457 problem details: every error the service returns is one of these.

Raise `Problem(status, title, detail, errors=[{"field", "reason"}])` anywhere in a handler, or
return `problem(...)`.  The error middleware turns aiohttp's own HTTP errors (404, 405, 413, ...)
and pydantic validation errors into problems too, and any other exception into a 500 problem
without a stack trace (the trace goes to the log).  `read_body(request, Model)` parses and
validates a JSON body so that malformed JSON, wrong types and unknown fields are a 400/422
naming the field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.api import Name
from schemas.events import rejections

log = logging.getLogger("inventory.http")
PROBLEM_TYPE = "application/problem+json"
M = TypeVar("M", bound=BaseModel)


class Problem(Exception):
    """An error answer, raised from anywhere below a handler."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def response(self) -> web.Response:
        return problem(self.status, self.title, self.detail, self.errors, **self.extra)


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> web.Response:
    """A problem-details response; `errors` name each offending field and the reason."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    return web.Response(status=status, body=orjson.dumps(body), content_type=PROBLEM_TYPE)


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic errors as [{"field": "lines.0.quantity", "reason": ...}]."""
    found = []
    for item in rejections(error):
        field = f"{prefix}.{item.field}" if prefix and item.field else (item.field or prefix)
        found.append({"field": field, "reason": item.reason})
    return found


NAME = TypeAdapter(Name)


def check_name(value: str, field: str) -> str:
    """An id from a path or query (SKU, location, ...), or a 422 naming `field`."""
    try:
        return NAME.validate_python(value)
    except ValidationError as error:
        raise Problem(422, "Invalid parameter", None, field_errors(error, field)) from None


async def read_json(request: web.Request) -> Any:
    """The decoded JSON body, or a 400/413/415 problem."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = request.client_max_size
        raise Problem(
            413,
            "Request body too large",
            f"the body may be at most {limit} bytes",
            [{"field": "", "reason": f"at most {limit} bytes"}],
            limit=limit,
        ) from None
    if not raw:
        raise Problem(
            400,
            "Missing body",
            "a JSON body is required",
            [{"field": "", "reason": "a JSON body is required"}],
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Problem(
            400, "Malformed JSON", str(error), [{"field": "", "reason": f"malformed JSON: {error}"}]
        ) from None


async def read_body(request: web.Request, model: type[M]) -> M:
    """The body validated against `model`; a 422 problem naming every bad field otherwise."""
    raw = await read_json(request)
    if not isinstance(raw, dict):
        raise Problem(
            422,
            "Invalid body",
            "the body must be a JSON object",
            [{"field": "", "reason": "must be a JSON object"}],
        )
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise Problem(
            422, "Invalid body", "the body has invalid fields", field_errors(error)
        ) from None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No error leaves the service as anything but a problem document."""
    try:
        return await handler(request)
    except Problem as error:
        return error.response()
    except ValidationError as error:
        return problem(422, "Invalid request", None, field_errors(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        if isinstance(error, web.HTTPRequestEntityTooLarge):
            return problem(
                413,
                "Request body too large",
                error.text,
                [{"field": "", "reason": error.text or "too large"}],
            )
        response = problem(error.status, error.reason, None)
        for name in ("Allow", "WWW-Authenticate"):
            if name in error.headers:
                response.headers[name] = error.headers[name]
        return response
    except (ConnectionResetError, asyncio.CancelledError):
        raise  # the client went away: nobody to answer
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal error", "the error was logged")
