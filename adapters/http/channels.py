"""Channel policies: which locations feed a channel, and how much each holds back for it.

A policy comes from, in order of precedence: the API (`PUT /v1/channels/{name}`, stored in the
database), the channels file (`--channels FILE` / INVENTORY_CHANNELS_FILE), the defaults below.
`channel=` on an availability call or a reservation applies it: only the policy's locations
count, and each shows `available - buffer` (never below zero).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from adapters.db import channel_policies
from adapters.db.database import Database
from adapters.http.auth import requires
from adapters.http.blocking import in_thread, in_writer
from adapters.http.keys import CHANNELS_KEY, LOCATIONS_KEY
from adapters.http.locations import LocationBook
from adapters.http.problems import Problem, check_name, field_errors, read_body
from adapters.http.responses import json_response
from schemas.api import ChannelList, ChannelPolicy, ChannelPolicyIn

DEFAULTS: dict[str, ChannelPolicyIn] = {
    "web": ChannelPolicyIn(warehouses=True, stores="ship_enabled", buffer=0),
    "marketplace": ChannelPolicyIn(warehouses=True, stores="none", buffer=2),
    "store": ChannelPolicyIn(warehouses=False, stores="all", buffer=0),
}


def load_file(path: str) -> dict[str, ChannelPolicyIn]:
    """Policies from a JSON file: {"<channel>": {"warehouses", "stores", "locations", "buffer"}}."""
    raw = json.loads(Path(path).read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object of channel policies")
    found = {}
    for name, body in raw.items():
        try:
            found[name] = ChannelPolicyIn.model_validate(body)
        except ValidationError as error:
            reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in field_errors(error))
            raise ValueError(f"{path}: channel {name!r}: {reasons}") from None
    return found


class ChannelBook:
    def __init__(self, db: Database, file: str | None = None, refresh_seconds: float = 5.0):
        self.db = db
        self.base = dict(DEFAULTS)
        if file:
            self.base.update(load_file(file))
        self.refresh_seconds = refresh_seconds
        self._stored: dict[str, ChannelPolicyIn] = {}
        self._loaded = float("-inf")

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded < self.refresh_seconds:
            return
        self._stored = {
            name: ChannelPolicyIn.model_validate(policy)
            for name, policy in channel_policies.stored(self.db.engines).items()
        }
        self._loaded = time.monotonic()

    def all(self) -> dict[str, ChannelPolicyIn]:
        self._refresh()
        return {**self.base, **self._stored}

    def get(self, name: str, field: str = "channel") -> ChannelPolicyIn:
        """The policy, or a 422 naming `field` when the channel is unknown."""
        found = self.all().get(name)
        if found is None:
            known = ", ".join(sorted(self.all()))
            raise Problem(
                422,
                "Unknown channel",
                f"no policy for channel {name!r}",
                [{"field": field, "reason": f"unknown channel; known: {known}"}],
            )
        return found

    def store(self, name: str, policy: ChannelPolicyIn) -> None:
        channel_policies.put(self.db.engines, name, policy.model_dump(), self.db.ledger.clock())
        self._loaded = float("-inf")


def feeds(policy: ChannelPolicyIn, places: LocationBook) -> set[str]:
    """The locations whose stock a channel may sell."""
    found = set(policy.locations)
    for place in places.places().values():
        if (place.kind == "warehouse" and policy.warehouses) or (
            place.kind == "store"
            and (
                policy.stores == "all"
                or (policy.stores == "ship_enabled" and place.ship_enabled)
                or (policy.stores == "pickup_enabled" and place.pickup_enabled)
            )
        ):
            found.add(place.id)
    return found


def resolve(app: web.Application, name: str, field: str = "channel") -> tuple[set[str], int]:
    """(locations, buffer) of a channel; blocking, run it in a thread."""
    policy = app[CHANNELS_KEY].get(name, field)
    return feeds(policy, app[LOCATIONS_KEY]), policy.buffer


@requires("read")
async def list_channels(request: web.Request) -> web.Response:
    book = request.config_dict[CHANNELS_KEY]
    policies = await in_thread(request.app, book.all)
    body = ChannelList(
        channels=[ChannelPolicy(name=n, **p.model_dump()) for n, p in sorted(policies.items())]
    )
    return json_response(body.model_dump())


@requires("admin")
async def put_channel(request: web.Request) -> web.Response:
    name = check_name(request.match_info["name"], "name")
    policy = await read_body(request, ChannelPolicyIn)
    await in_writer(request.app, request.config_dict[CHANNELS_KEY].store, name, policy)
    return json_response(ChannelPolicy(name=name, **policy.model_dump()).model_dump())
