"""Running a month (issue 13, item 1): never before the month has begun, whoever asks (page, API, command line),
and the page shows what the run will do and asks to confirm."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from grenier.core.errors import InvalidInput
from grenier.fund import services
from grenier.fund.models import MonthLine, MonthlyRun
from grenier.ledger.selectors import ledger_check

from ..core.test_api import assert_problem, bearer, post
from .conftest import Fund
from .test_pages import EVERYONE, ROLES

PARIS = ZoneInfo("Europe/Paris")
DECEMBER = date(2026, 12, 1)
JANUARY = date(2027, 1, 1)
NOT_BEGUN = "Ce mois n'a pas commencé."
NOT_BEGUN_TEXT = "n'a pas commencé"


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[time_machine.Traveller]:
    """These tests tell a story dated by the calendar (the report of 4 December 2026): the fund is set up on
    25 November 2026 whatever day the suite is pinned to (GRENIER_TEST_NOW), then each test travels on."""
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=PARIS), tick=True) as traveller:
        yield traveller


@pytest.fixture
def on_4_december(fund: Fund) -> Iterator[Fund]:
    """4 December 2026, the day of the report: November has been run (by the fixture), December has begun."""
    with time_machine.travel(datetime(2026, 12, 4, 18, 0, tzinfo=PARIS), tick=False):
        yield fund


def _runs(fund: Fund) -> set[date]:
    return set(MonthlyRun.objects.filter(territory=fund.cast.territory).values_list("month", flat=True))


def test_a_month_that_has_not_begun_is_refused_and_nothing_is_written(on_4_december: Fund) -> None:
    fund = on_4_december
    before = services.credit_balance(fund.cast.household)
    with pytest.raises(InvalidInput) as refused:
        services.monthly_run(territory=fund.cast.territory, month=JANUARY, actor=fund.cast["coordinator"])
    assert "janvier 2027" in refused.value.detail and "1 janvier 2027" in refused.value.detail
    assert refused.value.errors == {"month": [NOT_BEGUN]}
    with pytest.raises(InvalidInput):
        services.run_preview(territory=fund.cast.territory, month=JANUARY)
    assert _runs(fund) == {date(2026, 11, 1)}
    assert services.credit_balance(fund.cast.household) == before == 10_000


def test_a_month_is_run_from_its_first_minute_in_paris(fund: Fund) -> None:
    # 31 December 23:30 UTC is 1 January 00:30 in Paris: January has begun for the territory.
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        services.monthly_run(territory=fund.cast.territory, month=JANUARY, actor=None)
    assert JANUARY in _runs(fund)
    # 23:59 on 31 January in Paris: February has not begun.
    with (
        time_machine.travel(datetime(2027, 1, 31, 22, 59, tzinfo=ZoneInfo("UTC")), tick=False),
        pytest.raises(InvalidInput),
    ):
        services.monthly_run(territory=fund.cast.territory, month=date(2027, 2, 1), actor=None)


def test_the_preview_is_what_the_run_then_does(on_4_december: Fund) -> None:
    fund = on_4_december
    cast = fund.cast
    # The member chose 12,34 € from December; the neighbour pays the scale's suggestion; credit is spent first.
    services.contribution_choose(
        household=cast.household, amount_cents=1_234, effective_month=DECEMBER, actor=None
    )
    services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=2_550,
        idempotency_key="spent-before-december",
        actor=cast["cashier"],
    )
    preview = services.run_preview(territory=cast.territory, month=DECEMBER)
    assert (preview.households, preview.processed_now) == (2, 2)
    assert not _runs(fund) - {date(2026, 11, 1)}  # the preview writes nothing
    summary = services.monthly_run(territory=cast.territory, month=DECEMBER, actor=None)
    assert summary.processed_now == 2
    for field in (
        "credit_issued_cents",
        "contributions_due_cents",
        "contributions_paid_cents",
        "returned_cents",
    ):
        assert getattr(preview, field) == getattr(summary, field), field
    assert MonthLine.objects.get(household=cast.household, month=DECEMBER).contribution_paid_cents == 1_234
    again = services.run_preview(territory=cast.territory, month=DECEMBER)
    assert (again.households, again.processed_now, again.credit_issued_cents) == (2, 0, 0)
    assert ledger_check(cast.territory).ok


def test_the_page_shows_the_run_then_runs_it_once_confirmed(
    on_4_december: Fund, login: Callable[..., Client]
) -> None:
    fund = on_4_december
    client = login(fund.cast["coordinator"])
    url = reverse("fund_runs", args=["vallee"])
    shown = client.post(url, {"month": "2026-12"})
    assert shown.status_code == 200
    preview = shown.context["preview"]
    assert (preview.processed_now, preview.credit_issued_cents) == (2, 20_000)
    page = shown.content.decode()
    assert 'id="run-confirm"' in page and "Lancer décembre 2026 maintenant" in page
    assert DECEMBER not in _runs(fund) and services.credit_balance(fund.cast.household) == 10_000
    done = client.post(url, {"month": "2026-12", "confirm": "1"}, follow=True)
    assert DECEMBER in _runs(fund) and services.credit_balance(fund.cast.household) == 20_000
    assert "décembre 2026" in done.content.decode()
    client.post(url, {"month": "2026-12", "confirm": "1"})  # a resent form: nothing more
    assert services.credit_balance(fund.cast.household) == 20_000
    assert ledger_check(fund.cast.territory).ok


def test_the_page_refuses_a_future_month_even_confirmed(
    on_4_december: Fund, login: Callable[..., Client]
) -> None:
    fund = on_4_december
    client = login(fund.cast["coordinator"])
    url = reverse("fund_runs", args=["vallee"])
    for data in ({"month": "2027-01"}, {"month": "2027-01", "confirm": "1"}):
        response = client.post(url, data)
        assert response.status_code == 200 and response.context["preview"] is None
        # the refusal's whole reason, on the month field, said once (not again in a banner)
        [reason] = response.context["form"].errors["month"]
        assert reason.startswith(f"janvier 2027 {NOT_BEGUN_TEXT}")
        assert html.unescape(response.content.decode()).count(f"janvier 2027 {NOT_BEGUN_TEXT}") == 1
    assert JANUARY not in _runs(fund) and services.credit_balance(fund.cast.household) == 10_000


@pytest.mark.parametrize("confirm", ["", "1"])
@pytest.mark.parametrize("who", EVERYONE)
def test_only_a_coordinator_previews_or_runs_a_month(
    on_4_december: Fund, login: Callable[..., Client], who: str, confirm: str
) -> None:
    fund = on_4_december
    response = login(fund.cast[who]).post(
        reverse("fund_runs", args=["vallee"]), {"month": "2026-12", "confirm": confirm}
    )
    if who == "coordinator":
        assert response.status_code == (302 if confirm else 200)
        assert (DECEMBER in _runs(fund)) == bool(confirm)
    else:
        assert response.status_code == (403 if who in ROLES else 404)
        assert DECEMBER not in _runs(fund)


def test_the_api_previews_and_refuses_a_future_month(on_4_december: Fund, client: Client) -> None:
    fund = on_4_december
    headers = bearer(fund.cast, "coordinator")
    preview = client.get("/api/v1/fund/runs/preview?month=2026-12", headers=headers)
    assert preview.status_code == 200 and preview.json()["processed_now"] == 2
    assert preview.json()["credit_issued_cents"] == 20_000 and DECEMBER not in _runs(fund)
    body = assert_problem(post(client, "/api/v1/fund/runs", {"month": "2027-01"}, headers=headers), 422)
    assert "janvier 2027" in body["detail"]
    assert_problem(client.get("/api/v1/fund/runs/preview?month=2027-01", headers=headers), 422)
    assert JANUARY not in _runs(fund) and services.credit_balance(fund.cast.household) == 10_000


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_only_a_coordinator_previews_by_api(on_4_december: Fund, client: Client, who: str) -> None:
    fund = on_4_december
    territory = "elsewhere" if who == "outsider" else "territory"
    response = client.get(
        "/api/v1/fund/runs/preview?month=2026-12", headers=bearer(fund.cast, who, territory=territory)
    )
    if who == "coordinator":
        assert response.status_code == 200
    elif who == "outsider":  # a coordinator elsewhere: their token is for their own territory, without rules
        assert_problem(response, 409)
    else:
        assert_problem(response, 403)


def test_the_command_line_refuses_a_future_month_and_dry_runs(on_4_december: Fund) -> None:
    fund = on_4_december
    with pytest.raises(CommandError, match="janvier 2027"):
        call_command("fund", "run", "--month", "2027-01", "--territory", "vallee")
    out = StringIO()
    call_command("fund", "run", "--month", "2026-12", "--territory", "vallee", "--dry-run", stdout=out)
    assert "2 to run now" in out.getvalue() and "200,00" in out.getvalue()
    assert DECEMBER not in _runs(fund)
    call_command("fund", "run", "--month", "2026-12", "--territory", "vallee", stdout=StringIO())
    assert DECEMBER in _runs(fund)
