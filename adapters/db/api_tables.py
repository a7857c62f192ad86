"""Tables of the HTTP service: API keys (hashed) and channel policies set through the API."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, String, Table

from adapters.db.tables import Name, metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", Name, nullable=False),
    # SHA-256 of the secret part; the secret itself is shown once, at creation
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", String(2000), nullable=False),  # space-separated
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Index("ix_api_keys_name", "name"),
)

channel_policies = Table(
    "channel_policies",
    metadata,
    Column("name", Name, primary_key=True),
    Column("policy", JSON, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)
