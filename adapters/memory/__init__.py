"""The ports of `inventory.ports` in memory: a unit of work without a database, for the
use-case tests (run on it and on both SQL backends) and for trying the rules out."""

from adapters.memory.uow import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
