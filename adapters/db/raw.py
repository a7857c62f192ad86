"""Hand-written SQL for the ledger's hot path.

Appending is the product's busiest write: SQLAlchemy's per-row parameter processing cost more
than the database work itself, so the hot statements go to the driver directly (DBAPI
`executemany` with tuples), with the placeholder style of the dialect.  Everything else uses
SQLAlchemy Core.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from functools import lru_cache, partial
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Boolean, Connection, Integer, Table


def mark(connection: Connection) -> str:
    return "%s" if connection.dialect.name == "postgresql" else "?"


def placeholders(connection: Connection, width: int) -> str:
    return ", ".join([mark(connection)] * width)


def values(connection: Connection, rows: int, width: int) -> str:
    """`VALUES (?, ?), (?, ?)` for a row-value IN list (works on SQLite and PostgreSQL)."""
    one = f"({placeholders(connection, width)})"
    return "VALUES " + ", ".join([one] * rows)


def for_update(connection: Connection) -> str:
    """Row locks where the database has them; SQLite's writer already holds the file lock."""
    return " FOR UPDATE" if connection.dialect.name == "postgresql" else ""


def executemany(connection: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Straight to the driver's cursor, inside the transaction the Connection holds."""
    if not rows:
        return
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, list(rows))
    finally:
        cursor.close()


def fetch(connection: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


MAX_PARAMETERS = 30_000  # under SQLite's 32,766 per statement


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _array_type(table: Table, name: str) -> str:
    column_type = table.c[name].type
    if isinstance(column_type, Boolean):
        return "boolean[]"
    if isinstance(column_type, (BigInteger, Integer)):
        return "bigint[]"
    return "text[]"


def _unnest(table: Table, names: Sequence[str]) -> str:
    arrays = ", ".join(f"%s::{_array_type(table, name)}" for name in names)
    return f"SELECT * FROM unnest({arrays})"


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[index] for row in rows] for index in range(width)]


def insert_rows(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    on_conflict: str,
    returning: str | None = None,
) -> list[tuple[Any, ...]]:
    """Insert many rows in few statements: on PostgreSQL one statement over `unnest` of one
    array per column (a round trip and a short query, whatever the row count); on SQLite,
    multi-row VALUES.  Returns what `returning` names, for the rows actually inserted."""
    if not rows:
        return []
    head = f"INSERT INTO {table.name} ({', '.join(names)}) "
    tail = f" {on_conflict}" + (f" RETURNING {returning}" if returning else "")
    found: list[tuple[Any, ...]] = []
    cursor = connection.connection.cursor()
    try:
        if is_postgres(connection):
            cursor.execute(head + _unnest(table, names) + tail, _columns(rows, len(names)))
            return [tuple(row) for row in cursor.fetchall()] if returning else []
        per_statement = max(1, min(1000, MAX_PARAMETERS // len(names)))
        one = f"({placeholders(connection, len(names))})"
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            sql = head + "VALUES " + ", ".join([one] * len(part)) + tail
            cursor.execute(sql, [value for row in part for value in row])
            if returning:
                found.extend(tuple(row) for row in cursor.fetchall())
        return found
    finally:
        cursor.close()


def update_rows(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    key_width: int,
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Update existing rows keyed by the first `key_width` names (one statement on
    PostgreSQL: UPDATE ... FROM unnest; a prepared statement per row on SQLite)."""
    if not rows:
        return
    keys, rest = names[:key_width], names[key_width:]
    if is_postgres(connection):
        sets = ", ".join(f"{name} = v.{name}" for name in rest)
        match = " AND ".join(f"t.{name} = v.{name}" for name in keys)
        sql = (
            f"UPDATE {table.name} AS t SET {sets} FROM ({_unnest(table, names)}) "
            f"AS v({', '.join(names)}) WHERE {match}"
        )
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, _columns(rows, len(names)))
        finally:
            cursor.close()
        return
    sets = ", ".join(f"{name} = ?" for name in rest)
    match = " AND ".join(f"{name} = ?" for name in keys)
    executemany(
        connection,
        f"UPDATE {table.name} SET {sets} WHERE {match}",
        [(*row[key_width:], *row[:key_width]) for row in rows],
    )


def upsert_rows(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    key_width: int,
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Insert or replace whole rows keyed by the first `key_width` names."""
    keys = ", ".join(names[:key_width])
    updates = ", ".join(f"{name} = excluded.{name}" for name in names[key_width:])
    insert_rows(connection, table, names, rows, f"ON CONFLICT ({keys}) DO UPDATE SET {updates}")


def key_filter(
    connection: Connection, table: Table, names: Sequence[str], keys: Sequence[tuple[Any, ...]]
) -> tuple[str, list[Any]]:
    """A WHERE fragment matching rows whose `names` equal one of `keys`, and its parameters.

    Keep `keys` to a few hundred on SQLite (parameter limit); PostgreSQL takes any number.
    """
    columns = f"({', '.join(names)})" if len(names) > 1 else names[0]
    if is_postgres(connection):
        return f"{columns} IN ({_unnest(table, names)})", _columns(keys, len(names))
    params = [value for key in keys for value in key]
    if len(names) == 1:
        return f"{columns} IN ({placeholders(connection, len(keys))})", params
    return f"{columns} IN ({values(connection, len(keys), len(names))})", params


def keyed_selects(
    postgres: bool,
    table: Table,
    names: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
    columns: Sequence[str],
    lock: bool = False,
    where: str = "",
) -> list[tuple[str, list[Any]]]:
    """The statements (SQL text and parameters) selecting `columns` of the rows whose `names`
    equal one of `keys` (and meet the constant condition `where`, written against the table's
    columns as `t.<name>`); they run on any cursor of the dialect (see `rows_by_keys`).

    SQLite is given the keys as the outer side of a join (it then probes the primary key for
    each; with `(a, b) IN (VALUES ...)` it scans the whole table instead).  PostgreSQL takes
    them as arrays; with `lock`, rows are locked in key order.
    """
    if not keys:
        return []
    selected = ", ".join(f"t.{column}" for column in columns)
    if postgres:
        target = f"({', '.join(names)})" if len(names) > 1 else names[0]
        sql = (
            f"SELECT {selected} FROM {table.name} AS t WHERE {target} IN ({_unnest(table, names)})"
        )
        if where:
            sql += f" AND {where}"
        if lock:
            sql += f" ORDER BY {', '.join(names)} FOR UPDATE"
        return [(sql, _columns(keys, len(names)))]
    on = " AND ".join(f"t.{name} = k.column{index + 1}" for index, name in enumerate(names))
    one = "(" + ", ".join(["?"] * len(names)) + ")"
    statements = []
    per_statement = MAX_PARAMETERS // len(names)
    for start in range(0, len(keys), per_statement):
        part = keys[start : start + per_statement]
        sql = (
            f"SELECT {selected} FROM (VALUES {', '.join([one] * len(part))}) AS k "
            f"JOIN {table.name} AS t ON {on}"
        )
        if where:
            sql += f" WHERE {where}"
        statements.append((sql, [value for key in part for value in key]))
    return statements


def rows_by_keys(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
    columns: Sequence[str],
    lock: bool = False,
    where: str = "",
) -> list[tuple[Any, ...]]:
    """`keyed_selects` run on the connection (inside its transaction)."""
    found: list[tuple[Any, ...]] = []
    for sql, params in keyed_selects(
        is_postgres(connection), table, names, keys, columns, lock, where
    ):
        found.extend(fetch(connection, sql, params))
    return found


@contextmanager
def driver_cursor(connection: Connection) -> Iterator[Any]:
    """A cursor of the driver connection under `connection` (inside its transaction)."""
    cursor = connection.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


@lru_cache(maxsize=512)
def row_class(names: tuple[str, ...]) -> Any:
    """A named tuple of these column names (one class per distinct column list)."""
    return namedtuple("Row", names)  # type: ignore[misc]


def named(cursor: Any, rows: Sequence[Any] | None = None) -> list[Any]:
    """Rows the cursor returned (its last statement's, when `rows` is not given), each a named
    tuple of the cursor's own column names: read by name (`row.sku`) wherever they go."""
    kind = row_class(tuple(column[0] for column in cursor.description))
    make = partial(tuple.__new__, kind)  # what `kind._make` does, without its Python frame
    return list(map(make, cursor.fetchall() if rows is None else rows))


def fetch_named(connection: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    with driver_cursor(connection) as cursor:
        cursor.execute(sql, tuple(params))
        return named(cursor)


T = TypeVar("T")


def record(kind: type[T], row: Any) -> T:
    """A dataclass from a row (a SQLAlchemy Row or a `named` row), each field by column name."""
    return kind(**{item.name: getattr(row, item.name) for item in fields(kind)})  # type: ignore[arg-type]
