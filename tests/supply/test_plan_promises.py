"""The weekly plan keeps its promises through the services (issue 12), on both databases: demand first even with
minimum lots, a re-plan of a week large enough for column generation, contracts that name farms, quantities the
planner cannot count refused at entry, and each stage's figures kept with the week and shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from grenier.core.errors import InvalidInput
from grenier.supply import optimiser, selectors, services
from grenier.supply.models import PlanChange, PlanLine, Producer, SupplyWeek

from .conftest import Pial
from .test_services import PLENTY, declare, lines_of, planned

pytestmark = pytest.mark.django_db


def next_week(pial: Pial) -> SupplyWeek:
    """Next week: no delivery day is past yet, whatever the day of the pinned clock."""
    return services.week_ensure(
        territory=pial.cast.territory, monday=pial.monday + timedelta(weeks=1), actor=pial.cast["coordinator"]
    )


def courgettes_of(week: SupplyWeek, pial: Pial) -> dict[Producer, int]:
    """Who sends the nursing home's courgettes (asked on Tuesday only; nobody else orders any)."""
    out: dict[Producer, int] = {}
    for x in PlanLine.objects.filter(week=week, product=pial.products["courgettes"]).select_related(
        "producer"
    ):
        out[x.producer] = out.get(x.producer, 0) + x.quantity
    return out


def test_demand_comes_first_even_when_only_a_minimum_lot_meets_it(pial: Pial) -> None:
    # the nursing home asks 100 kg of courgettes on Tuesday; the Saules (the largest share) have 99 kg, no lot; the
    # Terrasses (the smallest) 100 kg with a 100 kg lot: only the Terrasses meet it all, and they do, however far
    # from the shares (a weighted sum preferred the Saules' 99 kg)
    week = next_week(pial)
    coordinator = pial.cast["coordinator"]
    services.demand_set(
        week=week,
        kitchen=pial.ehpad,
        product=pial.products["courgettes"],
        day=week.days[1],
        quantity=100_000,
        actor=coordinator,
    )
    declare(pial, week, pial.saules, {"courgettes": 99_000})
    declare(pial, week, pial.terrasses, {"courgettes": 100_000}, lot=100_000)
    services.plan_compute(week=week, actor=coordinator)
    assert courgettes_of(week, pial) == {pial.terrasses: 100_000}
    week.refresh_from_db()
    assert [s["name"] for s in week.solver["stages"]] == ["demand", "shares_distance"]
    assert all(s["proven"] for s in week.solver["stages"])


def test_a_shortfall_is_covered_by_another_farms_lot(pial: Pial) -> None:
    # 12 kg asked; the Saules and the Terrasses have 12 kg each with a 12 kg lot; the Saules, planned, fall to 11 kg:
    # the Terrasses deliver all 12 kg
    week = next_week(pial)
    declare(pial, week, pial.saules, {"courgettes": 12_000}, lot=12_000)
    declare(pial, week, pial.terrasses, {"courgettes": 12_000}, lot=12_000)
    coordinator = pial.cast["coordinator"]
    services.plan_compute(week=week, actor=coordinator)
    services.plan_publish(week=week, actor=coordinator)
    (first,) = courgettes_of(week, pial)
    other = pial.terrasses if first == pial.saules else pial.saules
    services.shortfall_report(
        week=week,
        producer=first,
        product=pial.products["courgettes"],
        available=11_000,
        idempotency_key="courgettes",
        actor=coordinator,
    )
    assert courgettes_of(week, pial) == {other: 12_000}
    changes = {(c.producer_id, c.before, c.after) for c in PlanChange.objects.filter(week=week)}
    assert changes == {(first.pk, 12_000, 0), (other.pk, 0, 12_000)}
    week.refresh_from_db()
    (replan,) = week.solver["replans"]
    assert [s["name"] for s in replan["stages"]] == ["demand", "lines", "volume", "shares_distance"]
    assert replan["changes"] == 2 and replan["farms_told"] == 2 and replan["kitchens_told"] == 1
    assert replan["proven_optimal"]


def test_a_week_large_enough_for_column_generation_is_replanned(
    pial: Pial, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every week goes through column generation; a re-plan used to fail there ("the solver could not find a plan")
    monkeypatch.setattr(optimiser, "DENSE_UP_TO", 0)
    monkeypatch.setattr(optimiser, "NEAREST", 1)
    week = planned(pial, 1)
    coordinator = pial.cast["coordinator"]
    services.plan_publish(week=week, actor=coordinator)
    carrots = pial.products["carottes"]
    before = lines_of(week)
    saules = sum(q for (p, _, g, _), q in before.items() if p == pial.saules.pk and g == carrots.pk)
    assert saules > 0
    services.shortfall_report(
        week=week,
        producer=pial.saules,
        product=carrots,
        available=0,
        idempotency_key="hail",
        actor=coordinator,
    )
    after = lines_of(week)
    # the others have plenty: every carrot still goes, nothing but carrots moves, the Saules send none
    assert sum(q for (_, _, g, _), q in after.items() if g == carrots.pk) == sum(
        q for (_, _, g, _), q in before.items() if g == carrots.pk
    )
    assert {k for k in before if before[k] != after.get(k)} | {k for k in after if after[k] != before.get(k)}
    assert {g for (_, _, g, _) in set(before) ^ set(after)} <= {carrots.pk}
    assert {k: q for k, q in before.items() if k[2] != carrots.pk} == {
        k: q for k, q in after.items() if k[2] != carrots.pk
    }
    assert not any(p == pial.saules.pk and g == carrots.pk for (p, _, g, _) in after)
    week.refresh_from_db()
    assert week.solver["replans"][-1]["proven_optimal"]


def test_a_contract_that_names_a_farm_is_served_by_it_alone(pial: Pial) -> None:
    coordinator = pial.cast["coordinator"]
    pial.school_contract.producers.add(pial.terrasses)
    week = next_week(pial)
    for farm in (pial.saules, pial.pic, pial.terrasses):
        declare(pial, week, farm, PLENTY)
    services.plan_compute(week=week, actor=coordinator)
    school = PlanLine.objects.filter(week=week, kitchen=pial.school)
    assert school.exists() and set(school.values_list("producer_id", flat=True)) == {pial.terrasses.pk}
    assert PlanLine.objects.filter(week=week, kitchen=pial.ehpad).exclude(producer=pial.terrasses).exists()
    # by hand neither
    carrots = pial.products["carottes"]
    monday = week.days[0]
    with pytest.raises(InvalidInput) as refused:
        services.plan_line_set(
            week=week,
            producer=pial.saules,
            kitchen=pial.school,
            product=carrots,
            day=monday,
            quantity=1_000,
            actor=coordinator,
        )
    assert "producer" in refused.value.errors
    assert "Les Terrasses" in str(refused.value)
    # after a shortfall of the Terrasses, the school's carrots stay short rather than come from another farm
    services.plan_publish(week=week, actor=coordinator)
    services.shortfall_report(
        week=week,
        producer=pial.terrasses,
        product=carrots,
        available=10_000,
        idempotency_key="frost",
        actor=coordinator,
    )
    assert set(school.values_list("producer_id", flat=True)) == {pial.terrasses.pk}
    short = [
        r for r in selectors.week_table(week) if r.kitchen == pial.school and r.product == carrots and r.unmet
    ]
    assert short and {r.reason_code for r in short} == {"contract_farms"}
    assert short[0].numbers["farms"] == [pial.terrasses.pk]


def test_the_reason_names_the_farms_of_the_contract_in_words(pial: Pial, login) -> None:
    pial.school_contract.producers.add(pial.terrasses)
    week = next_week(pial)
    declare(pial, week, pial.saules, PLENTY)
    declare(pial, week, pial.terrasses, {"carottes": 10_000})
    services.plan_compute(week=week, actor=pial.cast["coordinator"])
    url = reverse("supply_week", args=[pial.cast.territory.slug, week.monday.isoformat()])
    body = login(pial.cast["coordinator"]).get(url).content.decode()
    assert "Les Terrasses" in body
    assert "Le contrat de la cuisine nomme les fermes qui la livrent (Les Terrasses)" in body
    # and the stages of the solve, in words
    assert "Demande satisfaite" in body and "le plus que permettent les déclarations, prouvé" in body


@pytest.mark.parametrize("where", ["demand", "availability", "lot", "contract", "shortfall"])
def test_a_quantity_the_planner_cannot_count_is_refused_at_entry(pial: Pial, where: str) -> None:
    too_much = optimiser.QUANTITY_MAX + 1
    week = next_week(pial)
    carrots = pial.products["carottes"]
    actor = pial.cast["coordinator"]
    with pytest.raises(InvalidInput) as refused:
        if where == "demand":
            services.demand_set(
                week=week,
                kitchen=pial.school,
                product=carrots,
                day=week.days[0],
                quantity=too_much,
                actor=actor,
            )
        elif where in ("availability", "lot"):
            services.availability_declare(
                week=week,
                producer=pial.saules,
                product=carrots,
                quantity=too_much if where == "availability" else 1_000,
                minimum_lot=too_much if where == "lot" else 0,
                actor=actor,
            )
        elif where == "contract":
            line = pial.line(pial.school_contract, "carottes")
            services.contract_line_set(
                contract=pial.school_contract,
                product=carrots,
                cost_cents=line.cost_cents,
                margin_cents=line.margin_cents,
                service_fee_cents=line.service_fee_cents,
                levy_cents=line.levy_cents,
                weekly_quantity=too_much,
                actor=actor,
            )
        else:
            services.shortfall_report(
                week=week,
                producer=pial.saules,
                product=carrots,
                available=too_much,
                idempotency_key="too-much",
                actor=actor,
            )
    assert "1 000 000 000" in str(refused.value).replace("\u202f", " ").replace("\xa0", " ")
