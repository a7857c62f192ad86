"""Product codes: the SKU alias table (a SKU's own code, its barcode/GTIN, channel ids) as the
staff page's scanner lookups and the demo catalogue use it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select

from adapters.db import intake_tables as it
from adapters.db import tables as t
from adapters.db.engine import Engines
from adapters.db.ledger import dialect_insert


def sku_named(engines: Engines, code: str, gtin: str) -> str | None:
    """The SKU a typed or scanned code names: an alias (the SKU itself, or the GTIN `gtin`,
    the code normalised as one), else the code itself when stock of that SKU is recorded."""
    a = it.sku_aliases.c
    with engines.read.connect() as connection:
        row = connection.execute(
            select(a.sku).where(
                or_(
                    and_(a.kind == "sku", a.value == code),
                    and_(a.kind == "gtin", a.value == gtin),
                )
            )
        ).first()
        if row is not None:
            return str(row.sku)
        held = connection.execute(
            select(t.positions.c.sku).where(t.positions.c.sku == code).limit(1)
        ).first()
    return code if held is not None else None


def gtin_of(engines: Engines, sku: str) -> str | None:
    """A GTIN recorded for the SKU, as stored (zero-padded to 14 digits)."""
    a = it.sku_aliases.c
    with engines.read.connect() as connection:
        row = connection.execute(
            select(a.value).where(a.kind == "gtin", a.sku == sku).limit(1)
        ).first()
    return None if row is None else str(row.value)


def save(engines: Engines, codes: Sequence[tuple[str, str, str]]) -> None:
    """Upsert (kind, value, sku) aliases in one transaction."""
    rows: list[dict[str, Any]] = [
        {"kind": kind, "value": value, "sku": sku} for kind, value, sku in codes
    ]
    if not rows:
        return
    with engines.write.begin() as connection:
        statement = dialect_insert(connection, it.sku_aliases)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["kind", "value"], set_={"sku": statement.excluded.sku}
            ),
            rows,
        )
