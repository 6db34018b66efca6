"""A garden of the cast's territory: two offers, three pickup points (the cashier volunteers at the first one), two
funders' agreements, the member household subscribed every week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grenier.baskets import services
from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    BasketSize,
    Frequency,
    Garden,
    PickupPoint,
    Subscription,
)
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, FunderKind

from ..conftest import Cast, make_user


@dataclass
class Baskets:
    cast: Cast
    garden: Garden
    small: BasketOffer  # 15,00 €
    large: BasketOffer  # 22,00 €
    halle: PickupPoint  # served by the cashier
    ecole: PickupPoint  # served by another volunteer
    gare: PickupPoint
    department: Funder
    foundation: Funder
    first: Agreement  # 50 % of the price, priority 1
    second: Agreement  # 20 % of the price, priority 2
    subscription: Subscription  # the member's
    thursday: date  # the latest distribution day (today or before): its sheet may be checked off and closed

    @property
    def territory(self):
        return self.cast.territory


@pytest.fixture
def baskets(cast: Cast) -> Baskets:
    today = timezone.localdate()
    thursday = today - timedelta(
        days=(today.weekday() - 3) % 7
    )  # the latest distribution day, today at the latest
    season_start, season_end = thursday - timedelta(weeks=8), thursday + timedelta(weeks=20)
    garden = services.garden_create(territory=cast.territory, name="Jardin des Test", actor=None)
    small = services.offer_create(
        garden=garden,
        name="Petit panier",
        price_cents=1_500,
        season_start=season_start,
        season_end=season_end,
        weekday=3,
        size=BasketSize.SMALL,
        actor=None,
    )
    large = services.offer_create(
        garden=garden,
        name="Grand panier",
        price_cents=2_200,
        season_start=season_start,
        season_end=season_end,
        weekday=3,
        size=BasketSize.LARGE,
        actor=None,
    )
    halle = services.pickup_point_create(
        garden=garden, name="Halle", weekday=3, opens_at=time(17), actor=None
    )
    ecole = services.pickup_point_create(
        garden=garden, name="École", weekday=3, opens_at=time(16, 30), actor=None
    )
    gare = services.pickup_point_create(garden=garden, name="Gare", weekday=3, opens_at=time(18), actor=None)
    services.volunteer_add(pickup_point=halle, user=cast["cashier"], actor=None)
    other_volunteer = make_user("benevole@test.grenier", "Bénévole")
    from grenier.core import services as core_services
    from grenier.core.models import Role

    core_services.role_grant(user=other_volunteer, territory=cast.territory, role=Role.CASHIER)
    services.volunteer_add(pickup_point=ecole, user=other_volunteer, actor=None)
    cast.people["volunteer"] = other_volunteer
    department = fund_services.funder_create(
        territory=cast.territory, name="Département", kind=FunderKind.PUBLIC, actor=None
    )
    foundation = fund_services.funder_create(
        territory=cast.territory, name="Fondation", kind=FunderKind.PRIVATE, actor=None
    )
    foundation.members.add(cast["funder"])
    first = services.agreement_create(
        garden=garden,
        funder=department,
        name="Convention Département",
        share_bp=5_000,
        budget_cents=100_000,
        starts_on=season_start,
        ends_on=season_end,
        priority=1,
        actor=None,
    )
    second = services.agreement_create(
        garden=garden,
        funder=foundation,
        name="Convention Fondation",
        share_bp=2_000,
        budget_cents=100_000,
        starts_on=season_start,
        ends_on=season_end,
        priority=2,
        actor=None,
    )
    subscription = services.subscription_create(
        household=cast.household,
        offer=small,
        pickup_point=halle,
        frequency=Frequency.WEEKLY,
        start_on=thursday,
        actor=None,
    )
    return Baskets(
        cast=cast,
        garden=garden,
        small=small,
        large=large,
        halle=halle,
        ecole=ecole,
        gare=gare,
        department=department,
        foundation=foundation,
        first=first,
        second=second,
        subscription=subscription,
        thursday=thursday,
    )


def page_and_queries(client: Client, url: str, query: dict[str, int | str] | None = None) -> tuple[str, int]:
    """A page's HTML and the SQL queries of its second load (the first warms the caches up), for the tests that a
    page's queries do not grow with its rows."""
    client.get(url, query)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries)
