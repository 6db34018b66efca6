"""A run's totals (``RunTotals``) the runs page, the fund's dashboard and the projection read are kept true by the
database as month lines are written (issue 14): after any sequence of monthly runs, lines inserted, changed, moved to
another run and deleted, they equal the slow recount of the lines, run by run; and the pages' figures are the lines'
own sums."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.models import Household
from grenier.fund import selectors, services
from grenier.fund.models import MonthLine, MonthlyRun, RunTotals

from .conftest import Fund

Totals = dict[int, tuple[int, int, int, int, int]]


def recount(fund: Fund) -> Totals:
    """Per run, the lines and their sums, counted from the lines themselves."""
    return {
        row["run"]: (row["n"], row["due"], row["paid"], row["alloc"], row["ret"])
        for row in MonthLine.objects.filter(run__territory=fund.cast.territory)
        .values("run")
        .annotate(
            n=Count("id"),
            due=Sum("contribution_due_cents"),
            paid=Sum("contribution_paid_cents"),
            alloc=Sum("allocation_cents"),
            ret=Sum("returned_cents"),
        )
        .order_by()
    }


def kept(fund: Fund) -> Totals:
    rows = RunTotals.objects.filter(run__territory=fund.cast.territory).values_list(
        "run_id",
        "households",
        "contribution_due_cents",
        "contribution_paid_cents",
        "allocation_cents",
        "returned_cents",
    )
    return {run: tuple(values) for run, *values in rows if any(values)}  # type: ignore[misc]


MONTHS = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["run", "run", "change", "move", "save", "delete", "delete_run_lines", "insert"]),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_runs_totals_equal_their_lines_after_any_operations(
    fund: Fund, operations: list[tuple[str, int]]
) -> None:
    territory = fund.cast.territory
    coordinator = fund.cast["coordinator"]
    with transaction.atomic():
        assert kept(fund) == recount(fund)  # the fixture's own run, written before the test
        for operation, number in operations:
            lines = list(MonthLine.objects.filter(run__territory=territory).order_by("pk"))
            runs = list(MonthlyRun.objects.filter(territory=territory).order_by("pk"))
            if operation == "run" or not lines:
                services.monthly_run(
                    territory=territory, month=MONTHS[number % len(MONTHS)], actor=coordinator
                )
            elif operation == "change":  # a script correcting amounts, several lines in one statement
                MonthLine.objects.filter(pk__in=[line.pk for line in lines[number % len(lines) :: 2]]).update(
                    allocation_cents=number, returned_cents=number % 7, contribution_paid_cents=number % 300
                )
            elif operation == "move":  # a line moved to another run (same household, another month's run)
                line = lines[number % len(lines)]
                run = runs[number % len(runs)]
                if not MonthLine.objects.filter(household=line.household_id, month=run.month).exists():
                    MonthLine.objects.filter(pk=line.pk).update(run=run, month=run.month)
            elif operation == "save":
                line = lines[number % len(lines)]
                line.contribution_due_cents += number
                line.save()
            elif operation == "delete":
                MonthLine.objects.filter(pk=lines[number % len(lines)].pk).delete()
            elif operation == "delete_run_lines":
                MonthLine.objects.filter(run=runs[number % len(runs)]).delete()
            elif operation == "insert":  # lines written in one batch, as the run's batches are
                run = runs[number % len(runs)]
                taken = set(MonthLine.objects.filter(month=run.month).values_list("household_id", flat=True))
                free = Household.objects.filter(territory=territory).exclude(pk__in=taken)
                MonthLine.objects.bulk_create(
                    MonthLine(
                        run=run,
                        household=household,
                        month=run.month,
                        contribution_due_cents=number,
                        contribution_paid_cents=number // 2,
                        allocation_cents=number * 3,
                        returned_cents=number % 11,
                    )
                    for household in free
                )
            assert kept(fund) == recount(fund), operation
        # What the runs page and the dashboard show is the lines' own sums.
        totals = recount(fund)
        for row in selectors.runs_of(territory):
            shown = row["run"]
            assert isinstance(shown, MonthlyRun)
            n, _due, paid, alloc, returned = totals.get(shown.pk, (0, 0, 0, 0, 0))
            assert (
                row["households"],
                row["contributions_cents"],
                row["credit_cents"],
                row["returned_cents"],
            ) == (
                n,
                paid,
                alloc,
                returned,
            )
        for month in selectors.fund_figures(territory).monthly:
            run = MonthlyRun.objects.get(territory=territory, month=month.month)
            n, _due, paid, alloc, _returned = totals.get(run.pk, (0, 0, 0, 0, 0))
            assert (month.households, month.contributions, month.allocation) == (n, paid, alloc)
        transaction.set_rollback(True)


def test_a_run_counts_each_household_once(fund: Fund) -> None:
    """The fixture's run, written by ``monthly_run`` in batches: one row, as many households as lines."""
    run = MonthlyRun.objects.get(territory=fund.cast.territory, month=fund.month)
    totals = RunTotals.objects.get(run=run)
    assert totals.households == MonthLine.objects.filter(run=run).count() > 0
    assert kept(fund) == recount(fund)
    services.monthly_run(
        territory=fund.cast.territory, month=fund.month, actor=None
    )  # again: nothing changes
    assert RunTotals.objects.get(run=run).households == totals.households
