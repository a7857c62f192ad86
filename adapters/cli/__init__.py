"""The `inventory` command.  Each feature module adds its own subcommands through `register`."""

from __future__ import annotations

import argparse
import importlib
import os
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


class InputError(Exception):
    """A file named on the command line cannot be used: one line on stderr, exit 2."""


def not_text(path: str | os.PathLike[str], error: UnicodeDecodeError) -> InputError:
    bad = error.object[error.start : error.start + 1].hex()
    return InputError(f"{path}: not UTF-8 text (byte 0x{bad} at offset {error.start})")


def readable(path: str | os.PathLike[str], what: str = "") -> None:
    """Raise InputError unless `path` is a file that can be opened for reading ('-' is
    standard input)."""
    if str(path) == "-":
        return
    try:
        with open(path, "rb") as stream:
            stream.read(1)
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else error.strerror
        raise InputError(f"{what}{path}: {reason or error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done, 1 done with refusals (or drift, or failures it reports), 2 a bad
    argument or a missing, unreadable or undecodable input file (one line on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as error:
        print(f"{parser.prog} {args.command}: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"{parser.prog} {args.command}: input is not UTF-8 text ({error})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except OSError as error:  # a file the command opened or wrote
        if error.filename is None:
            raise
        reason = error.strerror or str(error)
        print(f"{parser.prog} {args.command}: {error.filename}: {reason}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
