"""Routes that document themselves: `add_route` registers a handler and its OpenAPI operation.

The document at /openapi.json is generated from the pydantic models each route names (query,
body, responses), so the contract and the code cannot drift apart.  The table of every route is
`adapters.http.routes.ROUTES`; `register` there calls `add_route` for each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from adapters.http.keys import OPERATIONS_KEY
from schemas.api import ProblemOut

REF = "#/components/schemas/{model}"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STANDARD_ERRORS = {
    400: "Malformed request (plain text when the HTTP parser refuses it: request line > 32 KiB)",
    401: "Missing or unknown API key",
    403: "The key lacks the scope",
    413: "Body or batch too large",
    422: "Invalid field",
}


def add_route(
    app: web.Application,
    method: str,
    path: str,
    handler: Handler,
    *,
    summary: str,
    tag: str = "inventory",
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    path_params: dict[str, str] | None = None,
    responses: dict[int, type[BaseModel] | str] | None = None,
    errors: dict[int, str] | None = None,
    router_path: str | None = None,
) -> None:
    """Register `handler` at `path` (or at `router_path`, a pattern the router needs, such as
    `{topic:.+}`) and describe it in /openapi.json under `path`."""
    app.router.add_route(method, router_path or path, handler)
    public = getattr(handler, "__inventory_public__", False)
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "operationId": f"{method.lower()}_{handler.__name__}",
        "_models": {},
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": r"^\S(.*\S)?$",
            },
            "description": text,
        }
        for name, text in (path_params or {}).items()
    ]
    if query is not None:
        parameters.extend(_query_parameters(query))
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=body.__name__)}}},
        }
        operation["_models"][body.__name__] = (body, "validation")
    answers: dict[str, Any] = {}
    for status, model in (responses or {200: "OK"}).items():
        if isinstance(model, str):
            answers[str(status)] = {"description": model}
        else:
            answers[str(status)] = {
                "description": model.__doc__.strip().splitlines()[0]
                if model.__doc__ and model.__module__ != "pydantic.main"
                else "OK",
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}
                },
            }
            operation["_models"][model.__name__] = (model, "serialization")
    problems = dict(STANDARD_ERRORS)
    if public:
        problems.pop(401)
        problems.pop(403)
    if body is None:
        problems.pop(413)
        if query is None and not path_params:
            problems.pop(422)
    if path_params:
        problems[404] = "Not found"
    problems.update(errors or {})
    for status, text in problems.items():
        content: dict[str, Any] = {
            "application/problem+json": {"schema": {"$ref": REF.format(model="ProblemOut")}}
        }
        if status == 400:  # a request line or header too long is refused by the HTTP parser
            content["text/plain"] = {"schema": {"type": "string"}}
        answers.setdefault(str(status), {"description": text, "content": content})
    operation["responses"] = answers
    operation["security"] = [] if public else [{"bearer": []}]
    app.setdefault(OPERATIONS_KEY, {})[(method.lower(), path)] = operation  # type: ignore[arg-type]


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    found = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", None)
        if "anyOf" in prop:  # X | None: a query parameter is simply absent instead
            options = [p for p in prop["anyOf"] if p.get("type") != "null"]
            rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
            prop = {**options[0], **rest} if len(options) == 1 else prop
        prop.pop("default", None) if prop.get("default") is None else None
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "schema": prop,
        }
        if prop.get("type") == "array":
            parameter["style"] = "form"
            parameter["explode"] = True
        if description:
            parameter["description"] = description
        found.append(parameter)
    return found


def build_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route added with `add_route`."""
    operations = app.get(OPERATIONS_KEY, {})
    paths: dict[str, Any] = {}
    models: dict[str, tuple[type[BaseModel], str]] = {"ProblemOut": (ProblemOut, "serialization")}
    for (method, path), operation in sorted(operations.items()):
        clean = {k: v for k, v in operation.items() if not k.startswith("_")}
        paths.setdefault(path, {})[method] = clean
        models.update(operation["_models"])
    components: dict[str, Any] = {}
    for name, (model, mode) in sorted(models.items()):
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for sub_name, sub in schema.pop("$defs", {}).items():
            components.setdefault(sub_name, sub)
        components[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Inventory availability API",
            "version": "1.0.0",
            "description": "Stock availability, reservations that never oversell, event intake.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
