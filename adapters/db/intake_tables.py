"""Tables of the channel intake: foreign ids, consumer offsets, dead letters and the outbox.

- `sku_aliases` maps a source's own product id (barcode/GTIN, shop variant id, ASIN, seller
  SKU) to this product's SKU; kind "sku" rows list the SKUs themselves.
- `intake_offsets` holds, per consumer group and partition, the next offset to apply.  It is
  written in the same transaction as the events, so it is the truth after a crash; the
  broker's committed offset is only a hint.
- `dead_letters` keeps every message that could not be applied, byte for byte, with the reason.
- `outbox` holds availability changes written inside the ledger transaction, until a relay
  has published them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, LargeBinary, String, Table, Text

from adapters.db.tables import Name, Position, metadata

sku_aliases = Table(
    "sku_aliases",
    metadata,
    Column("kind", String(20), primary_key=True),  # sku, gtin, variant, asin, seller_sku
    Column("value", Name, primary_key=True),
    Column("sku", Name, nullable=False),
    Index("ix_sku_aliases_sku", "sku"),
)

intake_offsets = Table(
    "intake_offsets",
    metadata,
    Column("consumer_group", Name, primary_key=True),
    Column("topic", Name, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("source", Name, nullable=False),  # a topic, or http:<path> for webhooks
    Column("partition", Integer, nullable=False),  # -1 when not from a topic
    Column("offset", BigInteger, nullable=False),
    Column("format", String(60), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the bytes
    Column("reason", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", Text),  # JSON object of the message headers
    Column("status", String(12), nullable=False),  # open, applied
    Column("received_at", BigInteger, nullable=False),
    Column("retried_at", BigInteger),
    Column("published_at", BigInteger),
    # format too: webhooks (partition/offset -1) under different topics may share a body
    Index(
        "ux_dead_letters_origin",
        "source",
        "partition",
        "offset",
        "format",
        "fingerprint",
        unique=True,
    ),
    Index("ix_dead_letters_status", "status", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("sku", Name, nullable=False),
    Column("location", Name, nullable=False),
    Column("available", BigInteger, nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("ledger_position", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # "availability_changed", or "oversold" when the position crossed the oversold line:
    # `oversold` then says which way (true: it became oversold; false: it stopped being)
    Column("kind", String(24), nullable=False, server_default="availability_changed"),
    Column("oversold", Boolean),
)
