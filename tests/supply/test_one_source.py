"""One source for what the week page shows: unmet demand worded once (``supply.reasons``) for the page, the API and
the command; each farm's share and carried gap as the planner used them (``services.week_shares``)."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from grenier.core.models import AuditEvent
from grenier.governance import kinds
from grenier.supply import services
from grenier.supply.models import ProducerShare, SupplyWeek
from grenier.supply.views import _kg

from .conftest import Pial
from .test_admit import EMAIL, decided
from .test_api import MONDAY, URL, open_week, who
from .test_cli import WEEK, run
from .test_services import declare, plenty

pytestmark = pytest.mark.django_db


def lot_too_big(pial: Pial) -> SupplyWeek:
    """45 kg of carrots asked; Saules declares 44 kg, Le Pic 50 kg in a lot of 50 kg: 1 kg is left unmet."""
    week = open_week(pial)
    declare(pial, week, pial.saules, {"carottes": 44_000})
    declare(pial, week, pial.pic, {"carottes": 50_000}, lot=50_000)
    services.plan_compute(week=week, actor=None)
    return week


def test_the_page_the_api_and_the_command_word_an_unmet_line_alike_naming_the_farms_lot(
    pial: Pial, client: Client, login
) -> None:
    lot_too_big(pial)
    carrots = pial.products["carottes"]
    body = client.get(URL, headers=who(pial, "coordinator")).json()
    [short] = [x for x in body["explanations"] if x["unmet"] and x["product"] == carrots.pk]
    assert (short["product"], short["reason_code"]) == (carrots.pk, "minimum_lots")
    reason = short["reason"]
    assert "Jardin du Pic" in reason and "50" in reason  # the farm left out and its lot

    page = login(pial.cast["coordinator"]).get(reverse("supply_week", args=[pial.cast.territory.slug, WEEK]))
    assert html.escape(reason) in page.content.decode()

    out, _err = run("plan", "--monday", WEEK)  # computes the same plan again and lists what is unmet
    assert reason in out


def test_the_week_page_shows_the_shares_and_gaps_the_planner_used(pial: Pial, login) -> None:
    coordinator = pial.cast["coordinator"]
    # a published week before, so that the farms carry gaps into this one; Les Terrasses' share then drops to 0
    previous = services.week_ensure(
        territory=pial.cast.territory, monday=MONDAY - timedelta(days=7), actor=None
    )
    declare(pial, previous, pial.saules, {"carottes": 60_000, "poireaux": 40_000, "salade": 80, "radis": 40})
    declare(pial, previous, pial.terrasses, {"carottes": 10_000})
    services.plan_compute(week=previous, actor=None)
    services.plan_publish(week=previous, actor=None)
    ProducerShare.objects.create(producer=pial.terrasses, share_bp=0, valid_from=MONDAY)
    week = open_week(pial)
    plenty(pial, week)  # the three farms declare, Les Terrasses with no share in force
    services.plan_compute(week=week, actor=coordinator)
    week.refresh_from_db()
    shares, gaps = services.week_shares(week)
    assert shares[pial.terrasses.pk] == 0 and any(abs(g) > 1000 for g in gaps.values())

    page = login(coordinator).get(reverse("supply_week", args=[pial.cast.territory.slug, WEEK]))
    rows = {row["producer"].pk: row for row in page.context["farm_rows"]}
    solver = {r["producer"]: r for r in week.solver["producers"]}
    assert set(rows) == set(solver) == {pial.saules.pk, pial.pic.pk, pial.terrasses.pk}
    for pk, used in solver.items():
        assert rows[pk]["share"] == round(used["share"] * 100, 1)
        assert rows[pk]["target"] == _kg(max(0.0, used["target"]))
        assert rows[pk]["gap_before"] == _kg(abs(gaps.get(pk, 0.0)))
        assert rows[pk]["gap_after"] == _kg(abs(used["new_gap"]))


def test_adding_a_person_to_a_farm_is_audited_once(pial: Pial) -> None:
    person = pial.other_grower
    assert services.producer_person_add(producer=pial.saules, user=person, actor=pial.cast["coordinator"])
    assert not services.producer_person_add(producer=pial.saules, user=person, actor=pial.cast["coordinator"])
    assert set(pial.saules.users.all()) == {pial.cast["producer"], person}
    events = AuditEvent.objects.filter(action="supply.producer.person", subject=f"producer:{pial.saules.pk}")
    assert [(e.actor, e.data["user"]) for e in events] == [(pial.cast["coordinator"], person.pk)]


def test_admitting_a_person_to_an_existing_farm_goes_through_the_service(pial: Pial, monkeypatch) -> None:
    calls: list[tuple[int, str]] = []
    add = services.producer_person_add

    def spy(**kwargs: Any) -> bool:
        calls.append((kwargs["producer"].pk, kwargs["user"].email))
        return add(**kwargs)

    monkeypatch.setattr(services, "producer_person_add", spy)
    decision = decided(pial, {"email": EMAIL, "farm": "Ferme des Saules"})
    assert decision.effect_status == "applied", decision.effect_error
    assert calls == [(pial.saules.pk, EMAIL)]
    assert pial.saules.users.filter(email=EMAIL).exists()
    events = AuditEvent.objects.filter(action="supply.producer.person", subject=f"producer:{pial.saules.pk}")
    assert events.count() == 1 and events.get().data["decided_by"]
    assert kinds.REGISTRY["producer_admit"]  # the kind is registered
