"""Translators from foreign channel payloads to stock events.

Each translator is a pure function: bytes (or a decoded value) plus a SKU catalogue and the
channel settings in, a list of `StockEvent` out, or a `TranslationError` naming the field and
the reason.  Event ids derive from the source's own ids, so a re-sent message is a duplicate.
"""
