"""Service settings: command-line flags and environment variables fill one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.config import env_settings
from adapters.retention import retention_from_env
from inventory.personal import Retention


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    # largest request body; bigger ones get 413 before they are read
    max_body_bytes: int = 4 * 1024 * 1024
    default_ttl_seconds: int = 900
    max_ttl_seconds: int = 7 * 24 * 3600
    # how often the sweeper writes releases for expired reservations (0: never)
    sweep_interval_seconds: float = 30.0
    # JSON file of channel policies (see docs/api.md); the API can change them at run time
    channels_file: str | None = None
    # threads running database calls, so the event loop never waits on the database
    db_threads: int = 8
    # verified keys are remembered this long (a revoked key stops working within it)
    key_cache_seconds: float = 5.0
    max_batch_skus: int = 1000
    # cells one availability read may ask for: SKUs × explicit locations (more: 413)
    max_read_cells: int = 100_000
    max_events: int = 5000
    # how long personal data and dead letters are kept (the sweeper purges them)
    retention: Retention = field(default_factory=Retention)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = env_settings()
        settings = cls(
            max_body_bytes=env.max_body_bytes,
            default_ttl_seconds=env.default_ttl,
            max_ttl_seconds=env.max_ttl,
            sweep_interval_seconds=env.sweep_interval,
            channels_file=env.channels_file,
            db_threads=env.db_threads,
            max_read_cells=env.max_read_cells,
            retention=retention_from_env(),
        )
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, value)
        return settings
