"""What waits for each person now is on their home, as a link that opens for them (issue 13, item 9): a member's
food credit and next basket, a coordinator's month to run, settlements to transfer and votes to count, a body
member's open votes, a social worker's referrals waiting for a basket."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from django.test import Client
from django.urls import reverse

from grenier.baskets import services as baskets_services
from grenier.fund.models import Settlement
from grenier.governance import services as governance

from ..baskets.conftest import Baskets, baskets  # noqa: F401 - the fixture
from ..fund.conftest import fund  # noqa: F401 - the fixture ``gov`` needs
from ..governance.conftest import Gov, gov  # noqa: F401 - the fixture

ACTION = re.compile(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>')


def _next_actions(client: Client, slug: str) -> dict[str, str]:
    """The home's "What to do next" buttons: label → link; each link answers 200 for the person."""
    html = client.get(reverse("territory_home", args=[slug])).content.decode()
    start = html.find('id="next-actions"')
    section = html[start : html.find("</section>", start)] if start >= 0 else ""
    actions = {" ".join(label.split()): url for url, label in ACTION.findall(section)}
    for url in actions.values():
        assert client.get(url).status_code == 200, url
    return actions


def test_a_member_sees_their_credit_and_next_basket_a_coordinator_the_month_to_run(
    baskets: Baskets,  # noqa: F811
    login: Callable[..., Client],
) -> None:
    slug = baskets.territory.slug
    actions = _next_actions(login(baskets.cast["member"]), slug)
    credit = [label for label in actions if label.startswith("Mon crédit alimentaire")]
    assert credit and actions[credit[0]] == reverse("fund_my_credit", args=[slug]), actions
    basket = [label for label in actions if label.startswith("Mon prochain panier")]
    assert basket and baskets.subscription.pickup_point.name in basket[0], actions
    assert basket[0].startswith("Mon prochain panier : jeudi ")  # a weekday mid-sentence, lowercase in French
    assert actions[basket[0]] == reverse("baskets_mine", args=[slug])
    coordinator = _next_actions(
        login(baskets.cast["coordinator"]), slug
    )  # no month run in this territory yet
    assert coordinator.get("Lancer le mois de novembre 2026") == reverse("fund_runs", args=[slug]), (
        coordinator
    )
    other = _next_actions(login(baskets.cast["cashier"]), slug)
    assert not [label for label in other if "crédit" in label or "panier :" in label]


def test_a_coordinator_sees_the_settlements_due_and_the_votes_to_count(
    gov: Gov,  # noqa: F811
    login: Callable[..., Client],
) -> None:
    slug = gov.cast.territory.slug
    Settlement.objects.create(
        store=gov.fund.store,
        month=date(2026, 10, 1),
        payments_count=3,
        credit_received_cents=4_000,
        credit_refunded_cents=0,
        amount_cents=4_000,
    )
    actions = _next_actions(login(gov.cast["coordinator"]), slug)
    assert not [
        label for label in actions if label.startswith("Lancer le mois")
    ]  # the fixture ran this month
    assert actions.get("1 règlement à virer à un point de vente : 40,00 €") == reverse(
        "fund_settlements", args=[slug]
    ), actions
    assert actions.get("1 vote est terminé : comptez son résultat") == reverse(
        "governance_proposals", args=[slug]
    ), actions
    for who in ("committee", "member", "funder"):  # none of this is theirs to do
        theirs = _next_actions(login(gov.cast[who]), slug)
        assert not {url for url in theirs.values() if "/fund/" in url}, (who, theirs)


def test_a_body_member_sees_the_votes_waiting_for_their_ballot(
    gov: Gov,  # noqa: F811
    login: Callable[..., Client],
) -> None:
    slug = gov.cast.territory.slug
    waiting = "2 votes attendent votre bulletin"
    assert _next_actions(login(gov.cast["committee"]), slug).get(waiting) == reverse(
        "governance_proposals", args=[slug]
    )
    governance.ballot_cast(proposal=gov.public, voter=gov.cast["committee"], choice="for")
    one = _next_actions(login(gov.cast["committee"]), slug)
    assert one.get("1 vote attend votre bulletin") == reverse(
        "governance_proposal", args=[slug, gov.secret.pk]
    ), one
    assert not [label for label in _next_actions(login(gov.cast["producer"]), slug) if "bulletin" in label]


def test_a_social_worker_sees_how_many_of_their_referrals_wait_for_a_basket(
    baskets: Baskets,  # noqa: F811
    login: Callable[..., Client],
) -> None:
    slug = baskets.territory.slug
    worker = baskets.cast["social_worker"]
    assert "Mes orientations" in _next_actions(login(worker), slug)
    baskets_services.referral_create(
        garden=baskets.garden,
        social_worker=worker,
        consent=True,
        idempotency_key="home-waiting",
        card=baskets.cast.other_household.card_number,
    )
    actions = _next_actions(login(worker), slug)
    assert actions.get("Mes orientations : 1 foyer attend un panier") == reverse(
        "baskets_referrals", args=[slug]
    )
