"""The supply pages at scale: what they add up is added up by the database (grouped, one query) and equals the
row-by-row recount it replaced; their query counts do not grow with the number of lines, kitchens or farms."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models.signals import post_init
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from grenier.supply import egalim
from grenier.supply.models import (
    Demand,
    EgalimLabel,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    Kitchen,
    KitchenKind,
    PlanLine,
    ProducerWeek,
    Product,
    ProductFamily,
    SalesUnit,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import format_quantity
from grenier.supply.views.common import _kg

from .conftest import Pial
from .test_pages import _published

YEAR = 2026
LABEL_SETS: list[list[str]] = [
    [],
    [EgalimLabel.BIO.value],
    [EgalimLabel.HVE.value],
    [EgalimLabel.BIO.value, EgalimLabel.HVE.value],
    [EgalimLabel.HVE.value, EgalimLabel.BIO.value],  # the same labels in another order
    [EgalimLabel.LABEL_ROUGE.value],
]


def _kitchen(pial: Pial, number: int) -> Kitchen:
    return Kitchen.objects.create(
        territory=pial.cast.territory,
        name=f"Cuisine {number:02d}",
        kind=KitchenKind.SCHOOL,
        meals_per_day=100,
        siret=f"2{number:013d}",
    )


class Books:
    """Invoices, credit notes and farms' statements written straight into the tables, with random lines."""

    def __init__(self, pial: Pial, seed: int) -> None:
        self.pial = pial
        self.rng = random.Random(seed)
        territory = pial.cast.territory
        self.series = InvoiceSeries.objects.create(territory=territory, prefix=f"T{seed}")
        self.farm_series = InvoiceSeries.objects.create(
            territory=territory, producer=pial.saules, prefix=f"F{seed}"
        )
        self.number = 0
        pial.products["radis"].family = ProductFamily.AUTRES
        pial.products["radis"].save()

    def document(self, kitchen: Kitchen | None, month: date, kind: str = InvoiceKind.INVOICE) -> Invoice:
        self.number += 1
        return Invoice.objects.create(
            territory=self.pial.cast.territory,
            series=self.farm_series if kitchen is None else self.series,
            number=self.number,
            reference=f"{self.series.prefix}-{self.number}",
            kind=kind,
            kitchen=kitchen,
            producer=self.pial.saules if kitchen is None else None,
            month=month,
            issued_on=month,
            total_cents=0,
            idempotency_key=f"{self.series.prefix}-{self.number}",
        )

    def lines(self, invoice: Invoice, count: int, *, year: int = YEAR) -> None:
        p = self.pial
        sign = -1 if invoice.kind == InvoiceKind.CREDIT_NOTE else 1
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                product=self.rng.choice(list(p.products.values())),
                producer=self.rng.choice([p.saules, p.pic, p.terrasses]),
                kitchen=invoice.kitchen or p.school,
                day=date(year, 1, 1) + timedelta(days=self.rng.randrange(365)),
                quantity=sign * self.rng.randrange(1, 50_000),
                unit_price_cents=240,
                amount_cents=sign * self.rng.randrange(1, 20_000),
                egalim_labels=list(self.rng.choice(LABEL_SETS)),
            )
            for _ in range(count)
        )

    def year_of(self, kitchen: Kitchen, lines: int) -> None:
        """Invoices of ``kitchen`` with ``lines`` lines in all, a credit note, and lines that are not its purchases:
        a farm's statement naming it, a delivery of the year before."""
        for month in (date(YEAR, 1, 1), date(YEAR, 6, 1), date(YEAR, 11, 1)):
            self.lines(self.document(kitchen, month), lines // 3)
        self.lines(self.document(kitchen, date(YEAR, 7, 1), InvoiceKind.CREDIT_NOTE), 3)
        self.lines(self.document(None, date(YEAR, 3, 1)), 4)
        self.lines(self.document(kitchen, date(YEAR - 1, 12, 1)), 3, year=YEAR - 1)


def _recount(kitchen: Kitchen, start: date, end: date) -> egalim.KitchenShares:
    """The shares as they were computed before: every purchase line read and added up in Python."""
    result = egalim.KitchenShares(kitchen=kitchen, start=start, end=end)
    rows = egalim.purchase_lines(kitchen, start, end).values_list(
        "amount_cents", "egalim_labels", "product__family", "day"
    )
    for amount, labels, family, day in rows:
        result.lines += 1
        result.spend.add(amount, labels)
        result.by_family.setdefault(family, egalim.Spend()).add(amount, labels)
        result.by_month.setdefault(day.replace(day=1), egalim.Spend()).add(amount, labels)
    return result


def _as_figures(shares: egalim.KitchenShares) -> tuple[Any, ...]:
    return (shares.kitchen.pk, shares.lines, shares.spend, shares.families, shares.months)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "period", [(date(YEAR, 1, 1), date(YEAR, 12, 31)), (date(YEAR, 2, 15), date(YEAR, 8, 3))]
)
def test_egalim_shares_equal_the_line_by_line_recount(
    pial: Pial, seed: int, period: tuple[date, date]
) -> None:
    books = Books(pial, seed)
    kitchens = [pial.school, pial.ehpad, _kitchen(pial, 1)]
    for kitchen in kitchens:
        books.year_of(kitchen, books.rng.randrange(30, 90))
    start, end = period
    shares = egalim.territory_shares(kitchens, start, end)
    assert [_as_figures(s) for s in shares] == [_as_figures(_recount(k, start, end)) for k in kitchens]
    assert _as_figures(egalim.kitchen_shares(pial.ehpad, start, end)) == _as_figures(
        _recount(pial.ehpad, start, end)
    )
    assert all(s.lines for s in shares)


def test_egalim_shares_of_every_kitchen_in_one_query(pial: Pial) -> None:
    books = Books(pial, 7)
    start, end = egalim.year_period(YEAR)

    def queries(kitchens: list[Kitchen]) -> int:
        with CaptureQueriesContext(connection) as captured:
            egalim.territory_shares(kitchens, start, end)
        return len(captured.captured_queries)

    books.year_of(pial.school, 30)
    few = queries([pial.school, pial.ehpad])
    more_kitchens = [pial.school, pial.ehpad] + [_kitchen(pial, n) for n in range(4)]
    for kitchen in more_kitchens:
        books.year_of(kitchen, 90)
    assert queries(more_kitchens) == few == 1


def _page_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@time_machine.travel("2026-11-18 10:00 +0000", tick=False)
@pytest.mark.parametrize("who", ["coordinator", "funder"])
def test_egalim_figures_pages_read_no_more_for_more_kitchens(
    pial: Pial, login: Callable[..., Client], who: str
) -> None:
    books = Books(pial, 11)
    books.year_of(pial.school, 12)
    client = login(pial.cast[who])
    slug = pial.cast.territory.slug
    urls = [reverse("supply_egalim", args=[slug])]
    if who == "funder":  # the funder's supply home shows the same shares
        urls.append(reverse("supply_home", args=[slug]))
    for url in urls:
        client.get(url)  # the first page in the territory records it in the session
    few = [_page_queries(client, url) for url in urls]
    for number in range(3):
        books.year_of(_kitchen(pial, number), 30)
    assert [_page_queries(client, url) for url in urls] == few


def _published_weeks(pial: Pial, count: int, first: date) -> None:
    """``count`` published weeks from ``first`` with each farm's volume (written straight into the tables)."""
    rng = random.Random(count)
    farms = [pial.saules, pial.pic, pial.terrasses]
    for number in range(count):
        week = SupplyWeek.objects.create(
            territory=pial.cast.territory,
            monday=first + timedelta(weeks=number),
            status=WeekStatus.PUBLISHED,
        )
        ProducerWeek.objects.bulk_create(
            ProducerWeek(week=week, producer=farm, share=0.3, volume=rng.randrange(0, 900_000), gap_after=0.0)
            for farm in farms[: 2 + number % 2]
        )


@time_machine.travel("2026-11-18 10:00 +0000", tick=False)
def test_funder_home_volumes_added_up_by_the_database(pial: Pial, login: Callable[..., Client]) -> None:
    _published_weeks(pial, 30, date(2025, 10, 6))  # some of them last year: not counted
    client = login(pial.cast["funder"])
    url = reverse("supply_home", args=[pial.cast.territory.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    volumes = {row["farm"].pk: row["volume"] for row in response.context["figures"]["volumes"]}
    recount: dict[int, int] = {}
    for row in ProducerWeek.objects.filter(week__monday__year=YEAR, week__status=WeekStatus.PUBLISHED):
        recount[row.producer_id] = recount.get(row.producer_id, 0) + int(row.volume)
    assert volumes == {pk: _kg(volume) for pk, volume in recount.items()}
    assert response.context["figures"]["volume_total"] == _kg(sum(recount.values()))
    # the farms' weeks are added up by the database, not read one by one
    weeks_read = [q["sql"] for q in captured.captured_queries if 'FROM "supply_producerweek"' in q["sql"]]
    assert len(weeks_read) == 1 and "GROUP BY" in weeks_read[0]


def _built_and_queries(client: Client, url: str) -> tuple[int, Counter[str]]:
    """The page's queries, and the model instances built while it is made, by model."""
    built: Counter[str] = Counter()

    def count(sender: type[Any], **kwargs: Any) -> None:
        built[sender.__name__] += 1

    post_init.connect(count)
    try:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
    finally:
        post_init.disconnect(count)
    assert response.status_code == 200
    return len(captured.captured_queries), built


def _more_lines(pial: Pial, week: SupplyWeek, products: list[Product], days: range) -> None:
    """Lines of ``products`` from every farm to every kitchen on ``days`` of ``week``, and their demand."""
    farms, kitchens = [pial.saules, pial.pic, pial.terrasses], [pial.school, pial.ehpad]
    for offset in days:
        day = week.monday + timedelta(days=offset)
        PlanLine.objects.bulk_create(
            PlanLine(
                week=week,
                producer=f,
                kitchen=k,
                product=p,
                day=day,
                quantity=1_000 * (1 + offset),
                adjusted=True,
            )
            for f in farms
            for k in kitchens
            for p in products
        )
        Demand.objects.bulk_create(
            Demand(week=week, kitchen=k, product=p, day=day, quantity=4_000 * (1 + offset))
            for k in kitchens
            for p in products
        )


@pytest.mark.parametrize("who", ["coordinator", "producer"])
def test_week_page_builds_each_farm_kitchen_and_product_once(
    pial: Pial, login: Callable[..., Client], who: str
) -> None:
    week = _published(pial)
    products = [
        Product.objects.create(territory=pial.cast.territory, name=f"Légume {n}", unit=SalesUnit.KG)
        for n in range(4)
    ]
    _more_lines(pial, week, products, range(1))
    client = login(pial.cast[who])
    url = reverse("supply_week", args=[pial.cast.territory.slug, week.monday.isoformat()])
    client.get(url)
    if who == "producer":  # the grower coordinates this week
        SupplyWeek.objects.filter(pk=week.pk).update(coordinator=pial.cast["producer"])
    few, built_few = _built_and_queries(client, url)
    _more_lines(pial, week, products, range(1, 5))  # five times the lines, the same farms, kitchens, products
    more, built_more = _built_and_queries(client, url)
    assert built_more["PlanLine"] >= built_few["PlanLine"] + 4 * 24
    assert more == few
    for model in ("Producer", "Kitchen", "Product", "Demand"):
        assert built_more[model] == built_few[model], model


def test_invoice_page_builds_each_farm_kitchen_and_product_once(
    pial: Pial, login: Callable[..., Client]
) -> None:
    books = Books(pial, 5)
    invoice = books.document(pial.school, date(YEAR, 3, 1))
    books.lines(invoice, 10)
    InvoiceLine.objects.filter(invoice=invoice).update(producer=pial.saules)
    url = reverse("supply_money_invoice", args=[pial.cast.territory.slug, invoice.pk])
    for who in ("coordinator", "kitchen"):
        client = login(pial.cast[who])
        client.get(url)
        few, built_few = _built_and_queries(client, url)
        books.lines(invoice, 30)
        InvoiceLine.objects.filter(invoice=invoice).update(producer=pial.saules)
        more, built_more = _built_and_queries(client, url)
        assert built_more["InvoiceLine"] == built_few["InvoiceLine"] + 30
        assert more == few
        for model in ("Producer", "Kitchen", "Product", "PlanLine"):
            assert built_more[model] == built_few[model], (who, model)


def test_deliveries_page_builds_each_farm_and_product_once(pial: Pial, login: Callable[..., Client]) -> None:
    week = _published(pial)
    products = [
        Product.objects.create(territory=pial.cast.territory, name=f"Légume {n}", unit=SalesUnit.KG)
        for n in range(3)
    ]
    _more_lines(pial, week, products, range(1))
    client = login(pial.cast["kitchen"])
    url = reverse(
        "supply_deliveries", args=[pial.cast.territory.slug, week.monday.isoformat(), pial.school.pk]
    )
    client.get(url)
    few, built_few = _built_and_queries(client, url)
    _more_lines(pial, week, products, range(1, 4))
    more, built_more = _built_and_queries(client, url)
    assert built_more["PlanLine"] >= built_few["PlanLine"] + 3 * 9
    assert more == few
    for model in ("Producer", "Kitchen", "Product"):
        assert built_more[model] == built_few[model], model


def test_week_page_words_the_solvers_quantity_beside_a_changed_line_only(
    pial: Pial, login: Callable[..., Client]
) -> None:
    week = _published(pial)
    line = PlanLine.objects.filter(week=week, quantity__gte=2000).select_related("product").first()
    assert line is not None
    PlanLine.objects.filter(pk=line.pk).update(quantity=line.quantity - 1000, adjusted=True)
    url = reverse("supply_week", args=[pial.cast.territory.slug, week.monday.isoformat()])
    body = login(pial.cast["coordinator"]).get(url).content.decode()
    with translation.override("fr"):
        solver = format_quantity(line.solver_quantity, line.product)
    item = body[body.index(f'id="line-{line.pk}"') :]
    assert f"(solveur : {solver})" in item[: item.index("</li>")]
    assert body.count("(solveur : ") == 1
