"""The channel order memory on SQLite and PostgreSQL (the `ChannelOrders` port).

`load` locks the order's row (creating an empty one first, so two transactions meeting the same
new order queue instead of both inserting it); `save` writes the facts and the holdings in the
caller's transaction, so the memory never disagrees with the ledger it describes.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from adapters.db import order_tables as ot
from adapters.db import raw
from inventory.channel_orders import ChannelOrder, Holding

COUNTS = ("reserved", "released", "fulfilled", "unshipped", "returned", "unreturned")


class SqlChannelOrders:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def load(self, channel: str, order_id: str) -> ChannelOrder | None:
        self._ensure(channel, order_id)
        m = raw.mark(self.connection)
        rows = raw.fetch(
            self.connection,
            f"SELECT facts FROM channel_orders WHERE channel = {m} AND order_id = {m}"
            + raw.for_update(self.connection),
            [channel, order_id],
        )
        if not rows or not rows[0][0]:
            return None
        c = ot.channel_order_holdings.c
        query = select(c.sku, c.location, *(c[name] for name in COUNTS)).where(
            c.channel == channel, c.order_id == order_id
        )
        holdings = {
            (row[0], row[1]): Holding(*(int(value) for value in row[2:]))
            for row in self.connection.execute(query)
        }
        return ChannelOrder.from_document(channel, order_id, rows[0][0], holdings)

    def _ensure(self, channel: str, order_id: str) -> None:
        m = raw.mark(self.connection)
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(
                "INSERT INTO channel_orders (channel, order_id, facts, updated_at) "
                f"VALUES ({m}, {m}, '', 0) ON CONFLICT (channel, order_id) DO NOTHING",
                (channel, order_id),
            )
        finally:
            cursor.close()

    def save(self, order: ChannelOrder, now: int) -> None:
        o = ot.channel_orders.c
        self._ensure(order.channel, order.order_id)
        self.connection.execute(
            update(ot.channel_orders)
            .where(o.channel == order.channel, o.order_id == order.order_id)
            .values(facts=order.facts_document(), updated_at=now)
        )
        h = ot.channel_order_holdings.c
        self.connection.execute(
            delete(ot.channel_order_holdings).where(
                h.channel == order.channel, h.order_id == order.order_id
            )
        )
        rows = [
            {
                "channel": order.channel,
                "order_id": order.order_id,
                "sku": sku,
                "location": location,
                **{name: getattr(holding, name) for name in COUNTS},
            }
            for (sku, location), holding in sorted(order.holdings.items())
        ]
        if rows:
            self.connection.execute(insert(ot.channel_order_holdings), rows)
