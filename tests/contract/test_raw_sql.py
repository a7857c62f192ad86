"""The hand-written SQL helpers behave alike on SQLite and PostgreSQL."""

from __future__ import annotations

from adapters.db import raw
from adapters.db import tables as t


def test_rows_by_keys_matches_exact_keys_and_the_condition(database):
    names = ("sku", "location", "on_hand", "in_transit", "reserved", "last_position")
    rows = [("A", "L1", 5, 0, 0, 0), ("A", "L2", 0, 0, 0, 0), ("B", "L1", 7, 0, 0, 0)]
    with database.engines.write.begin() as connection:
        raw.insert_rows(connection, t.positions, names, rows, "ON CONFLICT DO NOTHING")
        wanted = [("A", "L1"), ("A", "L2"), ("B", "L2")]  # B@L2 does not exist
        found = raw.rows_by_keys(
            connection, t.positions, ("sku", "location"), wanted, ("sku", "location", "on_hand")
        )
        assert sorted(found) == [("A", "L1", 5), ("A", "L2", 0)]
        positive = raw.rows_by_keys(
            connection,
            t.positions,
            ("sku", "location"),
            wanted,
            ("sku", "location"),
            where="t.on_hand > 0",
        )
        assert positive == [("A", "L1")]
        locked = raw.rows_by_keys(
            connection, t.positions, ("sku", "location"), wanted, ("sku",), lock=True
        )
        assert sorted(locked) == [("A",), ("A",)]


def test_update_rows_changes_only_the_given_keys(database):
    names = ("sku", "location", "on_hand", "in_transit", "reserved", "last_position")
    with database.engines.write.begin() as connection:
        raw.insert_rows(
            connection,
            t.positions,
            names,
            [("A", "L1", 1, 0, 0, 0), ("A", "L2", 2, 0, 0, 0)],
            "ON CONFLICT DO NOTHING",
        )
        raw.update_rows(
            connection, t.positions, ("sku", "location", "on_hand"), 2, [("A", "L2", 9)]
        )
        found = raw.rows_by_keys(
            connection,
            t.positions,
            ("sku", "location"),
            [("A", "L1"), ("A", "L2")],
            ("location", "on_hand"),
        )
        assert sorted(found) == [("L1", 1), ("L2", 9)]
