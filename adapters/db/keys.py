"""API keys as stored: the SHA-256 of each key's secret, its scopes, and when it was revoked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from adapters.db import api_tables as k
from adapters.db import raw
from adapters.db.engine import Engines


@dataclass(frozen=True, slots=True)
class StoredKey:
    key_id: str
    name: str
    secret_hash: str
    scopes: str  # space-separated
    created_at: int
    revoked_at: int | None

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


def add(
    engines: Engines, key_id: str, name: str, secret_hash: str, scopes: Sequence[str], at: int
) -> None:
    with engines.write.begin() as connection:
        connection.execute(
            k.api_keys.insert().values(
                key_id=key_id,
                name=name,
                secret_hash=secret_hash,
                scopes=" ".join(scopes),
                created_at=at,
            )
        )


def revoke(engines: Engines, key_id: str, at: int) -> bool:
    """Revoke a key not yet revoked; False when there is none."""
    c = k.api_keys.c
    with engines.write.begin() as connection:
        done = connection.execute(
            update(k.api_keys)
            .where(c.key_id == key_id, c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
    return bool(done.rowcount)


def every(engines: Engines) -> list[StoredKey]:
    """Every key, oldest first."""
    with engines.read.connect() as connection:
        rows = connection.execute(select(k.api_keys).order_by(k.api_keys.c.created_at))
        return [raw.record(StoredKey, row) for row in rows]


def find(engines: Engines, key_id: str) -> StoredKey | None:
    with engines.read.connect() as connection:
        row = connection.execute(select(k.api_keys).where(k.api_keys.c.key_id == key_id)).first()
    return None if row is None else raw.record(StoredKey, row)


def is_active(engines: Engines, key_id: str) -> bool:
    """The key exists and is not revoked."""
    found = find(engines, key_id)
    return found is not None and found.revoked_at is None
