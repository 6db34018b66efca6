"""Who reads the indicators, on every page and endpoint: coordinators, committee members and funders; every other
role is refused (403), a person of another territory is told it does not exist (404), nobody logged in is sent to
log in (401 on the API). Small counts are exact for coordinators only, hidden for the others and in every public
output; no output carries a household's or a person's name."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from grenier.core.models import Role
from grenier.reports import registry
from grenier.reports.disclosure import THRESHOLD, Status, disclose
from grenier.reports.registry import Part, Result

from ..core.test_api import assert_problem, bearer
from ..fund.conftest import Fund

READERS = {"coordinator", "committee", "funder"}
ROLES = [role.value for role in Role]
PAGES = [
    "/t/vallee/reports/",
    "/t/vallee/reports/?period=2026-11",
    "/t/vallee/reports/indicators/households_reached/?period=2026",
    "/t/vallee/reports/download/indicators.csv?period=2026",
    "/t/vallee/reports/download/indicators.xlsx?period=2026",
    "/t/vallee/reports/download/open-data.zip?period=2026",
]
ENDPOINTS = [
    "/api/v1/reports/indicators",
    "/api/v1/reports/indicators?period=2026-11",
    "/api/v1/reports/indicators/households_reached?period=2026",
]
NAMES = ["Martin-Test", "Voisin-Test", "martin@test.grenier", "voisin@test.grenier", "06 00 00 00 01"]


@pytest.mark.parametrize("who", [*ROLES, "outsider", "nobody"])
def test_who_reads_each_page(fund: Fund, login: Any, who: str) -> None:
    client = login(fund.cast[who])
    for url in PAGES:
        response = client.get(url)
        expected = 200 if who in READERS else 404 if who in {"outsider", "nobody"} else 403
        assert response.status_code == expected, (url, response.status_code)


def test_nobody_logged_in_is_sent_to_log_in(fund: Fund, client: Client) -> None:
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for url in ENDPOINTS:
        assert_problem(client.get(url), 401)


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_who_calls_each_endpoint(fund: Fund, client: Client, who: str) -> None:
    headers = bearer(fund.cast, who, "elsewhere" if who == "outsider" else "territory")
    for url in ENDPOINTS:
        response = client.get(url, headers=headers)
        if who in READERS:
            assert response.status_code == 200, (url, response.content)
        elif who == "outsider":
            # their own territory: a coordinator there reads its (empty) figures, never the Vallée's
            assert response.status_code == 200 and "vallee" not in response.content.decode()
            assert_problem(
                client.get(url + ("&" if "?" in url else "?") + "territory=vallee", headers=headers), 422
            )
        else:
            assert_problem(response, 403)


@pytest.mark.parametrize(
    "period", ["26", "2026-13", "2026-00", "1999", "2101-01", "2026-1", "x", "2026-11-01"]
)
def test_a_bad_period_is_a_problem_naming_it(fund: Fund, client: Client, period: str) -> None:
    headers = bearer(fund.cast, "coordinator")
    for url in ("/api/v1/reports/indicators", "/api/v1/reports/indicators/votes_held"):
        problem = assert_problem(client.get(url, {"period": period}, headers=headers), 422)
        assert {error["field"] for error in problem["errors"]} == {"period"}


def test_an_unknown_indicator_is_not_found(fund: Fund, client: Client, login: Any) -> None:
    assert_problem(
        client.get("/api/v1/reports/indicators/nope", headers=bearer(fund.cast, "coordinator")), 404
    )
    assert login(fund.cast["coordinator"]).get("/t/vallee/reports/indicators/nope/").status_code == 404
    assert login(fund.cast["coordinator"]).get("/t/vallee/reports/download/names.csv").status_code == 404


def _figure(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i["figure"] for i in body["indicators"] if i["code"] == code)


def test_small_counts_are_exact_for_coordinators_and_hidden_for_the_others(
    fund: Fund, client: Client
) -> None:
    cast = fund.cast
    exact = client.get(
        "/api/v1/reports/indicators?period=2026-11", headers=bearer(cast, "coordinator")
    ).json()
    assert exact["exact"] is True and exact["threshold"] == THRESHOLD
    reached = _figure(exact, "households_reached")
    assert (reached["value"], reached["status"]) == (2, "measured")  # two households in the fund
    assert _figure(exact, "credit_issued")["value"] == 20_000  # money: cents, not a count of people
    for who in ("committee", "funder"):
        body = client.get("/api/v1/reports/indicators?period=2026-11", headers=bearer(cast, who)).json()
        assert body["exact"] is False
        hidden = _figure(body, "households_reached")
        assert hidden["value"] is None and hidden["status"] == "hidden" and hidden["reason"]
        assert all(p["value"] is None and p["status"] == "hidden" for p in hidden["parts"])
        assert _figure(body, "credit_issued")["value"] == 20_000


def test_the_public_outputs_hide_small_counts(fund: Fund, login: Any, tmp_path: Any) -> None:
    client = login(fund.cast["coordinator"])
    archive = zipfile.ZipFile(
        io.BytesIO(client.get("/t/vallee/reports/download/open-data.zip?period=2026").content)
    )
    assert set(archive.namelist()) == {"datapackage.json", "indicators.csv", "definitions.csv"}
    rows = list(csv.DictReader(io.StringIO(archive.read("indicators.csv").decode())))
    reached = next(r for r in rows if r["indicator"] == "households_reached" and not r["part"])
    assert (reached["value"], reached["status"]) == ("", "hidden")
    package = json.loads(archive.read("datapackage.json"))
    fields = [f["name"] for f in package["resources"][0]["schema"]["fields"]]
    assert list(rows[0]) == fields
    # every value is a number or empty, as its schema says
    assert all(r["value"] == "" or Decimal(r["value"]) is not None for r in rows)
    # the command's package and its --public CSV too
    call_command("reports", "open-data", "--territory", "vallee", "--year", "2026", "--output", str(tmp_path))
    written = list(csv.DictReader((tmp_path / "indicators.csv").open(encoding="utf-8")))
    assert (
        next(r for r in written if r["indicator"] == "households_reached" and not r["part"])["status"]
        == "hidden"
    )
    out = io.StringIO()
    call_command("reports", "indicators", "--territory", "vallee", "--year", "2026", "--public", stdout=out)
    public = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert next(r for r in public if r["indicator"] == "households_reached" and not r["part"])["value"] == ""
    out = io.StringIO()
    call_command(
        "reports", "indicators", "--territory", "vallee", "--year", "2026", "--format", "json", stdout=out
    )
    assert next(r for r in json.loads(out.getvalue()) if r["indicator"] == "households_reached")["value"] == 2


def test_no_report_output_carries_a_name(fund: Fund, login: Any, client: Client, tmp_path: Any) -> None:
    cast = fund.cast
    outputs: list[str] = []
    browser = login(cast["coordinator"])
    for url in PAGES:
        content = browser.get(url).content
        if url.endswith("open-data.zip?period=2026"):
            archive = zipfile.ZipFile(io.BytesIO(content))
            outputs += [archive.read(name).decode() for name in archive.namelist()]
        elif "xlsx" in url:
            archive = zipfile.ZipFile(io.BytesIO(content))
            outputs += [archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")]
        else:
            outputs.append(content.decode())
    for url in ENDPOINTS:
        outputs.append(client.get(url, headers=bearer(cast, "coordinator")).content.decode())
    for fmt in ("csv", "json"):
        out = io.StringIO()
        call_command(
            "reports", "indicators", "--territory", "vallee", "--year", "2026", "--format", fmt, stdout=out
        )
        outputs.append(out.getvalue())
    assert len(outputs) >= 12
    for text in outputs:
        for name in NAMES:
            assert name not in text, name


def _indicator(unit: registry.Unit) -> registry.Indicator:
    return registry.Indicator("t", registry.Theme.ACCESS, "T", "T", unit, lambda _s: Result(0))  # type: ignore[arg-type]


def test_one_hidden_line_hides_the_next_smallest_so_it_cannot_be_subtracted() -> None:
    result = Result(
        30,
        parts=(Part("a", "a", 3), Part("b", "b", 7), Part("c", "c", 20), Part("d", "d", 0)),
    )
    households = _indicator(registry.Unit.HOUSEHOLDS)
    shown = disclose(households, result, exact=False)
    assert shown.value == 30 and shown.status == Status.MEASURED
    assert {p.key: p.value for p in shown.parts} == {"a": None, "b": None, "c": 20, "d": 0}
    assert {p.key: p.value for p in disclose(households, result, exact=True).parts} == {
        "a": 3,
        "b": 7,
        "c": 20,
        "d": 0,
    }
    # a count of orders resting on two households is hidden too, its lines with it; zero is shown
    orders = _indicator(registry.Unit.COUNT)
    assert (
        disclose(orders, Result(9, support=2, parts=(Part("x", "x", 9, 2),)), exact=False).status
        == Status.HIDDEN
    )
    assert disclose(orders, Result(0, support=0), exact=False).value == 0
    assert disclose(households, Result(THRESHOLD), exact=False).value == THRESHOLD
    assert disclose(households, Result(THRESHOLD - 1), exact=False).value is None
    assert disclose(households, Result.not_measured("why"), exact=False).status == Status.NOT_MEASURED


def test_the_xlsx_opens_with_the_figures_and_the_definitions(fund: Fund, tmp_path: Any) -> None:
    from openpyxl import load_workbook

    target = tmp_path / "indicators.xlsx"
    call_command(
        "reports",
        "indicators",
        "--territory",
        "vallee",
        "--year",
        "2026",
        "--format",
        "xlsx",
        "--output",
        str(target),
    )
    book = load_workbook(target)
    assert book.sheetnames == ["indicators", "definitions"]
    rows = list(book["indicators"].iter_rows(values_only=True))
    assert rows[0] == ("territory", "period", "theme", "indicator", "part", "name", "unit", "value", "status")
    issued = next(r for r in rows if r[3] == "credit_issued" and not r[4])
    assert (issued[6], issued[7]) == ("EUR", 200.0)  # two households, 100,00 € each
    assert len(list(book["definitions"].iter_rows())) == len(registry.indicators()) + 1
