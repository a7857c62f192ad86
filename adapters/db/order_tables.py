"""Tables of the channel order memory (`inventory.channel_orders`).

- `channel_orders`: per platform and order, the facts seen so far as one JSON document (the
  latest snapshot, fulfilments, refunds, edits).  An empty document is a row created only to
  lock the order before its first facts are written.
- `channel_order_holdings`: per order and (sku, location), the running totals of the events
  booked for it: what the ledger holds for the order.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

from adapters.db.tables import Name, metadata

channel_orders = Table(
    "channel_orders",
    metadata,
    Column("channel", String(40), primary_key=True),
    Column("order_id", Name, primary_key=True),
    Column("facts", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

channel_order_holdings = Table(
    "channel_order_holdings",
    metadata,
    Column("channel", String(40), primary_key=True),
    Column("order_id", Name, primary_key=True),
    Column("sku", Name, primary_key=True),
    Column("location", Name, primary_key=True),
    Column("reserved", BigInteger, nullable=False),
    Column("released", BigInteger, nullable=False),
    Column("fulfilled", BigInteger, nullable=False),
    Column("unshipped", BigInteger, nullable=False),
    Column("returned", BigInteger, nullable=False),
    Column("unreturned", BigInteger, nullable=False),
)
