"""Referrals to the common fund: a social worker refers a household with its consent, a coordinator takes it in or
declines; the fund's credit goes only to households in the fund (a household a social worker referred to a garden
is not, until taken in). Seen only by that social worker and the coordinators: service, pages, API and command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from grenier.core import services as core_services
from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.core.models import Household, Role
from grenier.core.months import shift_month
from grenier.core.services import NewHousehold
from grenier.fund import referrals, services
from grenier.fund.models import FundReferral, MonthLine, ReferralStatus

from ..conftest import Cast, make_user
from ..core.test_api import assert_problem, bearer, post
from .conftest import Fund

PARIS = ZoneInfo("Europe/Paris")
ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]


def _refer(
    cast: Cast, key: str = "fund-ref-0001", who: str = "social_worker", **kwargs: object
) -> FundReferral:
    arguments: dict[str, object] = {
        "consent": True,
        "new_household": NewHousehold(name="Foyer Orienté", persons=3),
    }
    arguments.update(kwargs)
    return referrals.referral_create(
        territory=cast.territory,
        social_worker=cast[who],
        idempotency_key=key,
        **arguments,  # type: ignore[arg-type]
    )


def _garden_only_household(cast: Cast) -> Household:
    """A household a social worker referred to a garden: a member of the territory, not of the fund."""
    return core_services.household_join(
        territory=cast.territory,
        name="Foyer du Jardin",
        persons=[core_services.PersonInput("Rosa")],
        actor=cast["social_worker"],
        in_fund=False,
    )


# --- the rules ------------------------------------------------------------------------------------------------------


def test_a_new_household_is_created_only_when_a_coordinator_takes_it_in(fund: Fund) -> None:
    cast = fund.cast
    before = Household.objects.count()
    referral = _refer(
        cast,
        new_household=NewHousehold(
            name="Foyer Orienté", first_name="Nadia", persons=3, phone="06 11 22 33 44"
        ),
    )
    assert referral.status == ReferralStatus.PENDING and referral.household is None
    assert Household.objects.count() == before  # nothing for the fund to pay yet
    confirmed = referrals.referral_confirm(referral=referral, actor=cast["coordinator"])
    household = confirmed.household
    assert confirmed.status == ReferralStatus.CONFIRMED and household is not None
    assert household.name == "Foyer Orienté" and household.persons.count() == 3
    assert household.phone == "06 11 22 33 44" and household.fund_joined_on == date(2026, 11, 25)
    assert household.persons.first().first_name == "Nadia"  # type: ignore[union-attr]
    # Confirming again changes nothing (a double click, a retry).
    again = referrals.referral_confirm(referral=referral, actor=cast["coordinator"])
    assert again.household_id == household.pk and Household.objects.count() == before + 1


def test_the_household_taken_in_gets_the_next_month_s_credit_and_a_garden_only_one_does_not(
    fund: Fund,
) -> None:
    cast = fund.cast
    garden_only = _garden_only_household(cast)
    referral = referrals.referral_confirm(referral=_refer(cast), actor=cast["coordinator"])
    next_month = shift_month(fund.month, 1)
    with time_machine.travel(datetime(next_month.year, next_month.month, 2, 9, tzinfo=PARIS)):
        services.monthly_run(territory=cast.territory, month=next_month, actor=cast["coordinator"])
    paid = set(MonthLine.objects.filter(month=next_month).values_list("household_id", flat=True))
    assert referral.household_id in paid
    assert garden_only.pk not in paid
    assert services.credit_balance(garden_only) == 0


def test_a_garden_member_referred_by_card_is_in_the_fund_from_the_day_it_is_taken_in(fund: Fund) -> None:
    cast = fund.cast
    garden_only = _garden_only_household(cast)
    referral = _refer(cast, card=garden_only.card_number, new_household=None)
    assert referral.household_id == garden_only.pk
    referrals.referral_confirm(referral=referral, actor=cast["coordinator"])
    garden_only.refresh_from_db()
    assert garden_only.fund_joined_on == date(2026, 11, 25)
    assert garden_only.pk in set(
        services.active_households(cast.territory, fund.month).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"consent": False}, "consent"),
        ({"new_household": NewHousehold(name="  ")}, "name"),
        ({"new_household": NewHousehold(name="Foyer", persons=0)}, "persons"),
        ({"new_household": None}, "card"),  # neither a card nor a new household
        ({"card": "0000 0000 0000", "new_household": None}, "card"),
        ({"card": "1234"}, "card"),  # both a card and a new household
    ],
)
def test_a_referral_is_refused_with_the_field_to_fix(
    cast: Cast, arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _refer(cast, **arguments)  # type: ignore[arg-type]
    assert field in refused.value.errors
    assert not FundReferral.objects.exists()


def test_a_household_already_in_the_fund_or_already_referred_is_refused(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as refused:
        _refer(cast, card=cast.household.card_number, new_household=None)
    assert refused.value.errors["card"] == ["Ce foyer est déjà dans la caisse commune."]
    garden_only = _garden_only_household(cast)
    _refer(cast, key="fund-ref-0001", card=garden_only.card_number, new_household=None)
    with pytest.raises(Conflict):
        _refer(cast, key="fund-ref-0002", card=garden_only.card_number, new_household=None)


def test_the_same_key_answers_the_same_referral_and_another_request_under_it_is_refused(cast: Cast) -> None:
    first = _refer(cast)
    assert _refer(cast).pk == first.pk
    with pytest.raises(KeyReused):
        _refer(cast, new_household=NewHousehold(name="Un autre foyer"))
    assert FundReferral.objects.count() == 1


def test_declining_says_why_keeps_no_contact_and_is_decided_once(cast: Cast) -> None:
    referral = _refer(
        cast,
        new_household=NewHousehold(name="Foyer Orienté", phone="06 11 22 33 44", email="nadia@example.org"),
    )
    with pytest.raises(InvalidInput):
        referrals.referral_decline(referral=referral, actor=cast["coordinator"], reason=" ")
    declined = referrals.referral_decline(
        referral=referral, actor=cast["coordinator"], reason="Le foyer habite hors du territoire."
    )
    assert declined.status == ReferralStatus.DECLINED and declined.reason.startswith("Le foyer")
    assert declined.phone == "" and declined.email == "" and declined.household is None
    with pytest.raises(Conflict):
        referrals.referral_confirm(referral=referral, actor=cast["coordinator"])
    assert not Household.objects.filter(name="Foyer Orienté").exists()


def test_only_its_social_worker_withdraws_a_referral(cast: Cast) -> None:
    referral = _refer(cast)
    with pytest.raises(Forbidden):
        referrals.referral_withdraw(referral=referral, actor=cast["coordinator"])
    withdrawn = referrals.referral_withdraw(referral=referral, actor=cast["social_worker"])
    assert withdrawn.status == ReferralStatus.WITHDRAWN
    assert referrals.referral_withdraw(referral=referral, actor=cast["social_worker"]).pk == referral.pk


def test_a_household_that_left_cannot_be_taken_in(cast: Cast) -> None:
    garden_only = _garden_only_household(cast)
    referral = _refer(cast, card=garden_only.card_number, new_household=None)
    core_services.household_leave(household=garden_only, actor=cast["coordinator"])
    with pytest.raises(Conflict):
        referrals.referral_confirm(referral=referral, actor=cast["coordinator"])
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING  # nothing half done


# --- pages ------------------------------------------------------------------------------------------------------------


def _another_social_worker(cast: Cast) -> FundReferral:
    other = make_user("autre-ts@test.grenier", "Autre travailleuse sociale")
    core_services.role_grant(user=other, territory=cast.territory, role=Role.SOCIAL_WORKER)
    return referrals.referral_create(
        territory=cast.territory,
        social_worker=other,
        consent=True,
        idempotency_key="fund-ref-other",
        new_household=NewHousehold(name="Foyer Caché"),
    )


@pytest.mark.parametrize("who", EVERYONE)
def test_who_opens_the_referrals_pages(cast: Cast, login: Callable[..., Client], who: str) -> None:
    referral = _refer(cast)
    slug = cast.territory.slug
    pages = {
        reverse("fund_referrals", args=[slug]): {"coordinator", "social_worker"},
        reverse("fund_referral_new", args=[slug]): {"social_worker"},
        reverse("fund_referral", args=[slug, referral.pk]): {"coordinator", "social_worker"},
    }
    client = login(cast[who])
    for url, allowed in pages.items():
        expected = 200 if who in allowed else 403 if who in ROLES else 404
        assert client.get(url).status_code == expected, (who, url)


def test_a_social_worker_sees_only_their_own_referrals(cast: Cast, login: Callable[..., Client]) -> None:
    mine = _refer(cast)
    theirs = _another_social_worker(cast)
    client = login(cast["social_worker"])
    listing = client.get(reverse("fund_referrals", args=[cast.territory.slug])).content.decode()
    assert "Foyer Orienté" in listing and "Foyer Caché" not in listing
    assert client.get(reverse("fund_referral", args=[cast.territory.slug, theirs.pk])).status_code == 404
    coordinator = login(cast["coordinator"])
    listing = coordinator.get(reverse("fund_referrals", args=[cast.territory.slug])).content.decode()
    assert "Foyer Orienté" in listing and "Foyer Caché" in listing
    assert mine.pk != theirs.pk


def test_the_journey_through_the_pages(fund: Fund, login: Callable[..., Client]) -> None:
    cast = fund.cast
    slug = cast.territory.slug
    social = login(cast["social_worker"])
    form = {"name": "Foyer Lune", "first_name": "Inès", "persons": "2", "phone": "", "email": "", "card": ""}
    refused = social.post(
        reverse("fund_referral_new", args=[slug]), {**form, "idempotency_key": "page-ref-1"}
    )
    assert refused.status_code == 200 and 'id="id_consent"' in refused.content.decode()
    assert not FundReferral.objects.exists()
    sent = social.post(
        reverse("fund_referral_new", args=[slug]), {**form, "consent": "on", "idempotency_key": "page-ref-2"}
    )
    referral = FundReferral.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("fund_referral", args=[slug, referral.pk])
    # The social worker cannot take the household in themselves.
    assert social.post(sent["Location"], {"action": "confirm"}).status_code == 403
    coordinator = login(cast["coordinator"])
    home = coordinator.get(reverse("territory_home", args=[slug])).content.decode()
    assert "1 orientation vers la caisse commune attend votre décision" in home
    page = coordinator.get(sent["Location"]).content.decode()
    assert 'id="confirm"' in page and 'id="decline"' in page
    assert coordinator.post(sent["Location"], {"action": "decline", "reason": ""}).status_code == 200
    done = coordinator.post(sent["Location"], {"action": "confirm"})
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CONFIRMED and referral.household is not None
    social = login(cast["social_worker"])
    page = social.get(sent["Location"]).content.decode()
    assert referral.household.card_number[:4] in page.replace(" ", "")


def test_a_social_worker_reaches_the_referrals_from_the_main_navigation(
    cast: Cast, login: Callable[..., Client]
) -> None:
    page = (
        login(cast["social_worker"])
        .get(reverse("territory_home", args=[cast.territory.slug]))
        .content.decode()
    )
    assert reverse("fund_referrals", args=[cast.territory.slug]) in page
    assert reverse("fund_referral_new", args=[cast.territory.slug]) in page
    assert f'href="{reverse("fund_dashboard", args=[cast.territory.slug])}"' not in page  # no figures to see


# --- API ----------------------------------------------------------------------------------------------------------------


BODY = {"consent": True, "name": "Foyer API", "persons": 2, "idempotency_key": "api-fund-ref-1"}


@pytest.mark.parametrize("who", ROLES)
def test_who_may_call_the_referrals_api(cast: Cast, client: Client, who: str) -> None:
    referral = _refer(cast)
    headers = bearer(cast, who)
    listing = client.get("/api/v1/fund/referrals", headers=headers)
    one = client.get(f"/api/v1/fund/referrals/{referral.pk}", headers=headers)
    created = post(client, "/api/v1/fund/referrals", BODY, headers=headers)
    if who in {"coordinator", "social_worker"}:
        assert listing.status_code == 200 and one.status_code == 200
    else:
        assert_problem(listing, 403)
        assert_problem(one, 403)
    if who == "social_worker":
        assert created.status_code == 201
    else:
        assert_problem(created, 403)
    confirm = post(client, f"/api/v1/fund/referrals/{referral.pk}/confirm", {}, headers=headers)
    if who == "coordinator":
        assert confirm.status_code == 200 and confirm.json()["status"] == "confirmed"
        assert confirm.json()["card_number"]
    else:
        assert_problem(confirm, 403)


def test_the_api_hides_another_social_worker_s_referral_and_answers_bad_input(
    cast: Cast, client: Client
) -> None:
    theirs = _another_social_worker(cast)
    headers = bearer(cast, "social_worker")
    assert_problem(client.get(f"/api/v1/fund/referrals/{theirs.pk}", headers=headers), 404)
    assert_problem(post(client, f"/api/v1/fund/referrals/{theirs.pk}/withdraw", {}, headers=headers), 404)
    assert client.get("/api/v1/fund/referrals", headers=headers).json() == []
    assert_problem(post(client, "/api/v1/fund/referrals", {**BODY, "consent": False}, headers=headers), 422)
    assert_problem(post(client, "/api/v1/fund/referrals", {**BODY, "persons": 99}, headers=headers), 422)
    assert_problem(client.get("/api/v1/fund/referrals?status=lost", headers=headers), 422)
    coordinator = bearer(cast, "coordinator")
    assert_problem(post(client, f"/api/v1/fund/referrals/{theirs.pk}/decline", {}, headers=coordinator), 422)
    declined = post(
        client,
        f"/api/v1/fund/referrals/{theirs.pk}/decline",
        {"reason": "Hors territoire"},
        headers=coordinator,
    )
    assert declined.status_code == 200 and declined.json()["reason"] == "Hors territoire"
    assert_problem(post(client, f"/api/v1/fund/referrals/{theirs.pk}/confirm", {}, headers=coordinator), 409)


def test_the_api_answers_a_retry_with_the_same_referral(cast: Cast, client: Client) -> None:
    headers = bearer(cast, "social_worker")
    first = post(client, "/api/v1/fund/referrals", BODY, headers=headers)
    again = post(client, "/api/v1/fund/referrals", BODY, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert_problem(post(client, "/api/v1/fund/referrals", {**BODY, "name": "Autre"}, headers=headers), 409)


# --- command ------------------------------------------------------------------------------------------------------------


def test_the_command_lists_and_decides(cast: Cast) -> None:
    referral = _refer(cast)
    out = StringIO()
    call_command("fund", "referrals", "--territory", "vallee", stdout=out)
    assert "Foyer Orienté" in out.getvalue() and "1 referrals." in out.getvalue()
    with pytest.raises(CommandError, match="not a coordinator"):
        call_command(
            "fund",
            "referral-confirm",
            str(referral.pk),
            "--by",
            "social_worker@test.grenier",
            "--territory",
            "vallee",
        )
    out = StringIO()
    call_command(
        "fund",
        "referral-confirm",
        str(referral.pk),
        "--by",
        "coordinator@test.grenier",
        "--territory",
        "vallee",
        stdout=out,
    )
    assert "is in the common fund" in out.getvalue()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CONFIRMED and referral.decided_by == cast["coordinator"]
