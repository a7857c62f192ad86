"""Channel policies set through the API, stored as JSON by channel name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.db import api_tables as k
from adapters.db.engine import Engines
from adapters.db.ledger import dialect_insert


def stored(engines: Engines) -> dict[str, dict[str, Any]]:
    """Every stored policy (as written), by channel name."""
    with engines.read.connect() as connection:
        rows = connection.execute(select(k.channel_policies.c.name, k.channel_policies.c.policy))
        return {row.name: row.policy for row in rows}


def put(engines: Engines, name: str, policy: dict[str, Any], at: int) -> None:
    """Create or replace a channel's policy."""
    with engines.write.begin() as connection:
        statement = dialect_insert(connection, k.channel_policies)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["name"], set_={"policy": policy, "updated_at": at}
            ),
            {"name": name, "policy": policy, "updated_at": at},
        )
