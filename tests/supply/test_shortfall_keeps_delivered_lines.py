"""A shortfall re-plans the rest of the week around the lines already delivered or invoiced: those stay exactly as
they are (grenier.supply.services.shortfall_report)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from grenier.core.errors import Conflict, InvalidInput
from grenier.supply import services
from grenier.supply.models import Availability, Distance, PlanChange, PlanLine, Shortfall, SupplyWeek
from grenier.supply.quantities import format_quantity

from .conftest import Pial
from .test_services import check_plan_respects_declarations, declare, invoice, lines_of, published, week_of


def carrots_by_hand(pial: Pial) -> tuple[SupplyWeek, PlanLine]:
    """A published week whose carrots go: Pic → school on Monday (15 kg), Saules → school on Thursday (15 kg),
    Pic → nursing home on Tuesday (15 kg). Pic is 40 km from the school, next door to the nursing home."""
    coordinator, carrots = pial.cast["coordinator"], pial.products["carottes"]
    week = published(pial, 1)  # next week: no day is past yet, whatever day it is today
    for line in PlanLine.objects.filter(week=week, product=carrots):
        services.plan_line_set(
            week=week,
            producer=line.producer,
            kitchen=line.kitchen,
            product=carrots,
            day=line.day,
            quantity=0,
            actor=coordinator,
        )
    monday, tuesday, thursday = week.days[0], week.days[1], week.days[3]
    for producer, kitchen, day in [
        (pial.pic, pial.school, monday),
        (pial.saules, pial.school, thursday),
        (pial.pic, pial.ehpad, tuesday),
    ]:
        services.plan_line_set(
            week=week,
            producer=producer,
            kitchen=kitchen,
            product=carrots,
            day=day,
            quantity=15_000,
            actor=coordinator,
        )
    Distance.objects.create(producer=pial.pic, kitchen=pial.school, km=Decimal("40"))
    return week, PlanLine.objects.get(
        week=week, producer=pial.pic, kitchen=pial.school, product=carrots, day=monday
    )


@pytest.mark.parametrize("held_by", ["receipt", "invoice"])
def test_a_shortfall_leaves_delivered_and_invoiced_lines_as_they_are(pial: Pial, held_by: str) -> None:
    carrots = pial.products["carottes"]
    week, monday_line = carrots_by_hand(pial)
    if held_by == "receipt":
        services.receipt_record(line=monday_line, received_quantity=14_000, actor=pial.cast["kitchen"])
    else:
        invoice(pial, monday_line)
    before = lines_of(week)
    changes_before = PlanChange.objects.filter(week=week).count()

    # on Wednesday Pic has no more carrots than the 15 kg it already took to the school on Monday
    shortfall = services.shortfall_report(
        week=week,
        producer=pial.pic,
        product=carrots,
        available=15_000,
        idempotency_key="wednesday",
        actor=pial.cast["coordinator"],
    )

    after = PlanLine.objects.get(pk=monday_line.pk)
    assert (after.quantity, after.solver_quantity, after.received_quantity, after.adjusted) == (
        monday_line.quantity,
        monday_line.solver_quantity,
        monday_line.received_quantity if held_by == "invoice" else 14_000,
        monday_line.adjusted,
    )
    now = lines_of(week)
    # the rest is re-planned: Pic's Tuesday carrots go to the other farms, everyone's demand still met
    assert (pial.pic.pk, pial.ehpad.pk, carrots.pk, week.days[1]) not in now
    assert sum(q for (p, _k, g, _d), q in now.items() if p == pial.pic.pk and g == carrots.pk) == 15_000
    assert sum(q for (_p, k, g, d), q in now.items() if k == pial.ehpad.pk and g == carrots.pk) == 15_000
    assert sum(q for (_p, k, g, _d), q in now.items() if g == carrots.pk) == 45_000
    assert {k: q for k, q in before.items() if k[2] != carrots.pk} == {
        k: q for k, q in now.items() if k[2] != carrots.pk
    }
    changes = PlanChange.objects.filter(week=week, shortfall=shortfall)
    assert changes.count() == PlanChange.objects.filter(week=week).count() - changes_before > 0
    assert not changes.filter(kitchen=pial.school, day=week.days[0]).exists()
    assert Availability.objects.get(week=week, producer=pial.pic, product=carrots).quantity == 15_000
    check_plan_respects_declarations(week)
    # the figures are of the whole week again: the Monday line counts as supplied
    week.refresh_from_db()
    assert week.solver["demand_total"] >= 45_000
    assert (
        week.solver["supplied_total"] == week.solver["demand_total"]
    )  # plenty: all met, Monday's line counted
    assert not [e for e in week.solver["explanations"] if e["product"] == carrots.pk]


def test_a_shortfall_below_what_was_already_delivered_is_refused(pial: Pial) -> None:
    carrots = pial.products["carottes"]
    week, monday_line = carrots_by_hand(pial)
    services.receipt_record(line=monday_line, received_quantity=15_000, actor=pial.cast["kitchen"])
    before = lines_of(week)
    with pytest.raises(InvalidInput) as refused:
        services.shortfall_report(
            week=week,
            producer=pial.pic,
            product=carrots,
            available=10_000,
            idempotency_key="too-low",
            actor=pial.cast["coordinator"],
        )
    assert "available" in refused.value.errors
    assert lines_of(week) == before
    assert Availability.objects.get(week=week, producer=pial.pic, product=carrots).quantity == 60_000


def test_a_shortfall_refused_as_too_high_names_the_declaration_in_sales_units(pial: Pial) -> None:
    week, carrots = published(pial, 1), pial.products["carottes"]
    with pytest.raises(InvalidInput) as refused:
        services.shortfall_report(
            week=week,
            producer=pial.saules,
            product=carrots,
            available=60_000,
            idempotency_key="too-high",
            actor=pial.cast["producer"],
        )
    [message] = refused.value.errors["available"]
    assert format_quantity(60_000, carrots) in message and "60000" not in message


def test_a_shortfall_leaves_the_days_already_past_as_they_are(pial: Pial) -> None:
    coordinator, carrots = pial.cast["coordinator"], pial.products["carottes"]
    week, _monday_line = carrots_by_hand(pial)
    monday, wednesday, thursday = week.days[0], week.days[2], week.days[3]
    # Monday's carrots never left Pic: the school's Monday demand (15 kg) stayed unmet
    services.plan_line_set(
        week=week,
        producer=pial.pic,
        kitchen=pial.school,
        product=carrots,
        day=monday,
        quantity=0,
        actor=coordinator,
    )
    before = lines_of(week)

    # on Wednesday Saules has only 5 kg left of the 15 kg it brings the school on Thursday
    shortfall = services.shortfall_report(
        week=week,
        producer=pial.saules,
        product=carrots,
        available=5_000,
        idempotency_key="wednesday",
        actor=pial.cast["producer"],
        reported_on=wednesday,
    )
    now = lines_of(week)
    assert {k: q for k, q in now.items() if k[3] < wednesday} == {
        k: q for k, q in before.items() if k[3] < wednesday
    }
    assert not any(k[2] == carrots.pk and k[3] == monday for k in now)  # no late delivery on Monday
    changes = PlanChange.objects.filter(shortfall=shortfall)
    assert changes.exists() and not changes.filter(day__lt=wednesday).exists()
    thursday_carrots = [
        q for (_p, k, g, d), q in now.items() if (k, g, d) == (pial.school.pk, carrots.pk, thursday)
    ]
    assert sum(thursday_carrots) == 15_000  # the others cover what Saules lost
    assert timezone.localtime(shortfall.reported_at).date() == wednesday


def test_a_shortfall_on_a_week_whose_delivery_days_are_all_past_is_refused(pial: Pial) -> None:
    carrots, grower = pial.products["carottes"], pial.cast["producer"]
    week = published(pial, 1)
    before = lines_of(week)
    saturday = week.days[5]  # the last delivery was on Thursday
    with pytest.raises(Conflict):
        services.shortfall_report(
            week=week,
            producer=pial.saules,
            product=carrots,
            available=0,
            idempotency_key="saturday",
            actor=grower,
            reported_on=saturday,
        )
    last_week = published(pial, -1)  # by today's date: every day of last week is past
    with pytest.raises(Conflict):
        services.shortfall_report(
            week=last_week,
            producer=pial.saules,
            product=carrots,
            available=0,
            idempotency_key="late",
            actor=grower,
        )
    assert not Shortfall.objects.exists() and lines_of(week) == before
    assert Availability.objects.get(week=week, producer=pial.saules, product=carrots).quantity == 60_000


def test_after_a_shortfall_the_reasons_give_the_whole_weeks_figures(pial: Pial) -> None:
    coordinator, carrots = pial.cast["coordinator"], pial.products["carottes"]
    week = week_of(pial, 1)
    declare(pial, week, pial.saules, {"carottes": 20_000})
    declare(pial, week, pial.pic, {"carottes": 20_000})
    declare(pial, week, pial.terrasses, {"carottes": 10_000})
    services.plan_compute(week=week, actor=coordinator)
    services.plan_publish(week=week, actor=coordinator)
    week.refresh_from_db()
    assert not [e for e in week.solver["explanations"] if e["product"] == carrots.pk]  # 50 kg for 45 kg asked

    services.shortfall_report(
        week=week, producer=pial.pic, product=carrots, available=5_000, idempotency_key="k", actor=coordinator
    )
    week.refresh_from_db()
    declared = sum(a.quantity for a in Availability.objects.filter(week=week, product=carrots))
    assert declared == 35_000
    short = [e for e in week.solver["explanations"] if e["product"] == carrots.pk]
    assert sum(e["unmet"] for e in short) == 10_000
    for e in short:  # declared after the shortfall, asked by every kitchen on every day
        assert e["reason_code"] == "not_enough_declared"
        assert (e["numbers"]["declared"], e["numbers"]["asked"]) == (35_000, 45_000)
        assert e["numbers"]["left"] == 0
