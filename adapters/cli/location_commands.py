"""`inventory locations import FILE` and `inventory locations list`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from adapters import locations as registry
from adapters.cli import add_db_option, not_text, readable
from adapters.db.database import Database

COLUMNS = ("id", "kind", "name", "city", "country", "timezone", "pickup_enabled", "ship_enabled")


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("locations", help="the store and warehouse registry")
    commands = group.add_subparsers(dest="locations_command", required=True, metavar="ACTION")
    load = commands.add_parser(
        "import", help="load locations from CSV, JSON or JSON Lines (all or nothing)"
    )
    load.add_argument("file", type=Path)
    load.add_argument("--check", action="store_true", help="validate only, write nothing")
    add_db_option(load)
    load.set_defaults(func=cmd_import)
    show = commands.add_parser("list", help="list the registry")
    show.add_argument(
        "--kind", choices=("store", "warehouse"), help="only stores or only warehouses"
    )
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    add_db_option(show)
    show.set_defaults(func=cmd_list)


def _open(args: argparse.Namespace) -> Database:
    return Database(args.db)


def cmd_import(args: argparse.Namespace) -> int:
    readable(args.file)
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as undecodable:
        raise not_text(args.file, undecodable) from None
    if args.check:
        report = registry.parse_records(text, registry.file_format(args.file))
    else:
        db = _open(args)
        try:
            report = registry.import_file(db, args.file)
        finally:
            db.close()
    for error in report.errors:
        print(f"{args.file}:{error.line}: {error.reason}", file=sys.stderr)
    if report.errors:
        print(f"{len(report.errors)} bad record(s); nothing imported", file=sys.stderr)
        return 1
    if not report.records:
        print(f"{args.file}: no locations found", file=sys.stderr)
        return 1
    verb = "valid" if args.check else "imported"
    print(f"{verb}: {len(report.records)} location(s)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    db = _open(args)
    try:
        found = registry.rows(db, args.kind)
    finally:
        db.close()
    if args.json:
        for row in found:
            print(json.dumps(row, ensure_ascii=False, sort_keys=True))
        return 0
    table = [COLUMNS] + [tuple(_cell(row[c]) for c in COLUMNS) for row in found]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)
