"""The database as the application sees it: engines, schema, recorder and reader together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from adapters.db import tables as t
from adapters.db.engine import Engines, make_engines
from adapters.db.ledger import Clock, LedgerRecorder, dialect_insert, wall_clock
from adapters.db.migrate import upgrade
from adapters.db.oversold import OversoldWatch
from adapters.db.stock_reads import StockReads

if TYPE_CHECKING:
    from adapters.db.uow import SqlUnitOfWork


class Database:
    """Opens (and migrates) the configured database; one per process."""

    def __init__(
        self, url: str | None = None, clock: Clock = wall_clock, migrate: bool = True
    ) -> None:
        self.engines: Engines = make_engines(url)
        if migrate:
            upgrade(self.engines.write)
        self.ledger = LedgerRecorder(self.engines, clock)
        self.reader = StockReads(self.engines, clock)
        # first of the listeners: those after it read the crossings it finds
        self.ledger.listeners.append(OversoldWatch(self))
        from adapters.kafka.outbox import attach_outbox  # the availability feed, when configured

        attach_outbox(self)

    def unit_of_work(self) -> SqlUnitOfWork:
        """A fresh unit of work on this database: the factory every use case is given."""
        from adapters.db.uow import SqlUnitOfWork

        return SqlUnitOfWork(self)

    @property
    def url(self) -> str:
        return self.engines.url

    def set_safety_stock(self, location: str, quantity: int, sku: str | None = None) -> None:
        """Hold `quantity` back from sale at a location (for one SKU, or all when sku is None)."""
        if quantity < 0:
            raise ValueError("safety stock must be zero or more")
        with self.engines.write.begin() as connection:
            statement = dialect_insert(connection, t.safety_stock)
            row: dict[str, Any] = {"location": location, "sku": sku or "", "quantity": quantity}
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["location", "sku"], set_={"quantity": quantity}
                ),
                row,
            )

    def safety_stock_rows(self) -> list[tuple[str, str, int]]:
        with self.engines.read.connect() as connection:
            return [tuple(row) for row in connection.execute(select(t.safety_stock))]  # type: ignore[misc]

    def close(self) -> None:
        self.reader.close()
        self.engines.dispose()
