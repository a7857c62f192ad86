"""Running a use case in a transaction of its own, retried when the store says it may be."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from inventory.ports import TransientFailure, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
RETRIES = 5


def run(factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], T], retries: int = RETRIES) -> T:
    """`work(uow)` in a fresh unit of work, committed when it returns.

    A transient failure (deadlock, lock timeout) rolls everything back and runs `work` again
    from the start, so `work` must decide everything from what it reads inside the unit.
    `work` may roll back itself (e.g. an all-or-nothing batch that met a conflict); then
    nothing is committed.
    """
    for attempt in range(retries):
        try:
            with factory() as uow:
                result = work(uow)
                uow.commit()
                return result
        except TransientFailure:
            if attempt + 1 == retries:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
