"""A main page's number of queries does not grow with the data (issue 14, "Pages at scale"): each page is rendered
on the fund's small territory, then again once it has more households, persons, contribution choices, monthly runs
and payments at several stores; it must send exactly as many queries. A page that reads a row per household,
payment or store would fail here long before a caisse of 100,000 households notices it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.models import Role
from grenier.fund import selectors, services
from grenier.fund.models import Funder, FunderKind, Payment, Store, StoreStatus
from grenier.governance import bodies
from grenier.governance import services as governance
from grenier.governance.models import BodyKind, Majority

from ..conftest import Cast
from .conftest import Fund


def _open_vote(cast: Cast) -> int:
    committee = bodies.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE)
    bodies.membership_join(body=committee, user=cast["committee"], actor=None)
    now = timezone.now()
    proposal = governance.proposal_create(
        body=committee,
        author=cast["committee"],
        title="Allocation de base à 120 €",
        text="",
        kind="allocation_rule",
        payload={"base_cents": 12_000, "per_child_cents": 2_000},
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=7),
        quorum_percent=50,
        majority=Majority.SIMPLE,
        secret=True,
        effective_month=date(2027, 1, 1),
        idempotency_key="scale-vote",
    )
    return proposal.pk


def _pages(cast: Cast, vote: int) -> list[tuple[str, str]]:
    t = cast.territory.slug
    return [
        ("coordinator", f"/t/{t}/fund/"),
        ("funder", f"/t/{t}/fund/"),
        ("funder", f"/t/{t}/"),
        ("coordinator", f"/t/{t}/"),
        ("coordinator", f"/t/{t}/fund/projection/"),
        ("committee", f"/t/{t}/votes/{vote}/"),
        ("coordinator", f"/t/{t}/households/"),
        ("coordinator", f"/t/{t}/fund/runs/"),
        ("coordinator", f"/t/{t}/fund/settlements/"),
        ("coordinator", f"/t/{t}/fund/stores/"),
        ("coordinator", f"/t/{t}/fund/grants/"),
        ("cashier", f"/t/{t}/till/"),
        ("member", f"/t/{t}/my-credit/"),
    ]


def _queries(cast: Cast, vote: int) -> dict[str, int]:
    counts = {}
    for who, url in _pages(cast, vote):
        client = Client()
        client.force_login(cast[who])
        client.get(url)  # the first load may fill a per-process cache (e.g. the proposal kinds)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (who, url, response.status_code)
        counts[f"{who} {url}"] = len(captured.captured_queries)
    return counts


def _grow(fund: Fund, households: int, payments_each: int) -> None:
    """More of everything the pages sum: households with persons and choices, two more stores, a second month's
    run, payments of every household at every store, a settled month and a grant."""
    cast = fund.cast
    coordinator = cast["coordinator"]
    stores = list(Store.objects.filter(territory=cast.territory, status=StoreStatus.APPROVED).order_by("pk"))
    cards = []
    for index in range(households):
        household = core_services.household_join(
            territory=cast.territory,
            name=f"Foyer {index}",
            persons=[
                core_services.PersonInput(f"A{index}", date(1985, 3, 3)),
                *[core_services.PersonInput(f"E{index}-{k}", date(2016 + k, 5, 5)) for k in range(index % 3)],
            ],
            monthly_resources_cents=[None, 70_000, 200_000][index % 3],
            joined_on=date(2026, 1, 1),
            actor=coordinator,
        )
        if index % 2:
            services.contribution_choose(
                household=household, amount_cents=500 * (index + 1), effective_month=fund.month, actor=None
            )
        cards.append(household.card_number)
    # Last month is run and settled for everybody, this month's run takes in the newcomers.
    last_month = (fund.month - timedelta(days=1)).replace(day=1)
    services.monthly_run(territory=cast.territory, month=last_month, actor=coordinator)
    services.monthly_run(territory=cast.territory, month=fund.month, actor=coordinator)
    for round_ in range(payments_each):
        for index, card in enumerate(cards):
            services.pay(
                store=stores[(index + round_) % len(stores)],
                card=card,
                total_cents=300 + index,
                idempotency_key=f"grow-{round_}-{index}",
                actor=cast["cashier"],
            )
    # A few of them last month, which is then settled.
    Payment.objects.filter(
        pk__in=list(Payment.objects.order_by("pk").values_list("pk", flat=True)[:5])
    ).update(created_at=timezone.now() - timedelta(days=40))
    services.settle(territory=cast.territory, month=last_month, actor=None)
    services.grant_record(
        funder=Funder.objects.get(territory=cast.territory),
        amount_cents=500_000,
        received_on=fund.month,
        purpose="",
        idempotency_key="grow-grant",
        actor=coordinator,
    )


@pytest.mark.django_db
def test_no_main_page_sends_more_queries_with_more_data(fund: Fund) -> None:
    cast = fund.cast
    core_services.role_grant(user=cast["member"], territory=cast.territory, role=Role.MEMBER)
    vote = _open_vote(cast)
    # A payment last month, settled, three stores and a funder: the small territory already shows every part of
    # each page.
    for name in ("Marché couvert", "Coopérative des Halles"):
        store = services.store_create(territory=cast.territory, name=name, actor=cast["coordinator"])
        services.store_approve(store=store, actor=cast["coordinator"])
        services.store_cashier_add(store=store, user=cast["cashier"], actor=cast["coordinator"])
    first = services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=500,
        idempotency_key="first",
        actor=cast["cashier"],
    )
    Payment.objects.filter(pk=first.payment.pk).update(created_at=timezone.now() - timedelta(days=35))
    services.settle(
        territory=cast.territory, month=(fund.month - timedelta(days=1)).replace(day=1), actor=None
    )
    funder = services.funder_create(
        territory=cast.territory, name="Métropole", kind=FunderKind.PUBLIC, actor=cast["coordinator"]
    )
    funder.members.add(cast["funder"])
    small = _queries(cast, vote)
    _grow(fund, households=12, payments_each=3)
    assert Payment.objects.filter(territory=cast.territory).count() > 30
    assert selectors.fund_figures(cast.territory).spending_by_store  # the stores' part is shown
    grown = _queries(cast, vote)
    assert grown == small
