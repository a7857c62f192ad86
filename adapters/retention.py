"""How long personal data is kept, from the environment (see docs/personal-data.md).

- `INVENTORY_PERSONAL_DATA_DAYS` (default 7): a customer's details are deleted this many days
  after their hold or pickup was handed over, released or expired (0: at the next sweep).
- `INVENTORY_DEAD_LETTER_DAYS` (default 30): dead letters, which keep a message's original
  bytes, are deleted this many days after they arrived.
"""

from __future__ import annotations

from collections.abc import Mapping

from inventory.personal import Retention

PERSONAL_DATA_DAYS = "INVENTORY_PERSONAL_DATA_DAYS"
DEAD_LETTER_DAYS = "INVENTORY_DEAD_LETTER_DAYS"


def retention_from_env(env: Mapping[str, str] | None = None) -> Retention:
    from adapters.config import env_settings

    source = env_settings(env)
    default = Retention()

    def days(name: str, fallback: float) -> float:
        raw = (getattr(source, name[len("INVENTORY_") :].lower()) or "").strip()
        if not raw:
            return fallback
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{name}: expected a number of days, not {raw!r}") from None
        if value < 0:
            raise ValueError(f"{name}: must be zero or more days")
        return value

    return Retention(
        personal_data_days=days(PERSONAL_DATA_DAYS, default.personal_data_days),
        dead_letter_days=days(DEAD_LETTER_DAYS, default.dead_letter_days),
    )
