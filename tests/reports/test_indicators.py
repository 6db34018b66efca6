"""Each indicator on a small territory whose figures are computed here by hand, from the modules' own fixtures
(built with their services): the fund's two households, the member's basket, the buying group's orders at two
tiers, the committee's vote, the map's cooperation that rose, the school's weighings, the platform's October, the
cooking workshop. And "not measured", never 0, where a module holds nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from grenier.activities import services as activities_services
from grenier.baskets import services as baskets_services
from grenier.baskets.models import DistributionLine
from grenier.fund import services as fund_services
from grenier.fund.models import Store
from grenier.network import services as network_services
from grenier.network.models import Actor
from grenier.orders import services as orders_services
from grenier.orders.models import GroupMembership
from grenier.reports import registry
from grenier.reports.registry import Part, Period, Result, Scope
from grenier.supply import billing, egalim
from grenier.supply import services as supply_services
from grenier.supply.models import Distance, Invoice, InvoiceLine, PlanLine
from grenier.waste import services as waste_services

from ..activities.conftest import Workshop
from ..baskets.conftest import Baskets
from ..conftest import Cast
from ..fund.conftest import Fund
from ..governance.conftest import MEMBERS, Gov
from ..network.conftest import Map, new_cooperation
from ..orders.conftest import Groups
from ..supply.conftest import Pial
from ..supply.test_api import published
from ..waste.conftest import Kitchens, weigh

NOVEMBER = Period(2026, 11)
YEAR = Period(2026)


def figures(cast: Cast, period: Period) -> dict[str, Result]:
    return registry.compute(cast.territory, period)


def parts(result: Result) -> dict[str, object]:
    return {part.key: part.value for part in result.parts}


def test_a_territory_with_no_module_data_measures_nothing_and_says_why(cast: Cast) -> None:
    with translation.override("en"):
        found = figures(cast, YEAR)
    assert len(found) >= 25
    for code, result in found.items():
        assert result.value is None, code  # "not measured", never 0
        assert result.reason.startswith("Not measured"), code


def test_the_fund_s_credit_issued_spent_and_its_share(fund: Fund) -> None:
    cast = fund.cast
    Store.objects.filter(pk=fund.store.pk).update(kind="épicerie", coverage_percent=80)
    fund.store.refresh_from_db()
    fund_services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=2_500,
        idempotency_key="report-pay-1",
        actor=cast["cashier"],
    )
    # November's run: two households in the fund, 100,00 € each (the rule's base, nothing per person or child)
    for period in (NOVEMBER, YEAR):
        found = figures(cast, period)
        assert found["credit_issued"].value == 20_000
        assert found["credit_spent"].value == 2_000  # 80 % of 25,00 € in credit
        assert parts(found["credit_spent"]) == {"épicerie": 2_000}
        assert found["credit_share_spent"].value == Decimal("10.0")
    # the fund ran its first month in November: October is not measured, not 0
    october = figures(cast, Period(2026, 10))
    assert october["credit_issued"].value is None and october["credit_issued"].reason
    assert october["households_reached"].value is None
    # December has begun for nobody yet: measured, nothing issued, the share not measured (nothing to divide)
    december = figures(cast, Period(2026, 12))
    assert december["credit_issued"].value == 0
    assert december["credit_share_spent"].value is None


def test_a_household_reached_by_three_modules_is_counted_once(
    fund: Fund, baskets: Baskets, groups: Groups
) -> None:
    cast = fund.cast
    baskets_services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    line = DistributionLine.objects.get(household=cast.household)
    baskets_services.line_check(line=line, collected=True, actor=None)
    found = figures(cast, NOVEMBER)["households_reached"]
    # the member's household: fund, basket, group; the neighbour: fund, group; "Foyer Ailleurs": its group only
    assert found.value == 3
    assert parts(found) == {
        "fund": 2,
        "baskets": 1,
        "groups": 3,
        "size_1": 2,  # the neighbour, Ailleurs
        "size_2": 1,  # the member's (Ana and Tom)
        "size_3": 0,
        "size_5": 0,
    }


def test_the_baskets_collected_and_the_members_part(baskets: Baskets) -> None:
    cast = baskets.cast
    baskets_services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    day = Period(baskets.thursday.year, baskets.thursday.month)
    before = figures(cast, day)
    assert before["baskets_distributed"].value == 0  # generated, not collected yet
    assert before["baskets_member_share"].value is None
    line = DistributionLine.objects.get(household=cast.household)
    baskets_services.line_check(line=line, collected=True, actor=None)
    found = figures(cast, day)
    assert found["baskets_distributed"].value == 1
    assert parts(found["baskets_distributed"]) == {"small": 1, "medium": 0, "large": 0}
    # 15,00 €: 50 % by the department, 20 % by the foundation, 4,50 € for the household
    assert found["baskets_member_part"].value == 450
    assert parts(found["baskets_member_part"]) == {"price": 1_500, "funded": 1_050}
    assert found["baskets_member_share"].value == Decimal("30.0")
    # the three read the month once, from the tally the database keeps (each read the lines again before: 20 to
    # 35 ms at 100,000 households; the sizes another 56 ms), not the lines
    with CaptureQueriesContext(connection) as captured:
        registry.compute(
            cast.territory, day, ["baskets_member_part", "baskets_member_share", "baskets_distributed"], {}
        )
    tallied = [q for q in captured.captured_queries if 'FROM "reports_baskettally"' in q["sql"]]
    assert len(tallied) == 1
    assert not [q for q in captured.captured_queries if 'FROM "baskets_distributionline"' in q["sql"]]
    # a period that is not a month or a year (none of the pages asks one): the lines, read once, sizes included
    from grenier.reports.indicators.access import _baskets

    with CaptureQueriesContext(connection) as captured:
        week = _baskets(Scope(cast.territory, baskets.thursday - timedelta(days=3), baskets.thursday))
    assert len([q for q in captured.captured_queries if 'FROM "baskets_distributionline"' in q["sql"]]) == 1
    assert (week["baskets"], week["member"], week["n_small"], week["households_small"]) == (1, 450, 1, 1)
    assert [(part.key, part.value, part.support) for part in found_parts(cast, day)] == [
        ("small", 1, 1),
        ("medium", 0, 0),
        ("large", 0, 0),
    ]


def found_parts(cast: Cast, day: Period) -> tuple[Part, ...]:
    return registry.compute(cast.territory, day, ["baskets_distributed"])["baskets_distributed"].parts


def test_the_buying_group_s_orders_by_tier_and_the_solidarity(groups: Groups) -> None:
    cast = groups.cast
    low, high = min(groups.tiers), max(groups.tiers)
    assert low < 100 < high
    for household, tier in ((cast.household, low), (cast.other_household, high)):
        GroupMembership.objects.filter(group=groups.group, household=household).update(
            tier=groups.tiers[tier]
        )
    bread = groups.product(groups.cycle, groups.bread)
    for key, household, loaves in (("o-1", cast.household, 2), ("o-2", cast.other_household, 3)):
        orders_services.order_place(
            cycle=groups.cycle,
            household=household,
            quantities={bread.pk: loaves},
            idempotency_key=key,
            actor=None,
        )
    delivery = groups.cycle.delivery_date
    month = Period(delivery.year, delivery.month)
    found = figures(cast, month)
    assert found["orders_by_tier"].value == 2
    assert parts(found["orders_by_tier"]) == {str(low): 1, str(high): 1}
    assert found["orders_solidarity"].value == 0  # nothing closed yet
    orders_services.cycle_close(cycle=groups.cycle, actor=None, early=True)
    found = figures(cast, month)
    # the member's two loaves at 4,00 € cost 8,00 € in full; at the lower tier it paid its share of them
    low_due = 800 * low // 100
    assert parts(found["orders_solidarity"]) == {"full": 800, "paid": low_due}
    assert found["orders_solidarity"].value == 800 - low_due
    assert figures(cast, Period(2026, 10))["orders_by_tier"].value is None  # no cycle delivered before


def test_the_committee_its_votes_and_who_of_it_draws_credit(gov: Gov) -> None:
    cast = gov.cast
    found = figures(cast, NOVEMBER)
    assert found["committee_size"].value == len(MEMBERS)
    # the member's household is in the fund; "member" is not on the committee; the committee member and the
    # coordinator have no household
    assert found["committee_in_fund"].value == 0
    assert found["votes_held"].value == 1
    assert parts(found["votes_held"]) == {"adopted": 1, "rejected": 0}
    decision = gov.decision
    assert (decision.participants, decision.electorate) == (2, len(MEMBERS))
    assert found["participation_rate"].value == Decimal("100.0")
    assert found["decisions_in_effect"].value == 0  # a motion: no effect in Grenier
    # the member joins the committee: one of its three members draws food credit
    from grenier.governance import services as governance_services

    governance_services.membership_join(body=gov.body, user=cast["member"], actor=None)
    found = figures(cast, NOVEMBER)
    assert found["committee_size"].value == len(MEMBERS) + 1
    assert found["committee_in_fund"].value == 1
    assert parts(found["committee_in_fund"]) == {"share": Decimal("33.3")}


def test_the_map_s_actors_levels_and_their_changes(net: Map) -> None:
    cast = net.cast
    cooperation = new_cooperation(net, level=2)
    network_services.cooperation_level_set(
        cooperation=cooperation,
        level=4,
        by=cast["coordinator"],
        reason="Un atelier commun",
        idempotency_key="level-up",
        on=timezone.localdate(),
    )
    found = figures(cast, NOVEMBER)
    assert found["level_changes"].value == 1
    assert parts(found["level_changes"]) == {"rose": 1, "fell": 0}
    levels = parts(found["cooperations_by_level"])
    assert levels["4"] == 1 and levels["2"] == 0
    assert found["actors"].value == cast.territory.network_actors.count()
    # the actors joined the map today: October is not measured...
    assert figures(cast, Period(2026, 10))["cooperations_by_level"].value is None
    # ...until they are said to have been there since September: at the end of October the cooperation (begun 30
    # days ago) was at level 2, and it had not moved yet
    Actor.objects.filter(territory=cast.territory).update(joined_on=date(2026, 9, 1))
    october = figures(cast, Period(2026, 10))
    assert parts(october["cooperations_by_level"])["2"] == 1
    assert parts(october["cooperations_by_level"])["4"] == 0
    assert october["level_changes"].value == 0


def test_the_kitchens_food_waste_per_meal_and_biowaste(kitchens: Kitchens) -> None:
    cast = kitchens.cast
    weigh(kitchens.autumn, date(2026, 11, 16), 100, plate=5_000, unserved=3_000)
    weigh(kitchens.autumn, date(2026, 11, 17), 50, plate=1_000)
    waste_services.delivery_record(
        kitchen=kitchens.school,
        day=date(2026, 11, 18),
        weight_g=12_500,
        kind="composting",
        destination="Plateforme de compostage",
        actor=None,
        idempotency_key="compost-1",
    )
    found = figures(cast, NOVEMBER)
    assert found["food_waste_per_meal"].value == Decimal("60.0")  # 9 kg over 150 meals
    assert parts(found["food_waste_per_meal"])["plate"] == Decimal("40.0")
    assert found["biowaste_returned"].value == Decimal("12.5")
    assert parts(found["biowaste_returned"])["composting"] == Decimal("12.5")
    december = figures(cast, Period(2026, 12))
    assert december["food_waste_per_meal"].value is None  # no service weighed: nothing to divide
    assert december["biowaste_returned"].value == Decimal("0.0")


def test_the_platform_s_sales_growers_income_and_organic_share(pial: Pial) -> None:
    cast = pial.cast
    week = published(pial)
    for line in PlanLine.objects.filter(week=week):
        supply_services.receipt_record(line=line, received_quantity=int(line.quantity), actor=None)
    billing.invoices_issue(territory=cast.territory, month=date(2026, 10, 1), actor=None)
    kitchens = Invoice.objects.filter(territory=cast.territory, kitchen__isnull=False)
    total = sum(invoice.total_cents for invoice in kitchens)
    growers = sum(invoice.producers_cents for invoice in kitchens)
    organic_farms = {pial.saules.pk, pial.pic.pk}  # Les Terrasses is HVE, not organic
    lines = InvoiceLine.objects.filter(invoice__in=kitchens)
    organic = sum(line.amount_cents for line in lines if line.producer_id in organic_farms)
    found = figures(cast, Period(2026, 10))
    assert total > 0
    assert found["platform_sales"].value == total
    assert found["growers_income"].value == growers
    assert parts(found["growers_income"]) == {"farms": len({line.producer_id for line in lines})}
    assert found["organic_share"].value == registry.percent(organic, total)
    assert found["quality_share"].value == Decimal("100.0")  # organic or HVE: every line
    assert figures(cast, Period(2026, 9))["platform_sales"].value is None  # before the first delivery
    # local: Les Saules within 30 km of both kitchens by road, Le Pic 150 km, Les Terrasses 250 km
    for farm, km in ((pial.saules, 30), (pial.pic, 150), (pial.terrasses, 250)):
        for kitchen in (pial.school, pial.ehpad):
            Distance.objects.update_or_create(producer=farm, kitchen=kitchen, defaults={"km": Decimal(km)})
    saules = sum(line.amount_cents for line in lines if line.producer_id == pial.saules.pk)
    assert 0 < saules < total
    assert figures(cast, Period(2026, 10))["local_share"].value == registry.percent(saules, total)
    assert egalim.LOCAL_RADIUS_KM == 100  # as the local share's definition says


def test_the_workshops_held_their_participants_and_volunteers(workshop: Workshop, cast: Cast) -> None:
    session = workshop.session
    household = workshop.household("Foyer Atelier-Test")
    activities_services.register(
        session=session, actor=None, idempotency_key="reg-1", adults=2, children=1, household=household
    )
    absent = workshop.household("Foyer Absent-Test")
    activities_services.register(
        session=session, actor=None, idempotency_key="reg-2", adults=1, children=3, household=absent
    )
    activities_services.walk_in_record(session=session, actor=None, idempotency_key="walk-1", adults=1)
    december = Period(2026, 12)
    assert figures(cast, december)["sessions_held"].value == 0  # not held yet
    with time_machine.travel(datetime(2026, 12, 2, 17, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        registrations = list(session.registrations.order_by("pk"))
        activities_services.attendance_mark(registration=registrations[0], attended=True, actor=None)
        activities_services.attendance_mark(registration=registrations[1], attended=False, actor=None)
        activities_services.session_close(session=session, actor=None)
    found = figures(cast, december)
    assert found["sessions_held"].value == 1
    assert parts(found["sessions_held"]) == {"cooking": 1}
    # the household (2 adults, a child) came, the other did not, one adult walked in
    assert found["participants"].value == 4
    assert parts(found["participants"]) == {"adults": 3, "children": 1}
    assert found["volunteering_hours"].value == Decimal("0.0")


def test_every_indicator_has_a_definition_a_person_can_read_in_english_and_french() -> None:
    with translation.override("en"):
        english = {found.code: (found.name, found.definition) for found in registry.indicators()}
    with translation.override("fr"):
        french = {found.code: (found.name, found.definition) for found in registry.indicators()}
    for code, (name, definition) in english.items():
        assert len(definition) > 80, code
        assert "Not counted" in definition or "Not measured" in definition, code
        assert french[code][0] != name and french[code][1] != definition, code
        assert "Non compté" in french[code][1] or "Non mesuré" in french[code][1], code


@pytest.mark.parametrize("text", ["2026", "2026-03", "2000", "2100-12"])
def test_a_period_reads_a_year_or_a_month(text: str) -> None:
    period = Period.parse(text)
    assert period.key == text
    assert period.start <= period.end
    assert period.previous().end == period.start - timedelta(days=1)


@pytest.mark.parametrize(
    "text", ["26", "2026-13", "2026-00", "1999", "2101", "2026-3", "2026/03", "", "2026-03-01"]
)
def test_a_period_out_of_shape_is_refused(text: str) -> None:
    from grenier.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        Period.parse(text)
    assert "period" in refused.value.errors
