"""Every environment variable the product reads, in one settings model.

Each module reads its settings through `env_settings()` (the process environment, or a mapping a
test passes), never from `os.environ` by hand. The README's *Configuration* table is generated
from this model (`inventory settings --markdown`; `tests/test_config.py` keeps them equal).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "INVENTORY_"


def _setting(default: Any, meaning: str, shown: str | None = None) -> Any:
    extra: dict[str, Any] | None = {"shown": shown} if shown is not None else None
    return Field(default=default, description=meaning, json_schema_extra=extra)


class EnvSettings(BaseSettings):
    """`INVENTORY_<NAME>` for each field `<name>`; empty values count as unset."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, case_sensitive=False, env_ignore_empty=True, extra="ignore"
    )

    # -- database
    database_url: str | None = _setting(
        None,
        "`sqlite:///path` or `postgresql://user@host/db` (psycopg 3); `--db` overrides it",
        "`sqlite:///inventory.db`",
    )
    sqlite_synchronous: str = _setting(
        "NORMAL",
        "SQLite `synchronous` pragma (WAL mode); `FULL` for power-loss durability of the last "
        "commits",
    )
    # -- availability service
    max_body_bytes: int = _setting(4 * 1024 * 1024, "largest request body (bigger: 413)")
    default_ttl: int = _setting(900, "seconds a reservation holds when the request names none")
    max_ttl: int = _setting(7 * 24 * 3600, "longest hold a reservation may ask for, in seconds")
    sweep_interval: float = _setting(
        30.0, "seconds between the server's expiry sweeps and purges (0: no sweeper)"
    )
    channels_file: str | None = _setting(None, "JSON file of channel policies (docs/api.md)")
    db_threads: int = _setting(8, "threads running database calls in `inventory serve`")
    max_read_cells: int = _setting(
        100_000, "largest availability read, in SKUs × explicit locations (bigger: 413)"
    )
    switch_interval: float = _setting(
        0.0005, "Python's GIL switch interval in the server, in seconds"
    )
    # -- staff page
    staff_session_minutes: int = _setting(
        600,
        "a staff tablet's session (kept in the database: survives restarts, shared by every "
        "server process)",
    )
    staff_nearby_km: float = _setting(1000.0, "radius of the staff page's *Nearby* list")
    staff_refresh_ms: int = _setting(1000, "how often the staff page refreshes its numbers")
    trusted_proxies: str = _setting(
        "",
        "addresses or CIDR networks of TLS proxies whose `X-Forwarded-Proto: https` marks the "
        "staff cookie `Secure` (docs/staff.md)",
        "none",
    )
    # -- personal data
    personal_data_days: str | None = _setting(
        None,
        "days a customer's details are kept after the hold is handed over, released or expired",
        "`7`",
    )
    dead_letter_days: str | None = _setting(
        None, "days a dead letter (the original bytes of a message) is kept", "`30`"
    )
    # -- routing
    postal_codes: str | None = _setting(
        None,
        "postal-code file for origins outside the US (GeoNames dump or CSV "
        "`country,postal_code,lat,lon`; docs/routing.md)",
    )
    # -- Kafka
    kafka_bootstrap: str | None = _setting(
        None, "Kafka brokers `host:port,...` for `consume` and `outbox relay`"
    )
    kafka_topics: str | None = _setting(
        None, "`topic=format,...` the consumer reads", "the standard topics (docs/intake.md)"
    )
    kafka_group: str = _setting("inventory-intake", "the consumer group")
    kafka_batch: int = _setting(2000, "messages per ledger transaction")
    kafka_session_timeout_ms: int = _setting(10_000, "consumer group session timeout")
    kafka_heartbeat_ms: int = _setting(3_000, "consumer heartbeat interval")
    kafka_max_message_bytes: int = _setting(1 << 20, "larger messages become dead letters unread")
    kafka_deadletter_topic: str = _setting(
        "inventory.deadletters", "topic a copy of every dead letter is published to"
    )
    kafka_outbox_topic: str = _setting(
        "inventory.availability", "topic of the `availability_changed` feed"
    )
    outbox: str | None = _setting(
        None,
        "`1` writes the availability feed's outbox rows, `0` never",
        "on when `INVENTORY_KAFKA_BOOTSTRAP` is set",
    )
    # -- sales platforms
    shopify_webhook_secret: str = _setting(
        "", "Shopify webhook signing secrets, comma-separated to rotate", "none"
    )
    shop_webhook_secret: str = _setting(
        "", "older name of `INVENTORY_SHOPIFY_WEBHOOK_SECRET` (both are read)", "none"
    )
    shopify_locations: str = _setting(
        "", "`shopifyLocationId=LOCATION,...`; unlisted Shopify locations are refused", "none"
    )
    shop_locations: str = _setting(
        "", "older name of `INVENTORY_SHOPIFY_LOCATIONS` (read when that is unset)", "none"
    )
    shopify_default_location: str | None = _setting(
        None, "holds Shopify orders that name no location", "`WH-KASSEL`"
    )
    shop_default_location: str | None = _setting(
        None, "older name of `INVENTORY_SHOPIFY_DEFAULT_LOCATION`"
    )
    shopify_stock_locations: str = _setting(
        "", "Shopify location ids whose stock Shopify keeps (`inventory_levels/update`)", "none"
    )
    woocommerce_webhook_secret: str = _setting("", "WooCommerce webhook secrets", "none")
    woocommerce_location: str = _setting("WH-KASSEL", "where WooCommerce orders are held")
    woocommerce_timezone: str = _setting(
        "UTC", "IANA zone of WooCommerce timestamps without offset"
    )
    square_webhook_secret: str = _setting("", "Square signature keys", "none")
    square_notification_url: str = _setting(
        "", "the notification URL exactly as configured at Square (part of the signature)", "none"
    )
    square_locations: str = _setting("", "`squareLocationId=LOCATION,...`", "none")
    shiphero_webhook_secret: str = _setting("", "ShipHero webhook secrets", "none")
    shiphero_locations: str = _setting(
        "", "`warehouseId=LOCATION,...` (ShipHero warehouse id or uuid)", "none"
    )
    marketplace_location: str = _setting(
        "WH-KASSEL", "where merchant-fulfilled Amazon orders are held and shipped from"
    )
    amazon_supply_sources: str = _setting("", "`SupplySourceId=LOCATION,...`", "none")
    amazon_fba_locations: str = _setting(
        "", "`MarketplaceId=LOCATION,...` for Amazon-held stock", "none"
    )


def env_settings(env: Mapping[str, str] | None = None) -> EnvSettings:
    """The settings from the process environment, or from `env` alone."""
    if env is None:
        return EnvSettings()
    found = {
        name[len(PREFIX) :].lower(): value
        for name, value in env.items()
        if name.upper().startswith(PREFIX) and value != ""
    }
    return EnvSettings.model_validate(found)


def markdown_table() -> str:
    """The README's *Configuration* table."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, info in EnvSettings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        shown = extra.get("shown")
        if shown is None:
            shown = "none" if info.default in (None, "") else f"`{info.default}`"
        rows.append(f"| `{PREFIX}{name.upper()}` | {shown} | {info.description} |")
    return "\n".join(rows) + "\n"
