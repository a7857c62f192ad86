"""The migrations build exactly the schema the code declares, on each database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import adapters.db.api_tables
import adapters.db.intake_tables
import adapters.db.session_tables  # noqa: F401
import adapters.db.tables as tables


def test_migrated_schema_matches_the_declared_tables(database):
    declared = tables.metadata
    with database.engines.read.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, declared)
    ours = {table.name for table in declared.sorted_tables}
    # other features declare their tables in their own modules; compare the ones loaded here
    relevant = [d for d in differences if _table_of(d) in ours or _table_of(d) is None]
    assert relevant == []


def _table_of(difference):
    item = difference[0] if isinstance(difference, list) else difference
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None:
            return table.name
        if hasattr(part, "columns") and name:
            return name
    return None
