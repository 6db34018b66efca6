"""A cycle's close and its rounding to cases: rounding to cases never wipes a product and is shown before the close;
the pot's projection is the close's; the close is confirmed, early closes explicitly; a new tier re-prices open
orders; errors are summed up at the top; exports and pickup lists say what each household collects."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grenier.core.models import Household
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, FunderKind
from grenier.orders import selectors, services
from grenier.orders.models import (
    CatalogueProduct,
    GroupMembership,
    Order,
    OrderCycle,
    OrderLine,
    Unit,
    unit_label,
)

from .conftest import Groups, open_cycle


def _place(g: Groups, cycle: OrderCycle, household: Household, key: str, minutes: int, **qty: int) -> Order:
    products = {"bread": g.product(cycle, g.bread), "honey": g.product(cycle, g.honey)}
    return services.order_place(
        cycle=cycle,
        household=household,
        quantities={products[name].pk: n for name, n in qty.items()},
        idempotency_key=key,
        actor=None,
        now=timezone.now() + timedelta(minutes=minutes),
    ).order


def _rounded_cycle(g: Groups) -> OrderCycle:
    """Honey in cases of 6 (stock 10): 2 + 1 jars = half a case; the close buys one case of 6."""
    cycle = open_cycle(g, "Cases", round_to_cases=True)
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[70], actor=None, by_household=True
    )
    _place(g, cycle, g.cast.household, "a", 0, honey=2, bread=1)
    _place(g, cycle, g.cast.other_household, "b", 1, honey=1)
    return cycle


# --- O1: rounding ---------------------------------------------------------------------------------------------------


def test_half_a_case_ordered_is_completed_at_the_close_not_wiped(groups: Groups) -> None:
    g = groups
    cycle = _rounded_cycle(g)
    services.cover_record(cycle=cycle, funder=_funder(g), amount_cents=2_000, idempotency_key="c", actor=None)
    result = services.cycle_close(cycle=cycle, actor=None, early=True)
    assert result.added_units == 3 and result.trimmed_units == 0
    finals = dict(
        OrderLine.objects.filter(order__cycle=cycle, cycle_product__product=g.honey).values_list(
            "order__household_id", "final_quantity"
        )
    )
    assert finals == {g.cast.household.pk: 4, g.cast.other_household.pk: 2}  # 3 missing: 2 to the oldest, 1
    mine = Order.objects.get(cycle=cycle, household=g.cast.household)
    assert mine.full_cents == 4 * 1_000 + 400 and mine.due_cents == 3_080  # 70 % of 44,00 €
    po = selectors.purchase_order(cycle, g.rucher)
    assert [(line.final, line.ordered) for line in po.lines] == [(6, 3)] and po.total_cents == 6_000


def test_the_coordinator_sees_what_the_close_will_deliver_and_who_gets_more(groups: Groups, login) -> None:
    g = groups
    cycle = _rounded_cycle(g)
    client = login(g.cast["coordinator"])
    page = client.get(reverse("orders_close", args=[g.cast.territory.slug, cycle.pk])).content.decode()
    honey = g.product(cycle, g.honey)
    row = page.split(f'id="plan-{honey.pk}"')[1].split("</tr>")[0]
    assert 'class="ordered">3<' in row and 'class="delivered">6' in row
    assert f"{g.cast.household.display_name}: 2 → 4" in row
    assert f"{g.cast.other_household.display_name}: 1 → 2" in row
    cycle.refresh_from_db()
    assert cycle.closed_at is None  # looking closes nothing


def test_members_are_told_the_case_size_and_how_many_complete_the_next_case(groups: Groups, login) -> None:
    g = groups
    cycle = _rounded_cycle(g)
    page = login(g.cast["member"]).get(reverse("orders_cycle", args=[g.cast.territory.slug, cycle.pk]))
    honey = g.product(cycle, g.honey)
    help_text = page.content.decode().split(f'id="case-help-{honey.pk}"')[1].split("</p>")[0]
    assert ": 3" in help_text and "3 " in help_text.split("—")[1]  # 3 ordered, 3 more to complete the case


# --- O2: the pot's projection is the close's ----------------------------------------------------------------------------


def test_the_pots_projection_applies_the_same_rounding_as_the_close(groups: Groups) -> None:
    g = groups
    cycle = open_cycle(g, "Trim", round_to_cases=True)
    services.cover_record(cycle=cycle, funder=_funder(g), amount_cents=5_000, idempotency_key="c", actor=None)
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[70], actor=None, by_household=True
    )
    _place(g, cycle, g.cast.other_household, "a", 0, honey=6)
    _place(g, cycle, g.cast.household, "b", 1, honey=2)  # 8 → 6: these 2 jars are trimmed
    figures = selectors.cycle_figures(cycle)
    assert figures.pot_delta_cents == 0  # the 70 % household gets nothing after rounding: takes nothing
    services.cycle_close(cycle=cycle, actor=None, early=True)
    assert services.pot_balance(g.group) == figures.pot_after_cents == 5_000


def _funder(g: Groups) -> Funder:
    return fund_services.funder_create(
        territory=g.cast.territory, name="Fondation QA", kind=FunderKind.PRIVATE, actor=None
    )


# --- O3: a confirmed close, an explicit early close -------------------------------------------------------------------


def test_a_close_before_the_announced_time_needs_an_explicit_early_close(groups: Groups) -> None:
    g = groups
    _place(g, g.cycle, g.cast.household, "a", 0, bread=1)
    with pytest.raises(services.CloseEarly):
        services.cycle_close(cycle=g.cycle, actor=None)
    g.cycle.refresh_from_db()
    assert g.cycle.closed_at is None
    services.cycle_close(
        cycle=g.cycle, actor=None, now=g.cycle.closes_at
    )  # at the announced time: no question
    g.cycle.refresh_from_db()
    assert g.cycle.closed_at is not None


def test_the_close_page_needs_a_confirmation_and_an_early_close_its_own(groups: Groups, login) -> None:
    g = groups
    _place(g, g.cycle, g.cast.household, "a", 0, bread=1)
    client = login(g.cast["coordinator"])
    url = reverse("orders_close", args=[g.cast.territory.slug, g.cycle.pk])
    for data in ({}, {"confirm": "on"}, {"early": "on"}):
        response = client.post(url, data)
        assert response.status_code == 200 and 'id="error-summary"' in response.content.decode()
        g.cycle.refresh_from_db()
        assert g.cycle.closed_at is None, data
    assert 'id="close-early-warning"' in client.get(url).content.decode()
    assert client.post(url, {"confirm": "on", "early": "on"}).status_code == 302
    g.cycle.refresh_from_db()
    assert g.cycle.closed_at is not None
    assert client.get(url).status_code == 302  # closed: back to the cycle


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("coordinator", 200),
        ("member", 403),
        ("other_member", 404),
        ("producer", 404),
        ("committee", 403),
        ("funder", 403),
        ("outsider", 404),
        ("nobody", 404),
    ],
)
def test_the_close_page_is_for_the_groups_coordinators(groups: Groups, login, who: str, status: int) -> None:
    g = groups
    person = g.other_member if who == "other_member" else g.cast[who]
    client = login(person)
    url = reverse("orders_close", args=[g.cast.territory.slug, g.cycle.pk])
    assert client.get(url).status_code == status
    closing = client.post(url, {"confirm": "on", "early": "on"}).status_code
    assert closing == (302 if who == "coordinator" else status)
    g.cycle.refresh_from_db()
    assert (g.cycle.closed_at is not None) == (who == "coordinator")


# --- O4: a new tier re-prices the open orders ---------------------------------------------------------------------


def test_a_new_tier_reprices_the_households_open_orders_not_its_closed_ones(groups: Groups, login) -> None:
    g = groups
    closed = open_cycle(g, "Octobre")
    old = _place(g, closed, g.cast.household, "o", 0, bread=1)
    services.cycle_close(cycle=closed, actor=None, early=True)
    order = _place(g, g.cycle, g.cast.household, "a", 0, bread=3)
    assert order.tier_percent == 100
    client = login(g.cast["member"])
    client.post(
        reverse("orders_group_tier", args=[g.cast.territory.slug, g.group.pk]),
        {"tier": g.tiers[130].pk},
    )
    order.refresh_from_db()
    old.refresh_from_db()
    assert order.tier_percent == 130 and selectors.receipt(order).due_cents == 1_560
    assert old.tier_percent == 100 and old.due_cents == 400  # closed: frozen
    page = client.get(reverse("orders_cycle", args=[g.cast.territory.slug, g.cycle.pk])).content.decode()
    assert "15,60" in page.split('id="my-due"')[1][:40]


# --- O5: errors at the top ----------------------------------------------------------------------------------------


def test_an_order_over_the_stock_is_summed_up_at_the_top_with_a_link_to_the_field(
    groups: Groups, login
) -> None:
    g = groups
    honey = g.product(g.cycle, g.honey)
    url = reverse("orders_cycle", args=[g.cast.territory.slug, g.cycle.pk])
    response = login(g.cast["member"]).post(url, {f"quantity_{honey.pk}": "11", "idempotency_key": "x"})
    page = response.content.decode()
    assert response.status_code == 200
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert f'href="#id_quantity_{honey.pk}"' in summary
    assert page.index('id="error-summary"') < page.index('id="pot-panel"')  # above everything else
    assert not Order.objects.filter(cycle=g.cycle).exists()


def test_opening_a_cycle_without_product_is_summed_up_at_the_top(groups: Groups, login) -> None:
    g = groups
    now = timezone.localtime()
    data = {
        "name": "Vide",
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (now + timedelta(days=5)).strftime("%Y-%m-%d"),
        "pickup_point": g.point.pk,
    }
    response = login(g.cast["coordinator"]).post(
        reverse("orders_group_cycle", args=[g.cast.territory.slug, g.group.pk]), data
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'href="#id_products_0"' in page.split('id="error-summary"')[1]
    assert not OrderCycle.objects.filter(group=g.group, name="Vide").exists()


# --- O6, O7: exports and the pickup list ----------------------------------------------------------------------------


def test_the_pickup_csv_sums_to_the_cycles_totals_and_names_units_for_people(groups: Groups, login) -> None:
    g = groups
    _place(g, g.cycle, g.cast.household, "a", 0, bread=2, honey=3)
    _place(g, g.cycle, g.cast.other_household, "b", 1, bread=1)
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    url = reverse("orders_pickup_csv", args=[g.cast.territory.slug, g.cycle.pk])
    text = login(g.cast["coordinator"]).get(url).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    due = sum(int(r["a_payer_centimes"]) for r in rows if r["a_payer_centimes"])
    assert due == sum(o.due_cents or 0 for o in Order.objects.filter(cycle=g.cycle)) == 2 * 400 + 3_000 + 400
    assert [r["ligne"] for r in rows].count("total") == 2
    loaves = next(r for r in rows if r["produit"] == "Pain" and r["quantite"] == "2")
    assert loaves["unite"] == unit_label(Unit.LOAF, 2) != Unit.LOAF  # a word for people, plural, not the code


def test_a_household_left_with_nothing_after_rounding_is_not_on_the_pickup_list(
    groups: Groups, login
) -> None:
    g = groups
    cycle = open_cycle(g, "Trim", round_to_cases=True)
    _place(g, cycle, g.cast.other_household, "a", 0, honey=6)
    nothing = _place(g, cycle, g.cast.household, "b", 1, honey=2)  # trimmed to 0
    services.cycle_close(cycle=cycle, actor=None, early=True)
    client = login(g.cast["coordinator"])
    page = client.get(reverse("orders_pickup", args=[g.cast.territory.slug, cycle.pk])).content.decode()
    assert f'id="order-{nothing.pk}"' not in page and 'id="nothing-to-collect"' in page
    text = client.get(reverse("orders_pickup_csv", args=[g.cast.territory.slug, cycle.pk])).content.decode()
    assert g.cast.household.display_name not in text


def _pickup_queries(cycle: OrderCycle) -> tuple[int, list[selectors.Receipt]]:
    with CaptureQueriesContext(connection) as captured:
        receipts = selectors.pickup_list(cycle)
    return len(captured.captured_queries), receipts


def test_the_pickup_list_reads_as_many_queries_for_two_orders_as_for_one_each_as_its_receipt(
    groups: Groups,
) -> None:
    g = groups
    one = open_cycle(g, "One")
    _place(g, one, g.cast.household, "a", 0, bread=1)
    two = open_cycle(g, "Two")
    paid = _place(g, two, g.cast.household, "b", 0, bread=2, honey=1)
    _place(g, two, g.cast.other_household, "c", 1, bread=1)
    for cycle in (one, two):
        services.cycle_close(cycle=cycle, actor=None, early=True)
    paid.refresh_from_db()
    services.payment_record(order=paid, method="cash", amount_cents=500, idempotency_key="p", actor=None)
    services.pickup_set(order=paid, collected=True, actor=None)
    queries_one, _receipts = _pickup_queries(one)
    queries_two, receipts = _pickup_queries(two)
    assert queries_two == queries_one  # not one query per order (the list of a 300-household group)
    assert len(receipts) == 2
    for got in receipts:
        alone = selectors.receipt(got.order)
        assert (got.lines, got.payments, got.collected) == (alone.lines, alone.payments, alone.collected)
        assert (got.full_cents, got.due_cents, got.paid_cents) == (
            alone.full_cents,
            alone.due_cents,
            alone.paid_cents,
        )
    assert [r.collected for r in receipts if r.order.pk == paid.pk] == [True]
    assert [r.paid_cents for r in receipts if r.order.pk == paid.pk] == [500]


def test_the_referral_box_of_a_member_has_a_visible_label(groups: Groups, login) -> None:
    g = groups
    membership = g.membership(g.cast.household)
    page = login(g.cast["coordinator"]).get(reverse("orders_group", args=[g.cast.territory.slug, g.group.pk]))
    row = page.content.decode().split(f'id="member-{membership.pk}"')[1].split("</tr>")[0]
    label = row.split(f'for="ref-{membership.pk}"')[0].rsplit("<label", 1)[1]
    assert "visually-hidden" not in label and "placeholder" not in row


# --- O8 ----------------------------------------------------------------------------------------------------------


def test_leaving_a_group_needs_the_confirmation(groups: Groups, login) -> None:
    g = groups
    client = login(g.cast["member"])
    url = reverse("orders_group", args=[g.cast.territory.slug, g.group.pk])
    assert client.post(url + "leave/", {}).status_code == 200
    assert GroupMembership.objects.get(pk=g.membership(g.cast.household).pk).left_on is None
    assert client.post(url + "leave/", {"confirm": "1"}).status_code == 302
    assert GroupMembership.objects.get(pk=g.membership(g.cast.household).pk).left_on is not None


def test_units_agree_with_their_quantity() -> None:
    assert unit_label(Unit.LOAF, 1) != unit_label(Unit.LOAF, 3)
    assert unit_label(Unit.JAR, 0) == unit_label(Unit.JAR, 1) or unit_label(Unit.JAR, 2) != unit_label(
        Unit.JAR, 1
    )


def test_a_cycle_form_proposes_a_name_by_delivery_month(groups: Groups, login) -> None:
    g = groups
    page = login(g.cast["coordinator"]).get(reverse("orders_group", args=[g.cast.territory.slug, g.group.pk]))
    delivery = timezone.localtime() + timedelta(days=10)
    assert f'value="{delivery:%m/%Y}"' in page.content.decode()
    assert CatalogueProduct.objects.exists()


# --- issue 13, item 10: the order page said to a member ------------------------------------------------------------


def test_the_case_rounding_rule_is_said_once_above_the_products(groups: Groups, login) -> None:
    g = groups
    g.bread.case_size = 4  # two products sold by the case
    g.bread.save(update_fields=["case_size"])
    cycle = _rounded_cycle(g)
    page = login(g.cast["member"]).get(reverse("orders_cycle", args=[g.cast.territory.slug, cycle.pk]))
    body = page.content.decode()
    assert body.count("au colis entier le plus proche") == 1
    assert body.index('id="case-rule"') < body.index('class="plain order-lines"')
    for product in (g.honey, g.bread):  # each product still says how far the group is from its next case
        assert f'id="case-help-{g.product(cycle, product).pk}"' in body


def test_a_member_at_the_70_tier_is_not_told_the_pot_is_short_as_if_it_were_their_doing(
    groups: Groups, login
) -> None:
    g = groups
    cycle = open_cycle(g, "Décembre")
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[70], actor=None, by_household=True
    )
    bread = g.product(cycle, g.bread)
    url = reverse("orders_cycle", args=[g.cast.territory.slug, cycle.pk])
    member = login(g.cast["member"])
    response = member.post(
        url, {f"quantity_{bread.pk}": "3", "idempotency_key": "order-70-0001"}, follow=True
    )
    order = Order.objects.get(cycle=cycle, household=g.cast.household)
    assert order.pot_flagged  # the pot is short after this order: a matter for the coordinators
    body = response.content.decode()
    assert "insuffisante" not in body and 'id="pot-short"' not in body
    assert "Commande enregistrée" in body
    coordinator = login(g.cast["coordinator"]).get(url).content.decode()
    assert 'id="pot-short"' in coordinator and "financeur" in coordinator


def test_the_demo_names_its_cycles_by_the_month_in_words() -> None:
    from datetime import date

    from django.utils import translation

    from grenier.orders.demo import _cycle_name

    for language in ("fr", "en"):  # the demo's French names, whatever language is active
        with translation.override(language):
            assert _cycle_name(date(2026, 12, 1)) == "Commande de décembre 2026"


def test_an_open_cycle_s_page_and_its_close_step_compute_the_close_once(
    groups: Groups, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = groups
    _place(g, g.cycle, g.cast.household, "a", 0, bread=2, honey=1)
    planned: list[tuple[str, int]] = []

    def counting(name: str) -> Any:
        real = getattr(services, name)

        def counted(cycle: OrderCycle) -> Any:
            planned.append((name, cycle.pk))
            return real(cycle)

        return counted

    for name in ("close_plan", "close_preview"):
        monkeypatch.setattr(services, name, counting(name))
    client = login(g.cast["coordinator"])
    slug = g.cast.territory.slug
    for url, computed in (
        (
            reverse("orders_cycle", args=[slug, g.cycle.pk]),
            "close_preview",
        ),  # the figures, summed by the database
        (reverse("orders_close", args=[slug, g.cycle.pk]), "close_plan"),  # and who gets fewer units
    ):
        planned.clear()
        page = client.get(url)
        assert page.status_code == 200
        assert planned == [(computed, g.cycle.pk)]  # the figures and the plan share one reading of the cycle
        figures = page.context["figures"]
        assert figures.full_cents == 2 * 400 + 1_000 and figures.orders == 1


def test_the_payouts_of_many_cycles_are_read_in_as_many_queries_as_of_one_each_as_producer_payouts(
    groups: Groups,
) -> None:
    g = groups
    cycles = []
    for number, name in enumerate(("Paid", "Half paid", "Unpaid")):
        cycle = open_cycle(g, name)
        _place(g, cycle, g.cast.household, f"o{number}", 0, bread=number + 1, honey=1)
        services.cycle_close(cycle=cycle, actor=None, early=True)
        cycle.refresh_from_db()
        cycles.append(cycle)
    services.producer_pay(
        cycle=cycles[0], producer=g.fournil, amount_cents=400, idempotency_key="a", actor=None
    )
    services.producer_pay(
        cycle=cycles[1], producer=g.fournil, amount_cents=300, idempotency_key="b", actor=None
    )
    services.producer_pay(
        cycle=cycles[1], producer=g.rucher, amount_cents=1_000, idempotency_key="c", actor=None
    )
    farms = [g.fournil, g.rucher]
    counts = []
    for some in (cycles[:1], [*cycles, g.cycle]):  # the open cycle has no row
        with CaptureQueriesContext(connection) as captured:
            rows = selectors.payout_rows(some, farms)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1] == 2
    assert set(rows) == {(c.pk, f.pk) for c in cycles for f in farms}
    for cycle in cycles:
        for farm in farms:
            alone = selectors.producer_payouts(cycle, farm)
            got = rows[(cycle.pk, farm.pk)]
            assert (got.owed_cents, got.payouts, got.paid_cents) == (
                alone.owed_cents,
                alone.payouts,
                alone.paid_cents,
            )
    assert rows[(cycles[1].pk, g.fournil.pk)].left_cents == 2 * 400 - 300
    assert [row.producer for row in selectors.cycle_payouts(cycles[1])] == selectors.cycle_producers(
        cycles[1]
    )
