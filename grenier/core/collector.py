"""Python's garbage collector in a server's worker: what the worker builds to serve is set aside, out of the
collector's full passes.

A full collection looks at every object the process holds that may be part of a cycle. A worker holds about
200,000 of them once it has served its first pages (Django's apps, URL patterns, compiled templates,
translations, the models' metadata), and each full pass over them took about 70 ms. Those passes came every 8 to
10 page loads, and made the single slow loads of pages that otherwise answer in 30 ms (measured under gunicorn at
100,000 households: docs/PERFORMANCE.md). Those objects live as long as the worker.

``gc.freeze()`` moves every object that exists now to a generation the collector never looks at. A frozen object
is still freed when its last reference goes; only a cycle of frozen objects would stay. So, when the requests
``FREEZE_AT`` begin, the collector first collects (nothing that is garbage then is frozen), and what is left is
frozen. Those requests wait for that pass (a full collection, about 70 ms), four times in a worker's life. The
first request's objects are gone by then. The later requests take in what the earlier ones built lazily (the
templates of pages not served yet, for instance).
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator
from typing import Any

from django.core.signals import request_started

# The requests (counted from 1 in each process) at whose start what the process holds is frozen.
FREEZE_AT = frozenset({2, 11, 101, 1001})


class Settler:
    """Counts the requests a process begins and freezes what it holds at those of ``FREEZE_AT``."""

    def __init__(self) -> None:
        self.requests: Iterator[int] = itertools.count(1)

    def __call__(self, **kwargs: Any) -> None:
        if next(self.requests) in FREEZE_AT:
            gc.collect()
            gc.freeze()


def settle_on_requests() -> Settler:
    """Connect a ``Settler`` to every request this process begins (the server's workers: ``grenier.wsgi``; the
    page benchmark, which measures what they do). Returned so that it can be disconnected."""
    settler = Settler()
    request_started.connect(settler, weak=False, dispatch_uid="grenier.core.collector")
    return settler
