"""Reasons that say what was wrong with a query parameter and what is expected instead.

The generic checks (pydantic) know only that a value does not fit; these look at the common
mistakes first: a place name or a single number where `near` wants coordinates, `radius_km`
without `near`, and a `+` in a timestamp that the URL turned into a space.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

NEAR = re.compile(r"^\s*-?\d{1,3}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?\s*$")
NEAR_EXAMPLE = "near=52.52,13.405 (Berlin)"
# '2026-05-01T09:30:00 02:00': a '+' the query string decoded as a space
SPACE_FOR_PLUS = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)? \d{2}:?\d{2}$")


def availability_query_errors(query: Mapping[str, str]) -> list[dict[str, str]]:
    """Field errors for `GET /v1/availability/{sku}`'s `near`, `radius_km` and `as_of`."""
    errors = []
    near = query.get("near")
    if near is not None and not NEAR.match(near):
        if re.search(r"[A-Za-z]", near):
            what = "a place name is not accepted"
        elif "," not in near:
            what = "both latitude and longitude are needed"
        else:
            what = "not two numbers"
        errors.append(
            {
                "field": "near",
                "reason": f"expected latitude,longitude in decimal degrees, e.g. {NEAR_EXAMPLE}; "
                f"{what} (got {near!r})",
            }
        )
    if "radius_km" in query and near is None:
        errors.append(
            {
                "field": "radius_km",
                "reason": "applies only together with near=latitude,longitude "
                f"(e.g. {NEAR_EXAMPLE}&radius_km=25)",
            }
        )
    as_of = query.get("as_of")
    if as_of is not None and SPACE_FOR_PLUS.search(as_of):
        errors.append(
            {
                "field": "as_of",
                "reason": f"expected an RFC 3339 timestamp with offset; got {as_of!r}: a '+' in a "
                "URL must be written %2B (as_of=2026-05-01T09:30:00%2B02:00), or give the time "
                "in UTC with Z (as_of=2026-05-01T07:30:00Z)",
            }
        )
    return errors
