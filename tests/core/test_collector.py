"""A server's worker sets aside what it holds from the collector's full passes at its 2nd, 11th, 101st and 1001st
requests (grenier.core.collector), and the worker's application connects it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.signals import request_started
from django.test import Client

from grenier.core.collector import FREEZE_AT, settle_on_requests

ROOT = Path(__file__).resolve().parents[2]


class Cycle:
    """An object the collector tracks, in a cycle with itself (only the collector would free a lost one)."""

    def __init__(self) -> None:
        self.me = self


def tracked(thing: object) -> bool:
    """Whether the collector's passes look at ``thing`` (a frozen object is in none of its generations)."""
    return any(thing is other for other in gc.get_objects())


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    request_started.disconnect(dispatch_uid="grenier.core.collector")
    gc.unfreeze()


@pytest.mark.django_db
def test_what_the_process_holds_is_frozen_when_the_second_request_begins_and_not_at_the_others(
    unfrozen: None,
) -> None:
    settle_on_requests()
    client = Client(raise_request_exception=False)
    before_first = Cycle()
    client.get("/")
    assert gc.get_freeze_count() == 0
    assert tracked(before_first)

    before_second = Cycle()
    client.get("/")
    assert gc.get_freeze_count() > 0
    assert not tracked(before_first)
    assert not tracked(before_second)

    frozen = gc.get_freeze_count()
    after_second = Cycle()
    for _request in range(3, 11):
        client.get("/")
    assert gc.get_freeze_count() <= frozen  # frozen objects are still freed when their last reference goes
    assert tracked(after_second)

    client.get("/")  # the 11th
    assert 11 in FREEZE_AT
    assert gc.get_freeze_count() > frozen
    assert not tracked(after_second)


@pytest.mark.django_db
def test_garbage_is_collected_before_it_could_be_frozen(unfrozen: None) -> None:
    settle_on_requests()
    client = Client(raise_request_exception=False)
    client.get("/")
    lost = Cycle()
    gc.collect()  # now in the oldest generation: only a full pass would free it once lost
    del lost
    client.get("/")
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    assert not any(isinstance(thing, Cycle) for thing in gc.get_objects())


def test_the_workers_application_settles_its_memory() -> None:
    """``grenier.wsgi`` (what gunicorn serves) connects the settler: a process that imports it has frozen what it
    holds once its second request has begun."""
    script = (
        "import gc; import grenier.wsgi; from django.test import Client; "
        "client = Client(raise_request_exception=False); client.get('/'); first = gc.get_freeze_count(); "
        "client.get('/'); print(first, gc.get_freeze_count() > 0)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="grenier.settings")
    env.setdefault("GRENIER_ALLOW_DEV_SECRET", "1")
    found = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split()[-2:] == ["0", "True"]
