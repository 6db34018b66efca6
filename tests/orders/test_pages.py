"""The buying groups' pages: who may open each one (200), who is refused (403: a role with no part in buying
groups or not a coordinator of the group; 404: no role here, a member of another group, a producer of another
farm), and the journeys they exist for."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from grenier.core.models import Role
from grenier.orders import services
from grenier.orders.models import CatalogueProduct, Order, OrderStatus, Pickup, Unit, unit_label

from .conftest import Groups

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody", "other_member"]
NO_PART = {"committee", "cashier", "kitchen", "social_worker", "funder", "school"}  # 403 everywhere


def _people(g: Groups) -> dict[str, object]:
    return {**g.cast.people, "other_member": g.other_member}


def _closed_order(g: Groups) -> Order:
    product = g.product(g.cycle, g.bread)
    placed = services.order_place(
        cycle=g.cycle, household=g.cast.household, quantities={product.pk: 2}, idempotency_key="p", actor=None
    )
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    return placed.order


def _pages(g: Groups) -> dict[str, tuple[str, set[str]]]:
    """url and who gets a 200; NO_PART get 403, outsider and nobody 404; the rest the status given."""
    slug = g.cast.territory.slug
    order = _closed_order(g)
    cycle = g.cycle.pk
    return {
        "home": (reverse("orders_home", args=[slug]), {"coordinator", "member", "producer", "other_member"}),
        "group": (reverse("orders_group", args=[slug, g.group.pk]), {"coordinator", "member"}),
        "cycle": (reverse("orders_cycle", args=[slug, cycle]), {"coordinator", "member"}),
        "pickup": (reverse("orders_pickup", args=[slug, cycle]), {"coordinator"}),
        "pickup_pdf": (reverse("orders_pickup_pdf", args=[slug, cycle]), {"coordinator"}),
        "pickup_csv": (reverse("orders_pickup_csv", args=[slug, cycle]), {"coordinator"}),
        "po_pdf": (reverse("orders_po_pdf", args=[slug, cycle, g.fournil.pk]), {"coordinator", "producer"}),
        "po_csv": (reverse("orders_po_csv", args=[slug, cycle, g.fournil.pk]), {"coordinator", "producer"}),
        "po_other_farm": (reverse("orders_po_pdf", args=[slug, cycle, g.rucher.pk]), {"coordinator"}),
        "receipt": (reverse("orders_receipt", args=[slug, order.pk]), {"coordinator", "member"}),
        "catalogue": (reverse("orders_catalogue", args=[slug, g.fournil.pk]), {"coordinator", "producer"}),
        "catalogue_other_farm": (reverse("orders_catalogue", args=[slug, g.rucher.pk]), {"coordinator"}),
    }


# A member of the group that is no coordinator of it is refused its managers' pages (403); anyone else who has a
# part in buying groups but not in this group or farm is told it does not exist (404).
FORBIDDEN_TO_MEMBER = {"pickup", "pickup_pdf", "pickup_csv"}


@pytest.mark.parametrize("who", EVERYONE)
def test_every_page_answers_each_person_as_the_policy_says(groups: Groups, login, who: str) -> None:
    pages = _pages(groups)
    client: Client = login(_people(groups)[who])
    for name, (url, allowed) in pages.items():
        status = client.get(url).status_code
        if who in allowed:
            expected = 200
        elif who in ("outsider", "nobody"):
            expected = 404
        elif who in NO_PART or (who == "member" and name in FORBIDDEN_TO_MEMBER):
            expected = 403
        else:
            expected = 404
        assert status == expected, (name, who, status)


def test_a_member_orders_at_its_tier_and_sees_the_pot(groups: Groups, login) -> None:
    g = groups
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[130], actor=None, by_household=True
    )
    client = login(g.cast["member"])
    url = reverse("orders_cycle", args=[g.cast.territory.slug, g.cycle.pk])
    bread = g.product(g.cycle, g.bread)
    form = {
        f"quantity_{bread.pk}": "3",
        f"quantity_{g.product(g.cycle, g.honey).pk}": "0",
        "idempotency_key": "k-1",
    }
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the same form sent twice records once
    order = Order.objects.get(cycle=g.cycle, household=g.cast.household)
    assert order.changes.count() == 1 and order.tier_percent == 130
    page = client.get(url).content.decode()
    assert 'id="my-due"' in page and "15,60" in page  # 3 x 4,00 € at 130 %
    assert 'id="pot-after"' in page and "3,60" in page
    # a member of another group may neither see nor order
    other = login(g.other_member)
    assert other.post(url, {**form, "idempotency_key": "k-2"}).status_code == 404
    # a member may not close
    assert (
        login(g.cast["member"])
        .post(reverse("orders_close", args=[g.cast.territory.slug, g.cycle.pk]))
        .status_code
        == 403
    )


def test_a_coordinator_closes_records_a_payment_and_checks_off_the_pickup(groups: Groups, login) -> None:
    g = groups
    slug = g.cast.territory.slug
    product = g.product(g.cycle, g.bread)
    order = services.order_place(
        cycle=g.cycle, household=g.cast.household, quantities={product.pk: 2}, idempotency_key="p", actor=None
    ).order
    client = login(g.cast["coordinator"])
    close = reverse("orders_close", args=[slug, g.cycle.pk])
    assert client.get(close).status_code == 200  # the confirmation step
    assert client.post(close, {"confirm": "on", "early": "on"}).status_code == 302
    g.cycle.refresh_from_db()
    assert g.cycle.closed_at is not None
    receipt = reverse("orders_receipt", args=[slug, order.pk])
    paid = {"method": "cash", "amount": "8,00", "idempotency_key": "pay-1"}
    assert client.post(receipt, paid).status_code == 302
    assert client.post(receipt, paid).status_code == 302
    assert order.payments.count() == 1
    too_much = client.post(receipt, {**paid, "idempotency_key": "pay-2", "amount": "1"})
    assert too_much.status_code == 200 and order.payments.count() == 1
    assert (
        client.post(reverse("orders_pickup_check", args=[slug, order.pk]), {"collected": "1"}).status_code
        == 302
    )
    assert Pickup.objects.filter(order=order).exists()
    pdf = client.get(reverse("orders_po_pdf", args=[slug, g.cycle.pk, g.fournil.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    csv_text = client.get(reverse("orders_po_csv", args=[slug, g.cycle.pk, g.fournil.pk])).content.decode(
        "utf-8-sig"
    )
    assert f"Pain;{unit_label(Unit.LOAF, 2)};2;1;400;800" in csv_text  # units in words, as on the PDF
    assert login(g.cast["member"]).post(receipt, {**paid, "idempotency_key": "pay-3"}).status_code == 403


def test_a_producer_edits_its_own_catalogue_only(groups: Groups, login) -> None:
    g = groups
    slug = g.cast.territory.slug
    client = login(g.cast["producer"])
    form = {
        "name": "Brioche",
        "unit": "piece",
        "price": "6,50",
        "case_size": "1",
        "stock": "",
        "is_active": "on",
    }
    assert client.post(reverse("orders_catalogue", args=[slug, g.fournil.pk]), form).status_code == 302
    assert CatalogueProduct.objects.get(producer=g.fournil, name="Brioche").price_cents == 650
    assert client.post(reverse("orders_catalogue", args=[slug, g.rucher.pk]), form).status_code == 404
    assert not CatalogueProduct.objects.filter(producer=g.rucher, name="Brioche").exists()


def test_a_member_chooses_its_tier_and_a_coordinator_records_a_referral(groups: Groups, login) -> None:
    g = groups
    slug = g.cast.territory.slug
    url = reverse("orders_group", args=[slug, g.group.pk])
    assert login(g.cast["member"]).post(url + "tier/", {"tier": g.tiers[70].pk}).status_code == 302
    assert g.membership(g.cast.household).tier == g.tiers[70]
    membership = g.membership(g.cast.household)
    referral = reverse("orders_member_tier", args=[slug, g.group.pk, membership.pk])
    assert login(g.cast["member"]).post(referral, {"tier": g.tiers[100].pk}).status_code == 403
    assert (
        login(g.cast["coordinator"]).post(referral, {"tier": g.tiers[100].pk, "referral": "CCAS"}).status_code
        == 302
    )
    assert g.membership(g.cast.household).tier_source == "referral"
    # the household may no longer take a bigger discount, but may choose to pay more
    refused = login(g.cast["member"]).post(url + "tier/", {"tier": g.tiers[70].pk})
    assert refused.status_code == 200 and 'id="tier-referral"' in refused.content.decode()
    assert g.membership(g.cast.household).tier == g.tiers[100]
    assert login(g.cast["member"]).post(url + "tier/", {"tier": g.tiers[130].pk}).status_code == 302
    assert g.membership(g.cast.household).tier == g.tiers[130]
    assert g.membership(g.cast.household).tier_set_by == g.cast["member"]
    assert Order.objects.filter(status=OrderStatus.PLACED).count() == 0


# Each form of a group's page posts to its own view (one POST, one view, one service call). An empty form is
# re-shown (200) to those who may send it; the group's member who does not coordinate it is refused the
# coordinators' forms (403); whoever has no part in buying groups 403; anyone outside the group 404.
GROUP_FORMS = {
    "orders_group_tier": {"member"},
    "orders_group_leave": {"member"},
    "orders_group_point": {"coordinator"},
    "orders_group_cycle": {"coordinator"},
    "orders_group_card": {"coordinator"},
    "orders_group_member": {"coordinator"},
}
COORDINATORS_ONLY = {"orders_group_point", "orders_group_cycle", "orders_group_card", "orders_group_member"}


@pytest.mark.parametrize("who", EVERYONE)
def test_each_form_of_a_group_answers_each_person_as_the_policy_says(groups: Groups, login, who: str) -> None:
    client: Client = login(_people(groups)[who])
    for name, allowed in GROUP_FORMS.items():
        url = reverse(name, args=[groups.cast.territory.slug, groups.group.pk])
        assert client.get(url).status_code in (404, 405, 403)  # never a page to read
        status = client.post(url, {}).status_code
        if who in allowed:
            expected = 200
        elif who in ("outsider", "nobody"):
            expected = 404
        elif who in NO_PART or (who == "member" and name in COORDINATORS_ONLY):
            expected = 403
        else:
            expected = 404
        assert status == expected, (name, who, status)
