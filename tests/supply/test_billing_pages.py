"""The money pages: who may read and do what (coordinator, kitchen manager, grower, committee, member, outsider),
issuing a month after seeing it, credit notes and payments from the invoice's page, advances, the development
fund, and the PDFs (documents and delivery notes)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from grenier.core.models import User
from grenier.supply import billing
from grenier.supply.models import Advance, Invoice, InvoiceKind, SupplyWeek, WeekStatus

from .conftest import Pial
from .test_billing import MONDAY, OCTOBER, fund, october


def url(pial: Pial, name: str, *args: Any) -> str:
    return reverse(name, args=[pial.cast.territory.slug, *args])


def issued(pial: Pial) -> dict[str, Invoice]:
    october(pial)
    docs = billing.invoices_issue(territory=pial.cast.territory, month=OCTOBER, actor=None)
    return {
        "school": next(d for d in docs if d.kitchen == pial.school),
        "ehpad": next(d for d in docs if d.kitchen == pial.ehpad),
        "saules": next(d for d in docs if d.producer == pial.saules),
        "pic": next(d for d in docs if d.producer == pial.pic),
    }


def people(pial: Pial) -> dict[str, User]:
    cast = pial.cast
    return {
        "coordinator": cast["coordinator"],
        "kitchen": cast["kitchen"],
        "other_kitchen": pial.other_kitchen,
        "grower": cast["producer"],
        "other_grower": pial.other_grower,
        "committee": cast["committee"],
        "funder": cast["funder"],
        "member": cast["member"],
        "outsider": cast["outsider"],
    }


def test_each_person_sees_only_their_documents(pial: Pial, login: Any) -> None:
    docs = issued(pial)
    who = people(pial)
    seen = {}
    for name in ("coordinator", "kitchen", "other_kitchen", "grower", "other_grower"):
        response = login(who[name]).get(url(pial, "supply_money_invoices"))
        assert response.status_code == 200, name
        seen[name] = {doc for doc in docs.values() if doc.reference in response.content.decode()}
    assert seen["coordinator"] == set(docs.values())
    assert seen["kitchen"] == {docs["school"]}
    assert seen["other_kitchen"] == {docs["ehpad"]}
    assert seen["grower"] == {docs["saules"]}
    assert seen["other_grower"] == {docs["pic"]}
    assert b"issue-link" in login(who["coordinator"]).get(url(pial, "supply_money_invoices")).content
    assert b"issue-link" not in login(who["kitchen"]).get(url(pial, "supply_money_invoices")).content
    for name, status in (("committee", 403), ("funder", 403), ("member", 403), ("outsider", 404)):
        assert login(who[name]).get(url(pial, "supply_money_invoices")).status_code == status, name
    login(None)
    assert login(None).get(url(pial, "supply_money_invoices")).status_code == 302  # to the login page


def test_a_grower_sees_its_advances(pial: Pial, login: Any) -> None:
    fund(pial, 10_000)
    billing.advance_grant(
        producer=pial.saules,
        amount_cents=4_321,
        monthly_deduction_cents=1_000,
        granted_on=date(2026, 3, 1),
        idempotency_key="a",
        actor=None,
    )
    page = login(pial.cast["producer"]).get(url(pial, "supply_money_invoices")).content.decode()
    assert "my-advances" in page and "43,21" in page
    other = login(pial.other_grower).get(url(pial, "supply_money_invoices")).content.decode()
    assert "my-advances" not in other


def test_the_coordinator_sees_a_month_then_issues_it(pial: Pial, login: Any) -> None:
    october(pial)
    client = login(pial.cast["coordinator"])
    assert client.get(url(pial, "supply_money_issue")).status_code == 200
    preview = client.get(url(pial, "supply_money_issue") + "?month=2026-10")
    page = preview.content.decode()
    assert preview.status_code == 200 and "preview-kitchens" in page and "issue-form" in page
    assert not Invoice.objects.exists()  # showing writes nothing
    total = preview.context["preview"].total_cents
    assert total == 3_665 + 2_000

    # what is billed changed since it was shown: shown again, nothing issued
    stale = client.post(
        url(pial, "supply_money_issue"), {"month": "2026-10", "shown_total": "1", "idempotency_key": "k"}
    )
    assert stale.status_code == 422 and not Invoice.objects.exists()

    done = client.post(
        url(pial, "supply_money_issue"),
        {"month": "2026-10", "shown_total": str(total), "idempotency_key": "k"},
    )
    assert done.status_code == 302 and "month=2026-10" in done["Location"]
    assert Invoice.objects.count() == 5
    again = client.post(
        url(pial, "supply_money_issue"), {"month": "2026-10", "shown_total": "0", "idempotency_key": "k"}
    )
    assert again.status_code == 302 and Invoice.objects.count() == 5
    empty = client.get(url(pial, "supply_money_issue") + "?month=2026-10")
    assert b"nothing-to-bill" in empty.content

    bad = client.post(url(pial, "supply_money_issue"), {"month": "octobre", "shown_total": "0"})
    assert bad.status_code == 422 and bad.context["form"].errors["month"]


@pytest.mark.parametrize(
    ("name", "status"), [("kitchen", 403), ("grower", 403), ("committee", 403), ("outsider", 404)]
)
def test_only_a_coordinator_issues(pial: Pial, login: Any, name: str, status: int) -> None:
    october(pial)
    client = login(people(pial)[name])
    assert client.get(url(pial, "supply_money_issue") + "?month=2026-10").status_code == status
    response = client.post(url(pial, "supply_money_issue"), {"month": "2026-10", "shown_total": "5665"})
    assert response.status_code == status
    assert not Invoice.objects.exists()


def test_who_reads_an_invoice_and_its_pdf(pial: Pial, login: Any) -> None:
    docs = issued(pial)
    who = people(pial)
    school = docs["school"]
    allowed = {"coordinator", "kitchen"}
    expected = {
        "coordinator": 200,
        "kitchen": 200,
        "other_kitchen": 404,
        "grower": 404,
        "other_grower": 404,
        "committee": 403,
        "funder": 403,
        "member": 403,
        "outsider": 404,
    }
    for name, status in expected.items():
        client = login(who[name])
        assert client.get(url(pial, "supply_money_invoice", school.pk)).status_code == status, name
        pdf = client.get(url(pial, "supply_money_invoice_pdf", school.pk))
        assert pdf.status_code == status, name
        if name in allowed:
            assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
            assert school.reference in pdf["Content-Disposition"]
    statement = docs["saules"]
    assert login(who["grower"]).get(url(pial, "supply_money_invoice", statement.pk)).status_code == 200
    assert login(who["grower"]).get(url(pial, "supply_money_invoice_pdf", statement.pk)).status_code == 200
    assert login(who["other_grower"]).get(url(pial, "supply_money_invoice", statement.pk)).status_code == 404
    assert login(who["kitchen"]).get(url(pial, "supply_money_invoice", statement.pk)).status_code == 404
    # the forms are the coordinator's only
    assert (
        b"credit-form" in login(who["coordinator"]).get(url(pial, "supply_money_invoice", school.pk)).content
    )
    kitchen_page = login(who["kitchen"]).get(url(pial, "supply_money_invoice", school.pk)).content
    assert b"credit-form" not in kitchen_page and b"paid-form" not in kitchen_page


def test_the_documents_list_reads_what_is_due_in_one_query(pial: Pial, login: Any) -> None:
    """The amount still due of each document (its credit notes not yet paid) is read for the whole page at once, not
    with a query a row (a month of a big group is dozens of documents); the amounts are those of ``amount_due``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    docs = issued(pial)
    school = docs["school"]
    carrots = school.lines.get(product__name="Carottes")
    client = login(pial.cast["coordinator"])
    target = url(pial, "supply_money_credit_note", school.pk)
    client.post(target, {f"q{carrots.pk}": "2", "reason": "abîmé", "idempotency_key": "due"})
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(pial, "supply_money_invoices"), {"month": OCTOBER.strftime("%Y-%m")})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) >= len(docs) + 1  # the credit note too
    credit_notes_of = re.compile(r'"supply_invoice"\."corrects_id" (IN \(|= %s|= \d)')
    notes_read = [q for q in captured.captured_queries if credit_notes_of.search(q["sql"])]
    assert len(notes_read) == 1
    fresh = {doc.pk: billing.amount_due(Invoice.objects.get(pk=doc.pk)) for doc in Invoice.objects.all()}
    for row in rows:
        if row["due"] is not None:
            assert row["due"] == fresh[row["invoice"].pk]
    assert next(r["due"] for r in rows if r["invoice"].pk == school.pk) == school.net_cents - 440


def test_the_credit_notes_rows_are_built_for_the_coordinator_only(pial: Pial, login: Any) -> None:
    """The credit note's form has a row per line (each read with its plan line): a kitchen manager, who cannot
    issue one, does not have them built (they were half of a big invoice's page)."""
    school = issued(pial)["school"]
    who = people(pial)
    coordinator = login(who["coordinator"]).get(url(pial, "supply_money_invoice", school.pk))
    assert len(coordinator.context["credit_rows"]) == school.lines.count() > 0
    kitchen = login(who["kitchen"]).get(url(pial, "supply_money_invoice", school.pk))
    assert kitchen.status_code == 200 and kitchen.context["credit_rows"] == []
    assert len(kitchen.context["lines"]) == school.lines.count()
    # the lines are read once for the table and the form (then what credit notes took back, a second read)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        again = login(who["coordinator"]).get(url(pial, "supply_money_invoice", school.pk))
    assert len(again.context["credit_rows"]) == len(again.context["lines"]) == school.lines.count()
    reads = [q for q in captured.captured_queries if 'FROM "supply_invoiceline"' in q["sql"]]
    assert len(reads) == 2


def test_a_credit_note_from_the_invoice_page(pial: Pial, login: Any) -> None:
    school = issued(pial)["school"]
    carrots = school.lines.get(product__name="Carottes")
    client = login(pial.cast["coordinator"])
    target = url(pial, "supply_money_credit_note", school.pk)

    unreadable = client.post(target, {f"q{carrots.pk}": "deux", "reason": "abîmé", "idempotency_key": "a"})
    assert unreadable.status_code == 422
    too_much = client.post(target, {f"q{carrots.pk}": "12", "reason": "abîmé", "idempotency_key": "b"})
    assert too_much.status_code == 422
    no_reason = client.post(target, {f"q{carrots.pk}": "2", "reason": "", "idempotency_key": "c"})
    assert no_reason.status_code == 422 and no_reason.context["credit_form"].errors["reason"]
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()

    done = client.post(target, {f"q{carrots.pk}": "2", "reason": "abîmé", "idempotency_key": "d"})
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE, corrects=school)
    assert done.status_code == 302 and done["Location"] == url(pial, "supply_money_invoice", note.pk)
    assert note.lines.get().quantity == -2_000 and note.total_cents == -440
    # the same form sent again records nothing new
    client.post(target, {f"q{carrots.pk}": "2", "reason": "abîmé", "idempotency_key": "d"})
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, corrects=school).count() == 1

    everything = client.post(target, {"everything": "on", "reason": "annulée", "idempotency_key": "e"})
    assert everything.status_code == 302
    assert billing.amount_due(school) == 0
    assert all(rest.quantity == 0 for rest in billing.uncredited(school).values())

    for user, status in (
        (pial.cast["kitchen"], 403),
        (pial.cast["producer"], 403),
        (pial.cast["outsider"], 404),
    ):
        response = login(user).post(target, {"everything": "on", "reason": "x", "idempotency_key": "f"})
        assert response.status_code == status


def test_mark_paid_from_the_invoice_page(pial: Pial, login: Any) -> None:
    school = issued(pial)["school"]
    target = url(pial, "supply_money_paid", school.pk)
    for user, status in (
        (pial.cast["kitchen"], 403),
        (pial.cast["producer"], 403),
        (pial.cast["outsider"], 404),
    ):
        assert login(user).post(target, {"reference": "x"}).status_code == status
    school.refresh_from_db()
    assert school.paid_at is None
    response = login(pial.cast["coordinator"]).post(target, {"reference": "VIR 42"})
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.paid_at is not None and billing.amount_due(school) == 0


def test_advances_page(pial: Pial, login: Any) -> None:
    client = login(pial.cast["coordinator"])
    target = url(pial, "supply_money_advances")
    assert client.get(target).status_code == 200
    form = {
        "producer": str(pial.saules.pk),
        "amount": "300",
        "monthly_deduction": "50",
        "granted_on": "2026-03-01",
        "purpose": "Plants",
        "idempotency_key": "g1",
    }
    short = client.post(target, form)
    assert short.status_code == 422 and short.context["form"].non_field_errors()
    assert not Advance.objects.exists()
    fund(pial, 50_000)
    done = client.post(target, form)
    assert done.status_code == 302
    assert Advance.objects.get().amount_cents == 30_000
    client.post(target, form)  # sent twice: one advance
    assert Advance.objects.count() == 1
    page = client.get(target).content.decode()
    assert "outstanding" in page and "300,00" in page
    for name, status in (("kitchen", 403), ("grower", 403), ("committee", 403), ("outsider", 404)):
        assert login(people(pial)[name]).get(target).status_code == status, name
        assert login(people(pial)[name]).post(target, {**form, "idempotency_key": name}).status_code == status
    assert Advance.objects.count() == 1


def test_development_fund_page(pial: Pial, login: Any) -> None:
    issued(pial)
    target = url(pial, "supply_money_devfund")
    for name in ("coordinator", "committee", "funder"):
        response = login(people(pial)[name]).get(target)
        assert response.status_code == 200, name
        assert response.context["balance"] == 95 + 50 + 100
    for name, status in (("kitchen", 403), ("grower", 403), ("member", 403), ("outsider", 404)):
        assert login(people(pial)[name]).get(target).status_code == status, name
    committee = login(pial.cast["committee"])
    assert b"contribution-form" not in committee.get(target).content
    contribution = {"amount": "100", "source": "Cotisations 2026", "idempotency_key": "c1"}
    assert committee.post(target, contribution).status_code == 403
    coordinator = login(pial.cast["coordinator"])
    assert coordinator.post(target, contribution).status_code == 302
    assert coordinator.post(target, contribution).status_code == 302  # sent twice: recorded once
    assert billing.devfund_balance(pial.cast.territory) == 245 + 10_000
    bad = coordinator.post(target, {"amount": "-3", "source": "x", "idempotency_key": "c2"})
    assert bad.status_code == 422


def test_who_gets_a_delivery_note(pial: Pial, login: Any) -> None:
    october(pial)
    monday = MONDAY.isoformat()
    target = url(pial, "supply_delivery_note", monday, pial.saules.pk, pial.school.pk, monday)
    expected = {
        "coordinator": 200,
        "grower": 200,  # a person of the farm
        "kitchen": 200,  # a manager of the kitchen
        "other_grower": 404,
        "other_kitchen": 404,
        "committee": 403,
        "member": 403,
        "outsider": 404,
    }
    for name, status in expected.items():
        response = login(people(pial)[name]).get(target)
        assert response.status_code == status, name
        if status == 200:
            assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    client = login(pial.cast["coordinator"])
    nothing = url(pial, "supply_delivery_note", monday, pial.terrasses.pk, pial.school.pk, monday)
    assert client.get(nothing).status_code == 404
    outside = url(pial, "supply_delivery_note", monday, pial.saules.pk, pial.school.pk, "2026-10-20")
    assert client.get(outside).status_code == 404
    assert client.get(url(pial, "supply_delivery_note", "lundi", 1, 1, monday)).status_code == 404

    # a week not yet published (october() planned the Pic's carrots for the nursing home on the 13th): the
    # coordinators only
    draft_monday, draft_day = date(2026, 10, 12), date(2026, 10, 13)
    assert SupplyWeek.objects.get(monday=draft_monday).status == WeekStatus.PLANNED
    draft = url(
        pial,
        "supply_delivery_note",
        draft_monday.isoformat(),
        pial.pic.pk,
        pial.ehpad.pk,
        draft_day.isoformat(),
    )
    assert login(pial.other_grower).get(draft).status_code == 404
    assert login(pial.other_kitchen).get(draft).status_code == 404
    assert login(pial.cast["coordinator"]).get(draft).status_code == 200
    # the week's coordinator (a grower in rotation) gets every delivery note of its week
    week = SupplyWeek.objects.get(monday=MONDAY)
    week.coordinator = pial.other_grower
    week.save()
    assert login(pial.other_grower).get(target).status_code == 200


def test_the_development_funds_movements_come_a_phone_page_at_a_time(pial: Pial, login: Any) -> None:
    """Issue 13, item 11: the second page shows the next movements, none twice; any page number is answered."""
    from grenier.core.pages import PAGE_SIZE

    for n in range(PAGE_SIZE + 3):
        billing.devfund_contribute(
            territory=pial.cast.territory,
            amount_cents=100 + n,
            source=f"Don {n:02d}",
            idempotency_key=f"page-{n}",
            actor=None,
        )
    client = login(pial.cast["coordinator"])
    target = url(pial, "supply_money_devfund")
    first, second = client.get(target), client.get(target, {"page": "2"})
    amounts = [row["movement"].amount_cents for page in (first, second) for row in page.context["movements"]]
    assert len(first.context["movements"]) == PAGE_SIZE
    assert sorted(amounts) == [100 + n for n in range(PAGE_SIZE + 3)]  # every movement once, none twice
    assert amounts[:PAGE_SIZE] == sorted(amounts, reverse=True)[:PAGE_SIZE]  # the latest first
    assert "Page 2 sur 2" in second.content.decode()
    for bad in ("0", "-1", "999", "nonsense", "99999999999999999999999"):
        assert client.get(target, {"page": bad}).status_code == 200, bad
