"""The `inventory` command.  Each feature module adds its own subcommands through `register`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# modules that define `register(subparsers)`; each subcommand sets `func(args) -> int`
COMMAND_MODULES = [
    "adapters.cli.ledger_commands",
    "adapters.cli.demo_command",
    "adapters.cli.location_commands",
    "adapters.cli.api_commands",
    "adapters.cli.intake_commands",
    "adapters.cli.reconcile_commands",
    "adapters.cli.personal_commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inventory",
        description="Cross-channel inventory: one stock ledger for web shop, marketplaces and "
        "stores.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL or SQLite file (default: $INVENTORY_DATABASE_URL, else inventory.db)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
