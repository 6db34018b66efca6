"""A social worker's home counts the referrals that wait for a basket (issue 14): the same households as
``selectors.referral_status`` calls ``member``, in as many queries however many referrals there are."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.baskets import selectors, services
from grenier.baskets.home import waiting_referrals
from grenier.baskets.models import Frequency, Referral
from grenier.core.models import Household

from .conftest import Baskets, page_and_queries


def _refer(baskets: Baskets, key: str) -> Referral:
    return services.referral_create(
        garden=baskets.garden,
        social_worker=baskets.cast["social_worker"],
        consent=True,
        idempotency_key=key,
        new_household=services.NewHousehold(name=f"Foyer {key}", first_name="Nadia"),
    )


def _home(baskets: Baskets, login: Callable[..., Client]) -> tuple[str, int]:
    return page_and_queries(
        login(baskets.cast["social_worker"]), reverse("territory_home", args=[baskets.territory.slug])
    )


def test_the_waiting_referrals_are_those_referral_status_calls_member(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    waiting = _refer(baskets, "waits")
    subscribed = _refer(baskets, "subscribed")
    services.subscription_create(
        household=subscribed.household,
        offer=baskets.small,
        pickup_point=baskets.halle,
        frequency=Frequency.WEEKLY,
        start_on=baskets.thursday,
        actor=None,
    )
    left = _refer(baskets, "left")
    Household.objects.filter(pk=left.household_id).update(left_on=timezone.localdate())
    withdrawn = _refer(baskets, "withdrawn")
    services.referral_withdraw(referral=withdrawn, actor=baskets.cast["social_worker"])
    statuses = {r.pk: selectors.referral_status(r) for r in Referral.objects.select_related("household")}
    assert statuses == {
        waiting.pk: "member",
        subscribed.pk: "subscribed",
        left.pk: "left",
        withdrawn.pk: "withdrawn",
    }
    assert waiting_referrals(baskets.territory, baskets.cast["social_worker"].pk) == 1
    assert waiting_referrals(baskets.territory, baskets.cast["coordinator"].pk) == 0
    html, _queries = _home(baskets, login)
    assert "1 household waits for a basket" in html or "1 foyer" in html


def test_the_social_workers_home_reads_its_referrals_in_constant_queries(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    for index in range(2):
        _refer(baskets, f"first-{index}")
    _html, few = _home(baskets, login)
    for index in range(8):
        _refer(baskets, f"more-{index}")
    html, many = _home(baskets, login)
    assert many == few
    assert "10 households wait for a basket" in html or "10 foyers" in html
