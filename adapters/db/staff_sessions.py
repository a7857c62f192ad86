"""Reading and writing the staff page's sessions (table `staff_sessions`).

A session is found only while it has not expired and the store key it was opened with is not
revoked, so signing out (the row deleted) and revoking the key both end it at once, in every
server process.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, select

from adapters.db import api_tables as k
from adapters.db import session_tables as st
from adapters.db.database import Database
from adapters.db.ledger import dialect_insert


def load(db: Database, session_id: str, now: int) -> tuple[int, dict[str, Any]] | None:
    """(created_at, data) of a live session, or None."""
    s, key = st.staff_sessions.c, k.api_keys.c
    query = (
        select(s.created_at, s.data)
        .join(k.api_keys, key.key_id == s.key_id)
        .where(s.id == session_id, s.expires_at > now, key.revoked_at.is_(None))
    )
    with db.engines.read.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    return int(row.created_at), orjson.loads(row.data)


def save(
    db: Database,
    session_id: str,
    key_id: str,
    data: dict[str, Any],
    created_at: int,
    expires_at: int,
    now: int,
    replaces: str | None = None,
) -> None:
    """Write a session (and drop the one it `replaces`, and every expired one)."""
    s = st.staff_sessions.c
    row = {
        "id": session_id,
        "key_id": key_id,
        "data": orjson.dumps(data).decode(),
        "created_at": created_at,
        "expires_at": expires_at,
    }
    with db.engines.write.begin() as connection:
        if replaces is not None and replaces != session_id:
            connection.execute(delete(st.staff_sessions).where(s.id == replaces))
        statement = dialect_insert(connection, st.staff_sessions)
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"data": statement.excluded.data, "expires_at": statement.excluded.expires_at},
        )
        connection.execute(statement, row)
        connection.execute(delete(st.staff_sessions).where(s.expires_at <= now))


def end(db: Database, session_id: str) -> None:
    with db.engines.write.begin() as connection:
        connection.execute(delete(st.staff_sessions).where(st.staff_sessions.c.id == session_id))
