"""Form fields checked one by one, so the page can mark each bad field with its reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

WHOLE = re.compile(r"-?[0-9]+")


class FieldErrors(Exception):
    """Bad input: {field: reason}; nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def whole_number(
    form: Mapping[str, Any], name: str, errors: dict[str, str], low: int, high: int
) -> int:
    """An integer in [low, high]; the reason goes into `errors` otherwise (returns 0)."""
    raw = str(form.get(name, "")).strip()
    if not raw:
        errors[name] = "required"
        return 0
    if not WHOLE.fullmatch(raw):  # ASCII digits only: int() would take "١٢" and "1_0"
        errors[name] = "must be a whole number"
        return 0
    value = int(raw) if len(raw) <= 19 else (low - 1 if raw.startswith("-") else high + 1)
    if value < low:
        errors[name] = "must be more than 0" if low == 1 else f"must be at least {low}"
    elif value > high:
        errors[name] = f"must be at most {high}"
    return value


def text(
    form: Mapping[str, Any], name: str, errors: dict[str, str], required: bool, longest: int
) -> str:
    value = " ".join(str(form.get(name, "")).split())
    if required and not value:
        errors[name] = "required"
    elif len(value) > longest:
        errors[name] = f"at most {longest} characters"
    return value
