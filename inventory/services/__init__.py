"""The use cases: each takes a unit of work (`inventory.ports.UnitOfWork`) and does one job.

- `ingest`: every write of contract events, from any path: validate, refuse unknown
  locations, append, report each event's outcome.
- `reservations`: reserve (never oversell), release, fulfil, sweep expired holds.
- `counts`: a physical count from the staff page, answered with on hand before and after.
- `units`: running a use case in its own transaction, retried when the store asks.

Adapters (HTTP handlers, the Kafka consumer, the CLI, the staff page) parse, call one of these,
and render; none of them opens a transaction itself.
"""
