"""`inventory settings`: every environment variable, its value here and its default."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.config import PREFIX, EnvSettings, env_settings, markdown_table


def register(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "settings", help="show every environment variable the product reads, with its value"
    )
    command.add_argument(
        "--markdown", action="store_true", help="print the README's table of them instead"
    )
    command.set_defaults(func=cmd_settings)


def cmd_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(markdown_table(), end="")
        return 0
    current = env_settings()
    for name, info in EnvSettings.model_fields.items():
        value = getattr(current, name)
        state = "default" if name not in current.model_fields_set else "set"
        if "secret" in name and value:
            value = "(hidden)"
        print(f"{PREFIX}{name.upper():<32} {state:<8} {value!r}  # {info.description}")
    return 0
