"""Calls made at once, for the race tests: on PostgreSQL in real threads released together by a barrier (each
with its own connection, closed at the end), so row locks and constraints are what keeps the data right; SQLite
serialises writers by itself, so there the same calls run one after the other and the same outcome is checked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection, connections

T = TypeVar("T")


def at_once(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """``work(0)`` … ``work(count - 1)`` at once; each one's result, or the exception it raised."""
    results: list[T | Exception] = [RuntimeError("did not run")] * count

    def run(index: int, barrier: threading.Barrier | None) -> None:
        try:
            if barrier is not None:
                barrier.wait()
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
        finally:
            if barrier is not None:
                connections.close_all()

    if connection.vendor == "sqlite":
        for index in range(count):
            run(index, None)
        return results
    barrier = threading.Barrier(count)
    threads = [threading.Thread(target=run, args=(i, barrier)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
