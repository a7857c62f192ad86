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
    "adapters.cli.settings_command",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inventory",
        description="Cross-channel inventory: one stock ledger for web shop, marketplaces and "
        "stores.",
    )
    # global options: before the command (`inventory --db URL stock ...`) or after it
    parser.add_argument("--db", metavar="URL", default=None, help=DB_HELP)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    describe_defaults(parser)
    return parser


DB_HELP = "database URL or SQLite file (default: $INVENTORY_DATABASE_URL, else inventory.db)"


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """`--db` after the command too; it does not overwrite one given before the command."""
    parser.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)


def subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below `parser` (commands and their actions)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *subcommands(child)]
    return found


def describe_defaults(parser: argparse.ArgumentParser) -> None:
    """Add "(default X)" to every option's help that does not state its default yet."""
    for each in [parser, *subcommands(parser)]:
        for action in each._actions:
            default = action.default
            if not action.option_strings or action.help in (None, argparse.SUPPRESS):
                continue
            if default in (None, False, argparse.SUPPRESS) or "default" in action.help:
                continue
            shown = " ".join(map(str, default)) if isinstance(default, list) else default
            action.help = f"{action.help} (default {shown})"


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
