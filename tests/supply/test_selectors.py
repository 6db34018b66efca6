"""Reads of the weekly cycle (grenier.supply.selectors): the week's table, a farm's lines, a kitchen's deliveries,
progress against shares, the list of weeks."""

from __future__ import annotations

from datetime import timedelta

from grenier.supply import selectors, services
from grenier.supply.models import PlanLine, WeekStatus

from .conftest import Pial
from .test_services import declare, plenty, published, week_of


def test_week_table_gives_demand_supply_unmet_and_the_reason(pial: Pial) -> None:
    week = week_of(pial)
    declare(pial, week, pial.saules, {"carottes": 40_000, "poireaux": 20_000, "salade": 60, "radis": 30})
    rows = selectors.week_table(week)
    assert len(rows) == 11 and all(r.supplied == 0 for r in rows)
    assert {r.reason_code for r in rows} == {"not_planned"}

    services.plan_compute(week=week, actor=pial.cast["coordinator"])
    week.refresh_from_db()
    rows = selectors.week_table(week)
    by_key = {(r.kitchen.pk, r.product.name, r.day): r for r in rows}
    tuesday = pial.monday + timedelta(1)
    courgettes = by_key[pial.ehpad.pk, "Courgettes", tuesday]
    assert (courgettes.demand, courgettes.supplied, courgettes.unmet) == (12_000, 0, 12_000)
    assert courgettes.reason_code == "not_declared"
    carrots = [r for r in rows if r.product.name == "Carottes"]
    assert sum(r.demand for r in carrots) == 45_000 and sum(r.supplied for r in carrots) == 40_000
    short = [r for r in carrots if r.unmet]
    assert short and all(r.reason_code == "not_enough_declared" for r in short)
    assert short[0].numbers["declared"] == 40_000 and short[0].numbers["asked"] == 45_000
    met = [r for r in rows if r.product.name in ("Poireaux", "Salade", "Radis")]
    assert all(
        r.unmet == 0 and r.reason_code == "" and r.supplied == sum(x.quantity for x in r.lines) for r in met
    )
    # rows follow kitchen, product, day
    assert rows == sorted(
        rows, key=lambda r: (r.kitchen.name, r.kitchen.pk, r.product.name, r.product.pk, r.day)
    )

    # a line changed by hand after the solve: the row says so
    leek_line = PlanLine.objects.filter(week=week, product__name="Poireaux").first()
    assert leek_line is not None
    services.plan_line_set(
        week=week,
        producer=leek_line.producer,
        kitchen=leek_line.kitchen,
        product=leek_line.product,
        day=leek_line.day,
        quantity=0,
        actor=pial.cast["coordinator"],
    )
    changed = {(r.kitchen.pk, r.product.pk, r.day): r for r in selectors.week_table(week)}[
        leek_line.kitchen_id, leek_line.product_id, leek_line.day
    ]
    assert changed.unmet == leek_line.quantity and changed.reason_code == "changed"

    balance = {b.product.name: b for b in selectors.product_balance(week)}
    assert (balance["Carottes"].asked, balance["Carottes"].declared, balance["Carottes"].short) == (
        45_000,
        40_000,
        5_000,
    )
    assert balance["Courgettes"].farms == 0


def test_a_farm_reads_its_lines_and_a_kitchen_its_deliveries_with_discrepancies(pial: Pial) -> None:
    week = published(pial)
    lines = list(selectors.producer_lines(week, pial.saules))
    assert lines and all(x.producer == pial.saules for x in lines)
    assert [x.day for x in lines] == sorted(x.day for x in lines)

    deliveries = selectors.kitchen_deliveries(week, pial.school)
    assert [d.day for d in deliveries] == [pial.monday, pial.monday + timedelta(3)]
    total = sum(x.quantity for d in deliveries for p in d.producers for x in p.lines)
    assert total == sum(
        PlanLine.objects.filter(week=week, kitchen=pial.school).values_list("quantity", flat=True)
    )
    first = deliveries[0].producers[0]
    assert all(x.producer == first.producer and x.day == pial.monday for x in first.lines)
    assert not first.recorded and first.discrepancies == []
    line = first.lines[0]
    services.receipt_record(line=line, received_quantity=line.quantity + 2, actor=pial.cast["kitchen"])
    again = selectors.kitchen_deliveries(week, pial.school)[0].producers[0]
    assert [x.pk for x in again.discrepancies] == [line.pk] and again.discrepancies[0].discrepancy == 2
    assert [x.pk for x in selectors.discrepancies(week)] == [line.pk]
    assert not any(
        d.producers for d in selectors.kitchen_deliveries(week, pial.ehpad) if d.day == pial.monday
    )


def test_share_progress_and_the_list_of_weeks(pial: Pial) -> None:
    first = published(pial)
    second = published(pial, 1)
    open_week = week_of(pial, 2)
    plenty(pial, open_week)
    progress = {p.producer.pk: p for p in selectors.share_progress(pial.cast.territory, second.monday)}
    assert set(progress) == {pial.saules.pk, pial.pic.pk, pial.terrasses.pk}
    assert progress[pial.saules.pk].share == 0.4 and progress[pial.saules.pk].weeks == 2
    group = progress[pial.saules.pk].group_volume
    assert group == sum(p.volume for p in progress.values()) > 0
    after_second = {r.producer_id: r for r in selectors.producer_week_rows(second)}
    for p in progress.values():
        assert abs(p.actual_share - p.share) < 0.05
        assert p.gap == after_second[p.producer.pk].gap_after
    only_first = selectors.share_progress(pial.cast.territory, first.monday)
    assert all(p.weeks == 1 for p in only_first)

    weeks = selectors.weeks_of(pial.cast.territory)
    assert [w.week.monday for w in weeks] == [open_week.monday, second.monday, first.monday]
    assert [w.week.status for w in weeks] == [WeekStatus.OPEN, WeekStatus.PUBLISHED, WeekStatus.PUBLISHED]
    assert weeks[0].declarations == 15 and weeks[0].demand_lines == 11 and weeks[0].plan_lines == 0
    assert weeks[1].plan_lines == PlanLine.objects.filter(week=second).count()
    assert selectors.latest_published(pial.cast.territory) == second
    assert selectors.latest_published(pial.cast.territory, before=second.monday) == first
