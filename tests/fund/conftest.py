"""A fund ready to use in the cast's territory: Montpellier-like rules, an approved store, the current month run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.conf import settings
from django.utils import timezone

from grenier.fund import payments, services
from grenier.fund.models import CarryOver, Store

from ..conftest import Cast

# Resources per consumption unit (cents) -> suggested monthly contribution (cents), a Montpellier-like grid.
BRACKETS: list[list[int | None]] = [
    [60_000, 100],
    [90_000, 1_000],
    [120_000, 3_000],
    [160_000, 6_000],
    [None, 12_000],
]


@dataclass
class Fund:
    cast: Cast
    month: date
    store: Store
    pending_store: Store


@pytest.fixture
def fund(cast: Cast) -> Fund:
    month = timezone.localdate().replace(day=1)
    coordinator = cast["coordinator"]
    services.scale_set(
        territory=cast.territory,
        effective_month=date(2020, 1, 1),
        brackets=BRACKETS,
        minimum_cents=100,
        actor=coordinator,
    )
    services.allocation_rule_set(
        territory=cast.territory,
        effective_month=date(2020, 1, 1),
        base_cents=10_000,
        carry_over=CarryOver.KEEP,
        actor=coordinator,
    )
    store = services.store_create(territory=cast.territory, name="Épicerie du Lavoir", actor=coordinator)
    services.store_approve(store=store, actor=coordinator)
    services.store_cashier_add(store=store, user=cast["cashier"], actor=coordinator)
    pending = services.store_create(territory=cast.territory, name="Supérette en attente", actor=coordinator)
    services.monthly_run(territory=cast.territory, month=month, actor=coordinator)
    store.refresh_from_db()
    return Fund(cast=cast, month=month, store=store, pending_store=pending)


# The payment's paths: Python (SQLite, and PostgreSQL when told to) and one database call (PostgreSQL). Tests that take
# ``payment_path`` run on each path the database has, with the same expectations.
PAYMENT_PATHS = ["python"] + (
    ["database"] if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else []
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "payment_path" in metafunc.fixturenames:
        metafunc.parametrize("payment_path", PAYMENT_PATHS, indirect=True)


@pytest.fixture
def payment_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(payments, "PAY_IN_DATABASE", request.param == "database")
    return str(request.param)
