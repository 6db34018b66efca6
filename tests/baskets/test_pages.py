"""The baskets' pages: who may open each one, and the journeys they exist for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grenier.baskets import services
from grenier.baskets.models import (
    DistributionLine,
    DistributionSheet,
    Frequency,
    LineStatus,
    MemberPayment,
    Referral,
    Subscription,
    Workshop,
)
from grenier.core.models import Household, Role

from .conftest import Baskets

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
ANY_BASKETS = {"coordinator", "committee", "member", "cashier", "social_worker", "funder"}
FIGURES = {"coordinator", "committee", "funder"}


def _referral(baskets: Baskets, who: str = "social_worker", key: str = "ref-page-1") -> Referral:
    return services.referral_create(
        garden=baskets.garden,
        social_worker=baskets.cast[who],
        consent=True,
        idempotency_key=key,
        new_household=services.NewHousehold(name=f"Foyer {key}", first_name="Nadia"),
    )


def _pages(baskets: Baskets) -> dict[str, tuple[str, set[str]]]:
    slug = baskets.territory.slug
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    sheet = DistributionSheet.objects.get(pickup_point=baskets.halle, on=baskets.thursday)
    referral = _referral(baskets)
    period = f"?funder={baskets.foundation.pk}&start=2020-01-01&end={baskets.thursday.isoformat()}"
    garden = baskets.garden.pk
    return {
        "home": (reverse("baskets_home", args=[slug]), ANY_BASKETS),
        "garden": (reverse("baskets_garden", args=[slug, garden]), {"coordinator"}),
        "subscribe": (reverse("baskets_subscribe", args=[slug, garden]), {"coordinator"}),
        "payments": (reverse("baskets_payments", args=[slug, garden]), {"coordinator"}),
        "subscription": (
            reverse("baskets_subscription", args=[slug, baskets.subscription.pk]),
            {"coordinator", "member"},
        ),
        "mine": (reverse("baskets_mine", args=[slug]), {"member"}),
        "referrals": (reverse("baskets_referrals", args=[slug]), {"coordinator", "social_worker"}),
        "referral_new": (reverse("baskets_referral_new", args=[slug]), {"social_worker"}),
        "referral": (reverse("baskets_referral", args=[slug, referral.pk]), {"coordinator", "social_worker"}),
        "sheets": (reverse("baskets_sheets", args=[slug]), {"coordinator", "cashier"}),
        "sheet": (reverse("baskets_sheet", args=[slug, sheet.pk]), {"coordinator", "cashier"}),
        "sheet_pdf": (reverse("baskets_sheet_pdf", args=[slug, sheet.pk]), {"coordinator", "cashier"}),
        "statements": (reverse("baskets_statements", args=[slug]), FIGURES),
        "statement_query": (reverse("baskets_statements", args=[slug]) + period, FIGURES),
        "statement_csv": (reverse("baskets_statement_csv", args=[slug]) + period, FIGURES),
        "statement_pdf": (reverse("baskets_statement_pdf", args=[slug]) + period, FIGURES),
        "report": (reverse("baskets_report", args=[slug]), FIGURES),
    }


PAGES = [
    "home",
    "garden",
    "subscribe",
    "payments",
    "subscription",
    "mine",
    "referrals",
    "referral_new",
    "referral",
    "sheets",
    "sheet",
    "sheet_pdf",
    "statements",
    "statement_query",
    "statement_csv",
    "statement_pdf",
    "report",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", EVERYONE)
def test_page_access(baskets: Baskets, login: Callable[..., Client], page: str, who: str) -> None:
    url, allowed = _pages(baskets)[page]
    response = login(baskets.cast[who]).get(url)
    expected = 200 if who in allowed else 403 if who in ROLES else 404
    assert response.status_code == expected, f"{who} on {page}"


def test_a_social_worker_sees_only_their_own_referrals(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    from grenier.core import services as core_services

    from ..conftest import make_user

    colleague = make_user("social-2@test.grenier")
    core_services.role_grant(user=colleague, territory=baskets.territory, role=Role.SOCIAL_WORKER)
    mine = _referral(baskets, key="ref-mine")
    theirs = services.referral_create(
        garden=baskets.garden,
        social_worker=colleague,
        consent=True,
        idempotency_key="ref-theirs",
        new_household=services.NewHousehold(name="Foyer Autre"),
    )
    client = login(baskets.cast["social_worker"])
    slug = baskets.territory.slug
    assert client.get(reverse("baskets_referral", args=[slug, theirs.pk])).status_code == 404
    listing = client.get(reverse("baskets_referrals", args=[slug]))
    assert [r.pk for r in listing.context["referrals"]] == [mine.pk]
    every = login(baskets.cast["coordinator"]).get(reverse("baskets_referrals", args=[slug]))
    assert {r.pk for r in every.context["referrals"]} == {mine.pk, theirs.pk}


def test_a_member_sees_only_their_own_subscription(baskets: Baskets, login: Callable[..., Client]) -> None:
    other = services.subscription_create(
        household=baskets.cast.other_household,
        offer=baskets.small,
        pickup_point=baskets.gare,
        frequency=Frequency.WEEKLY,
        start_on=baskets.thursday,
        actor=None,
    )
    client = login(baskets.cast["member"])
    assert (
        client.get(reverse("baskets_subscription", args=[baskets.territory.slug, other.pk])).status_code
        == 404
    )


def test_a_social_worker_refers_a_new_family_with_its_consent(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    client = login(baskets.cast["social_worker"])
    url = reverse("baskets_referral_new", args=[baskets.territory.slug])
    body = {
        "garden": baskets.garden.pk,
        "name": "Foyer Nouveau",
        "first_name": "Sami",
        "persons": "4",
        "idempotency_key": "form-key-0001",
    }
    refused = client.post(url, body)
    assert refused.status_code == 200 and "consent" in refused.context["form"].errors
    assert not Referral.objects.exists()
    done = client.post(url, {**body, "consent": "on"})
    referral = Referral.objects.get()
    assert done.status_code == 302 and done["Location"].endswith(f"/referrals/{referral.pk}/")
    assert referral.household.name == "Foyer Nouveau" and referral.household.persons.count() == 4
    client.post(url, {**body, "consent": "on"})  # the same form sent again
    assert Referral.objects.count() == 1 and Household.objects.filter(name="Foyer Nouveau").count() == 1


def test_the_coordinator_subscribes_a_referred_household(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    referral = _referral(baskets)
    client = login(baskets.cast["coordinator"])
    url = reverse("baskets_subscribe", args=[baskets.territory.slug, baskets.garden.pk])
    response = client.post(
        url,
        {
            "household": referral.household_id,
            "offer": baskets.large.pk,
            "pickup_point": baskets.gare.pk,
            "frequency": "fortnightly",
            "start_on": baskets.thursday.isoformat(),
            "idempotency_key": "sub-key-0001",
        },
    )
    subscription = Subscription.objects.get(household=referral.household)
    assert response.status_code == 302 and subscription.frequency == "fortnightly"


def test_a_volunteer_checks_off_only_their_pickup_points(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    halle = DistributionSheet.objects.get(pickup_point=baskets.halle, on=baskets.thursday)
    ecole = DistributionSheet.objects.get(pickup_point=baskets.ecole, on=baskets.thursday)
    line = halle.lines.get()
    slug = baskets.territory.slug
    volunteer = login(baskets.cast["volunteer"])
    assert volunteer.get(reverse("baskets_sheet", args=[slug, halle.pk])).status_code == 404
    assert (
        volunteer.post(
            reverse("baskets_sheet_line", args=[slug, halle.pk, line.pk]), {"collected": "1"}
        ).status_code
        == 404
    )
    assert volunteer.post(reverse("baskets_sheet_close", args=[slug, halle.pk])).status_code == 404
    assert volunteer.get(reverse("baskets_sheet", args=[slug, ecole.pk])).status_code == 200
    line.refresh_from_db()
    assert line.status == LineStatus.DUE
    cashier = login(baskets.cast["cashier"])
    response = cashier.post(reverse("baskets_sheet_line", args=[slug, halle.pk, line.pk]), {"collected": "1"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == LineStatus.COLLECTED
    cashier.post(reverse("baskets_sheet_close", args=[slug, halle.pk]))
    halle.refresh_from_db()
    assert halle.closed_at is not None


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("baskets_generate", {"coordinator"}),
        ("baskets_workshop", {"coordinator"}),
        ("baskets_payments", {"coordinator"}),
    ],
)
@pytest.mark.parametrize("who", EVERYONE)
def test_coordinator_actions_refuse_everyone_else(
    baskets: Baskets, login: Callable[..., Client], name: str, allowed: set[str], who: str
) -> None:
    url = reverse(name, args=[baskets.territory.slug, baskets.garden.pk])
    body = {
        "day": baskets.thursday.isoformat(),
        "on": baskets.thursday.isoformat(),
        "title": "Atelier",
        "kind": "cooking",
        "participants": "5",
        "card": baskets.cast.household.card_number,
        "amount": "4,50",
        "method": "cash",
        "idempotency_key": "post-key-0001",
    }
    response = login(baskets.cast[who]).post(url, body)
    if who in allowed:
        assert response.status_code == 302
    else:
        assert response.status_code == (403 if who in ROLES else 404)
        assert not DistributionLine.objects.exists()
        assert not Workshop.objects.exists() and not MemberPayment.objects.exists()


def test_the_coordinator_records_a_payment_once(baskets: Baskets, login: Callable[..., Client]) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    client = login(baskets.cast["coordinator"])
    url = reverse("baskets_payments", args=[baskets.territory.slug, baskets.garden.pk])
    body = {
        "card": baskets.cast.household.card_number,
        "amount": "4,50",
        "method": "transfer",
        "reference": "VIR 42",
        "idempotency_key": "pay-form-0001",
    }
    assert client.post(url, body).status_code == 302
    assert client.post(url, body).status_code == 302
    assert MemberPayment.objects.get().amount_cents == 450
    missing = client.post(url, {**body, "reference": "", "idempotency_key": "pay-form-0002"})
    assert missing.status_code == 200 and "reference" in missing.context["form"].errors


def test_the_garden_page_shows_the_first_short_week(baskets: Baskets, login: Callable[..., Client]) -> None:
    from grenier.baskets.models import Agreement

    Agreement.objects.update(budget_cents=3_000)
    response = login(baskets.cast["coordinator"]).get(
        reverse("baskets_garden", args=[baskets.territory.slug, baskets.garden.pk])
    )
    assert response.context["forecast"].first_short is not None
    assert b'id="first-short"' in response.content


def test_a_member_pauses_and_announces_an_absence(baskets: Baskets, login: Callable[..., Client]) -> None:
    client = login(baskets.cast["member"])
    url = reverse("baskets_subscription", args=[baskets.territory.slug, baskets.subscription.pk])
    away = baskets.thursday + timedelta(weeks=2)
    client.post(url, {"action": "absent", "on": away.isoformat()})
    assert list(baskets.subscription.absences.values_list("on", flat=True)) == [away]
    client.post(url, {"action": "pause"})
    baskets.subscription.refresh_from_db()
    assert baskets.subscription.paused_from is not None
    client.post(url, {"action": "stop", "confirm": "1"})
    baskets.subscription.refresh_from_db()
    assert baskets.subscription.stopped_on is not None


def test_a_funder_reads_only_its_own_statements(baskets: Baskets, login: Callable[..., Client]) -> None:
    client = login(baskets.cast["funder"])
    slug = baskets.territory.slug
    url = reverse("baskets_statement_csv", args=[slug])
    own = client.get(f"{url}?funder={baskets.foundation.pk}&start=2020-01-01&end=2030-01-01")
    assert own.status_code == 200
    other = client.get(f"{url}?funder={baskets.department.pk}&start=2020-01-01&end=2030-01-01")
    assert other.status_code == 404
    page = client.get(reverse("baskets_statements", args=[slug]))
    assert [value for value, _label in page.context["form"].fields["funder"].choices] == [
        baskets.foundation.pk
    ]
