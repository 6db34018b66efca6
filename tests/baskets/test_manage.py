"""The coordinator's pages, API and services for what used to need the administration: gardens, offers, pickup
points and their volunteers, co-financing agreements, the member's part cap; and a funder's payments."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.baskets import accounts, selectors, services
from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    BasketSize,
    DistributionLine,
    FunderPayment,
    Garden,
    PickupPoint,
)
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.core.models import AuditEvent, Role
from grenier.ledger.models import Account

from ..core.test_api import assert_problem, bearer, post
from .conftest import Baskets

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
REFUSED = [who for who in EVERYONE if who != "coordinator"]


def _audited() -> int:
    return AuditEvent.objects.filter(action__startswith="baskets.").count()


def _fields(exc: pytest.ExceptionInfo[Any]) -> set[str]:
    return set(exc.value.errors)


# --- pages ----------------------------------------------------------------------------------------------------------


def _pages(baskets: Baskets) -> dict[str, tuple[str, dict[str, str]]]:
    """Each coordinator page, and a valid form to post to it."""
    slug, garden = baskets.territory.slug, baskets.garden.pk
    thursday = baskets.thursday
    season = {"season_start": (thursday - timedelta(weeks=8)).isoformat(), "season_end": "2100-01-01"}
    season["season_end"] = (thursday + timedelta(weeks=20)).isoformat()
    agreement = {
        "funder": str(baskets.department.pk),
        "share_percent": "10",
        "budget": "500",
        "starts_on": season["season_start"],
        "ends_on": season["season_end"],
        "priority": "3",
    }
    return {
        "garden_new": (
            reverse("baskets_garden_new", args=[slug]),
            {"name": "Jardin du Coteau", "address": "1 rue Haute", "idempotency_key": "page-garden-1"},
        ),
        "garden_edit": (
            reverse("baskets_garden_edit", args=[slug, garden]),
            {"name": "Jardin des Test", "address": "2 rue Basse"},
        ),
        "offer_new": (
            reverse("baskets_offer_new", args=[slug, garden]),
            {"name": "Panier moyen", "size": "medium", "price": "18,50", "weekday": "3", **season},
        ),
        "offer_edit": (
            reverse("baskets_offer_edit", args=[slug, garden, baskets.small.pk]),
            {
                "name": "Petit panier",
                "size": "small",
                "price": "16",
                "weekday": "3",
                "active": "on",
                **season,
            },
        ),
        "point_new": (
            reverse("baskets_point_new", args=[slug, garden]),
            {
                "name": "Marché",
                "weekday": "3",
                "opens_at": "17:30",
                "volunteers": str(baskets.cast["cashier"].pk),
            },
        ),
        "point_edit": (
            reverse("baskets_point_edit", args=[slug, garden, baskets.gare.pk]),
            {"name": "Gare", "weekday": "3", "opens_at": "18:15", "active": "on"},
        ),
        "agreement_new": (
            reverse("baskets_agreement_new", args=[slug, garden]),
            {**agreement, "name": "Convention Ville"},
        ),
        "agreement_edit": (
            reverse("baskets_agreement_edit", args=[slug, garden, baskets.second.pk]),
            {
                **agreement,
                "funder": str(baskets.foundation.pk),
                "name": "Convention Fondation",
                "share_percent": "25",
            },
        ),
        "settings": (
            reverse("baskets_settings", args=[slug]),
            {"member_cap_percent": "25", "warn_weeks": "3"},
        ),
        "funder_payments": (
            reverse("baskets_funder_payments", args=[slug, baskets.department.pk]),
            {"start": "2020-01-01", "end": thursday.isoformat(), "amount": "1", "received_on": "2020-01-01"},
        ),
    }


PAGES = [
    "garden_new",
    "garden_edit",
    "offer_new",
    "offer_edit",
    "point_new",
    "point_edit",
    "agreement_new",
    "agreement_edit",
    "settings",
    "funder_payments",
]


@pytest.mark.parametrize("page", PAGES)
def test_only_a_coordinator_opens_and_posts_each_page(
    baskets: Baskets, login: Callable[..., Client], page: str
) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    url, data = _pages(baskets)[page]
    audited = _audited()
    for who in REFUSED:
        client = login(baskets.cast[who])
        expected = 403 if who in ROLES else 404
        assert client.get(url).status_code == expected, (who, page)
        assert client.post(url, data).status_code == expected, (who, page)
    assert _audited() == audited  # nothing written by anyone refused
    client = login(baskets.cast["coordinator"])
    assert client.get(url).status_code == 200
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _audited() > audited


def test_pages_change_what_they_say(baskets: Baskets, login: Callable[..., Client]) -> None:
    client = login(baskets.cast["coordinator"])
    pages = _pages(baskets)
    for name in (
        "garden_new",
        "offer_new",
        "point_new",
        "agreement_new",
        "offer_edit",
        "settings",
        "point_edit",
    ):
        assert client.post(*pages[name]).status_code == 302, name
    assert Garden.objects.filter(name="Jardin du Coteau", address="1 rue Haute").exists()
    assert BasketOffer.objects.get(name="Panier moyen").price_cents == 1_850
    marche = PickupPoint.objects.get(name="Marché")
    assert list(marche.volunteers.all()) == [baskets.cast["cashier"]] and marche.opens_at == time(17, 30)
    assert Agreement.objects.get(name="Convention Ville").share_bp == 1_000
    assert BasketOffer.objects.get(pk=baskets.small.pk).price_cents == 1_600
    assert selectors.settings_of(baskets.territory).member_cap_bp == 2_500
    baskets.gare.refresh_from_db()
    assert baskets.gare.opens_at == time(18, 15)
    # the same form sent twice records once; another form with a taken name is refused on the name field
    again = client.post(*pages["garden_new"])
    assert again.status_code == 302 and Garden.objects.filter(name="Jardin du Coteau").count() == 1
    taken = client.post(
        pages["garden_new"][0], {"name": "Jardin du Coteau", "idempotency_key": "page-garden-2"}
    )
    assert taken.status_code == 200 and "name" in taken.context["form"].errors
    # a share and an amount at once: refused on the form, nothing recorded
    both = client.post(
        pages["agreement_new"][0],
        {
            **pages["agreement_new"][1],
            "name": "Les deux",
            "amount_per_basket": "2",
            "idempotency_key": "both-1",
        },
    )
    assert both.status_code == 200 and "share_percent" in both.context["form"].errors
    assert not Agreement.objects.filter(name="Les deux").exists()
    # a cap above 100 %
    over = client.post(pages["settings"][0], {"member_cap_percent": "120", "warn_weeks": "3"})
    assert over.status_code == 200 and "member_cap_percent" in over.context["form"].errors


def test_a_volunteer_must_be_a_cashier_of_the_territory(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    client = login(baskets.cast["coordinator"])
    url, data = _pages(baskets)["point_new"]
    response = client.post(url, {**data, "volunteers": str(baskets.cast["member"].pk)})
    assert response.status_code == 200 and "volunteers" in response.context["form"].errors
    assert not PickupPoint.objects.filter(name="Marché").exists()
    with pytest.raises(InvalidInput) as refused:
        services.pickup_point_update(
            pickup_point=baskets.gare,
            name="Gare",
            address="",
            weekday=3,
            opens_at=time(18),
            volunteers=[baskets.cast["social_worker"]],
            active=True,
            actor=None,
        )
    assert _fields(refused) == {"volunteers"}


# --- services: validation, and what an edit never changes ----------------------------------------------------------


def _agreement(baskets: Baskets, **changes: Any) -> dict[str, Any]:
    return {
        "garden": baskets.garden,
        "funder": baskets.department,
        "name": "Convention Ville",
        "share_bp": 1_000,
        "amount_per_basket_cents": None,
        "budget_cents": 50_000,
        "starts_on": baskets.thursday,
        "ends_on": baskets.thursday + timedelta(weeks=10),
        "priority": 3,
        "actor": None,
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_per_basket_cents": 200}, "share_bp"),  # both
        ({"share_bp": None}, "share_bp"),  # neither
        ({"share_bp": 10_001}, "share_bp"),
        ({"share_bp": None, "amount_per_basket_cents": -5}, "amount_per_basket_cents"),
        ({"budget_cents": 0}, "budget_cents"),
        ({"budget_cents": -100}, "budget_cents"),
        ({"ends_on": date(2020, 1, 1)}, "ends_on"),  # before it starts
        ({"starts_on": date(2030, 1, 1), "ends_on": date(2034, 1, 1)}, "ends_on"),  # longer than three years
        ({"starts_on": date(1990, 1, 1), "ends_on": date(1990, 6, 1)}, "starts_on"),
        ({"priority": 0}, "priority"),
        ({"name": " "}, "name"),
    ],
)
def test_an_agreement_is_refused_where_it_makes_no_sense(
    baskets: Baskets, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.agreement_create(**_agreement(baskets, **changes))
    assert field in _fields(refused)
    assert not Agreement.objects.filter(name="Convention Ville").exists()


def test_an_agreement_with_a_fixed_amount_pays_that_amount(baskets: Baskets) -> None:
    Agreement.objects.filter(pk__in=[baskets.first.pk, baskets.second.pk]).update(priority=5)
    fixed = services.agreement_create(
        **_agreement(
            baskets, share_bp=None, amount_per_basket_cents=400, priority=1, idempotency_key="fixed-1"
        )
    )
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    line = DistributionLine.objects.get()
    assert {f.agreement_id: f.amount_cents for f in line.fundings.all()}[fixed.pk] == 400
    assert line.member_part_cents + line.funded_cents + line.short_cents == 1_500


@pytest.mark.parametrize("cap", [-1, 10_001])
def test_the_cap_is_between_0_and_100_percent(baskets: Baskets, cap: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.settings_set(territory=baskets.territory, member_cap_bp=cap, actor=None)
    assert _fields(refused) == {"member_cap_bp"}


def test_a_new_cap_or_price_applies_to_baskets_not_yet_booked(baskets: Baskets) -> None:
    this_week = baskets.thursday
    services.distribution_generate(garden=baskets.garden, day=this_week, actor=None)
    booked = DistributionLine.objects.get(on=this_week)
    entry_legs = sorted(booked.entry.postings.values_list("amount_cents", flat=True))  # type: ignore[union-attr]
    services.settings_set(territory=baskets.territory, member_cap_bp=2_000, actor=None)
    season = {"season_start": baskets.small.season_start, "season_end": baskets.small.season_end}
    services.offer_update(
        offer=baskets.small,
        name="Petit panier",
        price_cents=1_800,
        weekday=3,
        size=BasketSize.SMALL,
        active=True,
        actor=None,
        **season,
    )
    booked.refresh_from_db()
    assert (booked.price_cents, booked.member_part_cents, booked.funded_cents) == (1_500, 450, 1_050)
    assert sorted(booked.entry.postings.values_list("amount_cents", flat=True)) == entry_legs  # type: ignore[union-attr]
    next_week = this_week + timedelta(weeks=1)
    services.distribution_generate(garden=baskets.garden, day=next_week, actor=None)
    later = DistributionLine.objects.get(on=next_week)
    assert (later.price_cents, later.member_part_cents) == (1_800, 360)
    # the season keeps the baskets booked; the day stays while a subscription relies on it
    with pytest.raises(InvalidInput) as refused:
        services.offer_update(
            offer=baskets.small,
            name="Petit panier",
            price_cents=1_800,
            weekday=2,
            size=BasketSize.SMALL,
            active=True,
            actor=None,
            season_start=baskets.small.season_start,
            season_end=next_week - timedelta(days=1),
        )
    assert _fields(refused) == {"weekday", "season_end"}


def test_an_agreement_edit_keeps_what_it_already_paid(baskets: Baskets) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    first = Agreement.objects.get(pk=baskets.first.pk)
    assert first.spent_cents == 750
    current: dict[str, Any] = {
        "agreement": first,
        "funder": baskets.department,
        "name": first.name,
        "share_bp": 5_000,
        "amount_per_basket_cents": None,
        "budget_cents": first.budget_cents,
        "starts_on": first.starts_on,
        "ends_on": first.ends_on,
        "priority": 1,
        "actor": None,
    }
    for changes, field in (
        ({"budget_cents": 700}, "budget_cents"),
        ({"starts_on": baskets.thursday + timedelta(days=1)}, "starts_on"),
        ({"ends_on": baskets.thursday - timedelta(days=1)}, "ends_on"),
        ({"funder": baskets.foundation}, "funder"),
    ):
        with pytest.raises(InvalidInput) as refused:
            services.agreement_update(**{**current, **changes})
        assert field in _fields(refused), changes
    changed = services.agreement_update(**{**current, "budget_cents": 750, "share_bp": 6_000})
    assert (changed.budget_cents, changed.spent_cents, changed.share_bp) == (750, 750, 6_000)
    assert DistributionLine.objects.get().fundings.get(agreement=first).amount_cents == 750


def test_creating_with_a_key_is_idempotent_and_a_taken_name_is_refused(baskets: Baskets) -> None:
    one = services.garden_create(
        territory=baskets.territory, name="Coteau", actor=None, idempotency_key="g-1"
    )
    two = services.garden_create(
        territory=baskets.territory, name="Coteau", actor=None, idempotency_key="g-1"
    )
    assert one.pk == two.pk
    with pytest.raises(Conflict) as refused:
        services.garden_create(territory=baskets.territory, name="Coteau", actor=None, idempotency_key="g-2")
    assert _fields(refused) == {"name"}
    offer: dict[str, Any] = {
        "garden": one,
        "name": "Panier",
        "price_cents": 1_000,
        "season_start": baskets.thursday,
        "season_end": baskets.thursday + timedelta(weeks=4),
        "weekday": 3,
        "actor": None,
    }
    assert services.offer_create(**offer, idempotency_key="o-1") == services.offer_create(
        **offer, idempotency_key="o-1"
    )
    with pytest.raises(Conflict):
        services.offer_create(**offer, idempotency_key="o-2")
    assert BasketOffer.objects.filter(garden=one).count() == 1


def test_a_pickup_point_keeps_its_day_and_stays_open_while_subscriptions_collect_there(
    baskets: Baskets,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.pickup_point_update(
            pickup_point=baskets.halle,
            name="Halle",
            address="",
            weekday=2,
            opens_at=time(17),
            volunteers=[baskets.cast["cashier"]],
            active=False,
            actor=None,
        )
    assert _fields(refused) == {"weekday", "active"}
    closed = services.pickup_point_update(
        pickup_point=baskets.gare,
        name="Gare",
        address="",
        weekday=2,
        opens_at=time(18),
        volunteers=[],
        active=False,
        actor=None,
    )
    assert (closed.weekday, closed.active) == (2, False)


# --- a funder's payment ---------------------------------------------------------------------------------------------


def _pay(baskets: Baskets, amount: int, key: str, **extra: Any) -> FunderPayment:
    return services.funder_payment_record(
        funder=baskets.department,
        start=baskets.thursday - timedelta(days=3),
        end=baskets.thursday + timedelta(days=3),
        amount_cents=amount,
        idempotency_key=key,
        actor=baskets.cast["coordinator"],
        **extra,
    )


def _balance(baskets: Baskets, code: str) -> int:
    return Account.objects.get(territory=baskets.territory, code=code).balance_cents


def test_a_funder_pays_what_its_agreements_owe_never_more(baskets: Baskets) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    agreement = accounts.agreement_code(baskets.first.pk)
    assert _balance(baskets, agreement) == -750  # the department owes its half of the basket
    first = _pay(baskets, 500, "dep-pay-1", reference="VIR 2024-17")
    assert (
        _pay(baskets, 500, "dep-pay-1", reference="VIR 2024-17").pk == first.pk
    )  # the same again: one payment
    with pytest.raises(KeyReused):  # the same key for another payment: refused, nothing recorded
        _pay(baskets, 400, "dep-pay-1", reference="VIR 2024-17")
    assert [(p.agreement_id, p.amount_cents) for p in first.parts.all()] == [(baskets.first.pk, 500)]
    assert _balance(baskets, agreement) == -250 and _balance(baskets, accounts.FUNDERS_IN) == -500
    with pytest.raises(Conflict) as refused:
        _pay(baskets, 251, "dep-pay-2")
    assert _fields(refused) == {"amount_cents"}
    _pay(baskets, 250, "dep-pay-3")
    assert _balance(baskets, agreement) == 0
    with pytest.raises(
        Conflict
    ):  # nothing left: a payment for the same baskets over a wider period is refused
        services.funder_payment_record(
            funder=baskets.department,
            start=date(2000, 1, 1),
            end=baskets.thursday + timedelta(weeks=1),
            amount_cents=1,
            idempotency_key="dep-pay-4",
            actor=None,
        )
    assert FunderPayment.objects.count() == 2
    statement = selectors.statement(
        baskets.department, date(2000, 1, 1), baskets.thursday + timedelta(weeks=1)
    )
    assert (statement.due_cents, statement.paid_cents, statement.left_cents) == (750, 750, 0)
    report = selectors.year_report(baskets.territory, timezone.localdate().year)
    received = {name: got for name, _n, _cents, got in report.partners}
    assert received["Département"] == 750 and report.partners_received_cents == 750
    with pytest.raises(InvalidInput) as wrong:
        _pay(baskets, 1, "dep-pay-5", agreement=baskets.second)  # not the department's agreement
    assert _fields(wrong) == {"agreement"}


def test_a_payment_counts_for_every_period_it_overlaps(baskets: Baskets) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    services.distribution_generate(
        garden=baskets.garden, day=baskets.thursday - timedelta(weeks=1), actor=None
    )
    # the member's basket only began this week: one basket, 750 € of the department's due
    _pay(baskets, 700, "overlap-1")
    week = selectors.funder_dues(baskets.department, baskets.thursday, baskets.thursday)
    assert [(d.due_cents, d.paid_cents, d.left_cents) for d in week] == [(750, 700, 50)]
    wider = selectors.funder_dues(baskets.department, date(2000, 1, 1), baskets.thursday + timedelta(weeks=5))
    assert [d.left_cents for d in wider] == [50]


# --- API ------------------------------------------------------------------------------------------------------------


def _endpoints(baskets: Baskets) -> dict[str, tuple[str, str, Any]]:
    garden = baskets.garden.pk
    season = {
        "season_start": baskets.small.season_start.isoformat(),
        "season_end": baskets.small.season_end.isoformat(),
    }
    agreement = {
        "funder": baskets.department.pk,
        "share_bp": 1_000,
        "budget_cents": 50_000,
        "starts_on": season["season_start"],
        "ends_on": season["season_end"],
        "priority": 3,
    }
    return {
        "gardens": ("get", "/api/v1/baskets/gardens", None),
        "garden_new": (
            "post",
            "/api/v1/baskets/gardens",
            {"name": "Jardin API", "idempotency_key": "api-garden-1"},
        ),
        "garden_edit": (
            "put",
            f"/api/v1/baskets/gardens/{garden}",
            {"name": "Jardin des Test", "address": "ici"},
        ),
        "offer_new": (
            "post",
            f"/api/v1/baskets/gardens/{garden}/offers",
            {
                "name": "Panier API",
                "price_cents": 1_700,
                "weekday": 3,
                "idempotency_key": "api-offer-1",
                **season,
            },
        ),
        "offer_edit": (
            "put",
            f"/api/v1/baskets/gardens/{garden}/offers/{baskets.large.pk}",
            {"name": "Grand panier", "size": "large", "price_cents": 2_400, "weekday": 3, **season},
        ),
        "point_new": (
            "post",
            f"/api/v1/baskets/gardens/{garden}/pickup-points",
            {"name": "Point API", "weekday": 3, "opens_at": "17:00", "idempotency_key": "api-point-1"},
        ),
        "point_edit": (
            "put",
            f"/api/v1/baskets/gardens/{garden}/pickup-points/{baskets.gare.pk}",
            {"name": "Gare", "weekday": 3, "opens_at": "18:00", "volunteers": [baskets.cast["cashier"].pk]},
        ),
        "agreement_new": (
            "post",
            f"/api/v1/baskets/gardens/{garden}/agreements",
            {**agreement, "name": "Convention API", "idempotency_key": "api-agreement-1"},
        ),
        "agreement_edit": (
            "put",
            f"/api/v1/baskets/gardens/{garden}/agreements/{baskets.second.pk}",
            {**agreement, "funder": baskets.foundation.pk, "name": "Convention Fondation", "priority": 2},
        ),
        "settings": ("get", "/api/v1/baskets/settings", None),
        "settings_edit": ("put", "/api/v1/baskets/settings", {"member_cap_bp": 2_500, "warn_weeks": 2}),
        "funder_payment": (
            "post",
            "/api/v1/baskets/funder-payments",
            {
                "funder": baskets.department.pk,
                "from": "2020-01-01",
                "to": baskets.thursday.isoformat(),
                "amount_cents": 300,
                "idempotency_key": "api-funder-pay-1",
            },
        ),
    }


def _send(client: Client, baskets: Baskets, who: str, method: str, url: str, body: Any) -> Any:
    if who in ROLES:
        headers = bearer(baskets.cast, who)
    else:
        client.force_login(baskets.cast[who])
        headers = {"X-Grenier-Territory": baskets.territory.slug}
    if method == "get":
        return client.get(url, headers=headers)
    if method == "put":
        return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)
    return post(client, url, body, headers=headers)


@pytest.mark.parametrize(
    "endpoint",
    [
        "gardens",
        "garden_new",
        "garden_edit",
        "offer_new",
        "offer_edit",
        "point_new",
        "point_edit",
        "agreement_new",
        "agreement_edit",
        "settings",
        "settings_edit",
        "funder_payment",
    ],
)
def test_only_a_coordinator_calls_each_endpoint(baskets: Baskets, client: Client, endpoint: str) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    method, url, body = _endpoints(baskets)[endpoint]
    audited = _audited()
    for who in REFUSED:
        assert_problem(_send(client, baskets, who, method, url, body), 403 if who in ROLES else 404)
    assert _audited() == audited
    response = _send(client, baskets, "coordinator", method, url, body)
    assert response.status_code in (200, 201), response.content
    if method == "post":  # sent again with the same key: the same thing, recorded once
        again = _send(client, baskets, "coordinator", method, url, body)
        assert again.json()["id"] == response.json()["id"]


def test_the_api_refuses_what_the_pages_refuse(baskets: Baskets, client: Client) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    endpoints = _endpoints(baskets)
    _m, url, body = endpoints["agreement_new"]
    both = _send(client, baskets, "coordinator", "post", url, {**body, "amount_per_basket_cents": 100})
    assert "share_bp" in {e["field"] for e in assert_problem(both, 422)["errors"]}
    _m, url, body = endpoints["settings_edit"]
    over = _send(client, baskets, "coordinator", "put", url, {**body, "member_cap_bp": 10_001})
    assert "member_cap_bp" in {e["field"] for e in assert_problem(over, 422)["errors"]}
    _m, url, body = endpoints["funder_payment"]
    too_much = _send(client, baskets, "coordinator", "post", url, {**body, "amount_cents": 751})
    assert "amount_cents" in {e["field"] for e in assert_problem(too_much, 409)["errors"]}
    paid = _send(client, baskets, "coordinator", "post", url, {**body, "amount_cents": 750})
    assert paid.status_code == 201 and paid.json()["left_cents"] == 0
    statement = client.get(
        f"/api/v1/baskets/statements?funder={baskets.department.pk}&from=2020-01-01&to=2030-12-31",
        headers=bearer(baskets.cast, "coordinator"),
    ).json()
    assert (statement["funded_cents"], statement["paid_cents"], statement["left_to_pay_cents"]) == (
        750,
        750,
        0,
    )
    elsewhere = baskets.garden.pk + 1000
    assert_problem(
        _send(client, baskets, "coordinator", "put", f"/api/v1/baskets/gardens/{elsewhere}", {"name": "X"}),
        404,
    )
