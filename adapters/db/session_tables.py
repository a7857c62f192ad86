"""The staff page's sessions, kept in the database so they survive restarts and are shared by
every server process.  A row is found by the SHA-256 of the cookie's token (the token itself
is never stored); deleting the row ends the session at once."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from adapters.db.tables import metadata

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("key_id", String(32), nullable=False),  # the store key it was opened with
    Column("data", Text, nullable=False),  # JSON object
    Column("created_at", BigInteger, nullable=False),  # seconds since the epoch
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_staff_sessions_key_id", "key_id"),
    Index("ix_staff_sessions_expires_at", "expires_at"),
)
