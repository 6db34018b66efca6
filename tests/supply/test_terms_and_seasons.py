"""What the QA walkthrough asked of contracts and invoices: a contract line's seasonal calendar shown on the
contracts page, an invoice's due date on its page (grenier.supply.models, the supply pages)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import translation

from grenier.supply import billing
from grenier.supply.models import ContractLine

from .conftest import Pial
from .test_billing import OCTOBER, october


def _url(name: str, pial: Pial, *args: object) -> str:
    return reverse(name, args=[pial.cast.territory.slug, *args])


def test_a_contract_lines_months_read_as_runs_of_the_season() -> None:
    with translation.override("en"):
        assert ContractLine(months=[9, 10, 11, 12, 1, 2, 3, 4]).months_text == "September \u2013 April"
        assert (
            ContractLine(months=[5, 6, 9, 10, 11]).months_text == "May \u2013 June, September \u2013 November"
        )
        assert ContractLine(months=[7]).months_text == "July"
        assert ContractLine(months=[]).months_text == ""
        assert ContractLine(months=list(range(1, 13))).months_text == ""


def test_the_contracts_page_shows_a_lines_season(pial: Pial, login) -> None:
    line = pial.line(pial.school_contract, "carottes")
    line.months = [6, 7, 8, 9]
    line.save(update_fields=["months"])
    client: Client = login(pial.cast["coordinator"])
    body = client.get(_url("supply_contracts", pial)).content.decode()
    row = body[body.index(f'id="contract-line-{line.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="season"' in row and line.months_text in row
    other = pial.line(pial.school_contract, "poireaux")
    other_row = body[body.index(f'id="contract-line-{other.pk}"') :]
    assert 'class="season"' not in other_row[: other_row.index("</tr>")]  # all year: nothing to say


def test_a_kitchens_invoice_page_shows_when_it_is_due(pial: Pial, login) -> None:
    october(pial)
    docs = billing.invoices_issue(territory=pial.cast.territory, month=OCTOBER, actor=None)
    school = next(d for d in docs if d.kitchen == pial.school)
    statement = next(d for d in docs if d.producer == pial.saules)
    due = school.issued_on + timedelta(days=pial.platform.payment_terms_days)
    body = login(pial.cast["kitchen"]).get(_url("supply_money_invoice", pial, school.pk)).content.decode()
    assert 'id="due-on"' in body and due.strftime("%d/%m/%Y") in body
    body = login(pial.cast["producer"]).get(_url("supply_money_invoice", pial, statement.pk)).content.decode()
    assert 'id="due-on"' not in body
