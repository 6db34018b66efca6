"""``grenier supply week|plan|publish|invoice|egalim`` end to end on the small platform of the fixture."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from grenier.ledger.models import Entry
from grenier.supply.models import Invoice, PlanLine, SupplyWeek, WeekStatus

from .conftest import Pial
from .test_api import MONDAY, open_week, planned, plenty, published

WEEK = f"{MONDAY:%Y-%m-%d}"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("supply", *args, "--territory", "vallee", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_week_opens_once_with_the_contracts_schedule(pial: Pial) -> None:
    out, _err = run("week", "--monday", WEEK)
    assert "opened" in out and "11 demand lines" in out and "0 declarations" in out
    again, _err = run("week", "--monday", WEEK)
    assert "already open" in again and "11 demand lines" in again
    assert SupplyWeek.objects.filter(monday=MONDAY).count() == 1


@pytest.mark.parametrize(
    "args",
    [
        ("week", "--monday", "2026-10-06"),  # a Tuesday
        ("week", "--monday", "05/10/2026"),
        ("invoice", "--month", "octobre"),
        ("publish", "--monday", WEEK),  # not open
        ("egalim", "--kitchen", "999999", "--year", "2026"),
    ],
)
def test_bad_arguments_are_refused(pial: Pial, args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        run(*args)
    assert not SupplyWeek.objects.exists()


def test_an_unknown_territory_is_refused(pial: Pial) -> None:
    with pytest.raises(CommandError):
        call_command("supply", "week", "--monday", WEEK, "--territory", "nulle-part")


def test_plan_prints_what_is_met_and_proves_it_optimal(pial: Pial) -> None:
    plenty(pial, open_week(pial))
    out, err = run("plan", "--monday", WEEK)
    assert "Demand met: 11 of 11 lines in full, 100.0 %" in out
    assert "Proven optimal: yes" in out and " s" in out
    assert "Solving the week of 2026-10-05" in err  # progress goes to stderr
    week = SupplyWeek.objects.get(monday=MONDAY)
    assert week.status == WeekStatus.PLANNED and PlanLine.objects.filter(week=week).exists()


def test_plan_lists_unmet_lines_with_their_reason(pial: Pial) -> None:
    out, _err = run("plan", "--monday", WEEK)  # opens the week; nobody declared anything
    assert "Demand met: 0 of 11 lines in full" in out
    assert "11 lines not met in full:" in out
    assert out.count("[not_declared]") == 11
    assert "École des Thermes · Carottes" in out


def test_plan_and_publish_in_one_go_then_publish_refuses_again(pial: Pial) -> None:
    plenty(pial, open_week(pial))
    out, _err = run("plan", "--monday", WEEK, "--publish")
    assert "published" in out
    assert SupplyWeek.objects.get(monday=MONDAY).status == WeekStatus.PUBLISHED
    with pytest.raises(CommandError):
        run("publish", "--monday", WEEK)


def test_publish_a_planned_week(pial: Pial) -> None:
    planned(pial)
    out, _err = run("publish", "--monday", WEEK)
    assert "published" in out
    assert SupplyWeek.objects.get(monday=MONDAY).status == WeekStatus.PUBLISHED


@pytest.fixture
def delivered(pial: Pial) -> Pial:
    week = published(pial)
    lines = list(PlanLine.objects.filter(week=week).order_by("pk"))
    for line in lines[:-1]:  # the last one is billed at the planned quantity: no receipt
        line.received_quantity = line.quantity
        line.save(update_fields=["received_quantity"])
    return pial


def test_invoice_dry_run_writes_nothing_then_issues_once(delivered: Pial) -> None:
    entries = Entry.objects.count()
    out, _err = run("invoice", "--month", "2026-10", "--dry-run")
    assert "nothing is written" in out
    assert "École des Thermes" in out and "EHPAD Les Tilleuls" in out and "Ferme des Saules" in out
    assert "Would issue 2 invoices" in out and "at the planned quantity" in out
    assert Invoice.objects.count() == 0 and Entry.objects.count() == entries

    out, err = run("invoice", "--month", "2026-10")
    issued = Invoice.objects.count()
    assert issued == 5 and f"{issued} documents issued for 2026-10." in out  # 2 kitchens, 3 farms
    for invoice in Invoice.objects.all():
        assert invoice.reference in out
    assert "Issuing 2026-10" in err
    again, _err = run("invoice", "--month", "2026-10")
    assert "0 documents issued" in again and Invoice.objects.count() == issued


def test_invoicing_a_month_not_begun_is_refused(pial: Pial) -> None:
    with pytest.raises(CommandError):
        run("invoice", "--month", "2099-01")


def test_egalim_prints_the_shares_and_writes_the_ma_cantine_csv(delivered: Pial, tmp_path: Path) -> None:
    run("invoice", "--month", "2026-10")
    school = delivered.school
    target = tmp_path / "achats.csv"
    out, _err = run("egalim", "--kitchen", str(school.pk), "--year", "2026", "--csv", str(target))
    total = sum(Invoice.objects.filter(kitchen=school).values_list("total_cents", flat=True))
    assert f"{school.name}, 2026" in out and "organic" in out and "quality" in out and "2026-10" in out
    assert "target 20 %" in out and "target 50 %" in out
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0][:10] == [
        "siret",
        "description",
        "fournisseur",
        "date",
        "prix_ht",
        "famille_produits",
        "categories_egalim",
        "origine",
        "est_circuit_court",
        "est_local",
    ]
    body = rows[1:]
    assert body and {row[0] for row in body} == {school.siret}
    assert sum(round(float(row[4]) * 100) for row in body) == total
    assert f"{len(body)} purchase lines written" in out
    assert all(date.fromisoformat(row[3]).month == 10 for row in body)
