"""The referrals page (issue 14): where each referral of the page stands, read in one query for the page, not one
per referral; the same statuses as they were computed (the reference below, kept verbatim)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.baskets import selectors, services
from grenier.baskets.models import Frequency, Referral, Subscription
from grenier.core.models import Household

from .conftest import Baskets, page_and_queries
from .test_home_waiting import _refer


def _old_referral_status(referral: Referral) -> str:
    if referral.status == "withdrawn":
        return "withdrawn"
    if referral.household.left_on is not None:
        return "left"
    subscriptions = list(
        Subscription.objects.filter(household_id=referral.household_id, offer__garden_id=referral.garden_id)
    )
    if any(s.stopped_on is None and s.paused_from is None for s in subscriptions):
        return "subscribed"
    if any(s.stopped_on is None for s in subscriptions):
        return "paused"
    if subscriptions:
        return "stopped"
    return "member"


def _subscribe(baskets: Baskets, referral: Referral) -> Subscription:
    return services.subscription_create(
        household=referral.household,
        offer=baskets.small,
        pickup_point=baskets.halle,
        frequency=Frequency.WEEKLY,
        start_on=baskets.thursday,
        actor=None,
    )


def test_each_referrals_status_is_as_it_was(baskets: Baskets) -> None:
    _refer(baskets, "waits")
    _subscribe(baskets, _refer(baskets, "subscribed"))
    paused = _subscribe(baskets, _refer(baskets, "paused"))
    Subscription.objects.filter(pk=paused.pk).update(paused_from=baskets.thursday)
    stopped = _subscribe(baskets, _refer(baskets, "stopped"))
    services.subscription_stop(subscription=stopped, actor=None)
    again = _refer(baskets, "stopped then again")
    services.subscription_stop(subscription=_subscribe(baskets, again), actor=None)
    _subscribe(baskets, again)
    left = _refer(baskets, "left")
    Household.objects.filter(pk=left.household_id).update(left_on=timezone.localdate())
    services.referral_withdraw(referral=_refer(baskets, "withdrawn"), actor=baskets.cast["social_worker"])
    referrals = list(Referral.objects.select_related("household"))
    expected = {r.pk: _old_referral_status(r) for r in referrals}
    assert selectors.referral_statuses(referrals) == expected
    assert {r.pk: selectors.referral_status(r) for r in referrals} == expected
    assert sorted(expected.values()) == sorted(
        ["member", "subscribed", "paused", "stopped", "subscribed", "left", "withdrawn"]
    )


def _referrals_page(baskets: Baskets, login: Callable[..., Client]) -> tuple[str, int]:
    url = reverse("baskets_referrals", args=[baskets.territory.slug])
    return page_and_queries(login(baskets.cast["coordinator"]), url)


def test_the_referrals_page_reads_their_statuses_in_as_many_queries(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    for index in range(2):
        _subscribe(baskets, _refer(baskets, f"first-{index}"))
    _html, few = _referrals_page(baskets, login)
    for index in range(6):
        _subscribe(baskets, _refer(baskets, f"more-{index}"))
    html, many = _referrals_page(baskets, login)
    assert html.count("Foyer more-") >= 6
    assert many == few
