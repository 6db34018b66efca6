"""Roll-ups across territories: a network grouping the Vallée and a second territory. The total is the sum of the
territories' figures, a share is computed again from the summed numerators and denominators (not the mean of the
shares), a household known in both territories by the same account is counted once; the grouping's coordinator
reads the roll-up only (every territory page and personal endpoint is 404 to them), small counts hidden, one hidden
territory never found again by subtraction; every input of the endpoint answered with success or a 4xx
problem+json."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils.translation import gettext_lazy

from grenier.core import groupings, permissions, services
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import AuditEvent, Grouping, GroupingRole, Household, Role, Territory, User
from grenier.core.permissions import Action
from grenier.fund import services as fund_services
from grenier.fund.models import CarryOver
from grenier.reports import registry, rollup
from grenier.reports.disclosure import Status
from grenier.reports.registry import Part, Period, Result, Unit, percent

from ..conftest import Cast, make_user
from ..core.test_api import assert_problem, bearer
from ..fund.conftest import BRACKETS, Fund

YEAR = Period(2026)
URL = "/groupings/reseau/reports/"
CSV_URL = "/groupings/reseau/reports/indicators.csv"
API = "/api/v1/reports/groupings/reseau/indicators"


@dataclass
class Network:
    fund: Fund
    grouping: Grouping
    coordinator: User
    shared: Household  # in the second territory, its person the member's own account

    @property
    def territories(self) -> list[Territory]:
        return [self.fund.cast.territory, self.fund.cast.elsewhere]


def _households(territory: Territory, n: int, prefix: str, actor: User | None) -> None:
    for index in range(n):
        services.household_join(
            territory=territory,
            name=f"Foyer {prefix}-{index}",
            persons=[services.PersonInput("X", date(1980, 1, 1))],
            monthly_resources_cents=100_000,
            joined_on=date(2026, 1, 1),
            actor=actor,
            idempotency_key=f"{prefix}-{index}",
        )


@pytest.fixture
def network(fund: Fund) -> Network:
    """The Vallée with 8 households in the fund, the second territory ("Ailleurs") with 8 (one of them the Vallée
    member's family by its account) on a smaller allocation, both with November run; the network holds both."""
    cast = fund.cast
    month = fund.month
    _households(cast.territory, 6, "vallee", cast["coordinator"])
    fund_services.monthly_run(territory=cast.territory, month=month, actor=None)
    second = cast.elsewhere
    fund_services.scale_set(
        territory=second, effective_month=date(2020, 1, 1), brackets=BRACKETS, minimum_cents=100, actor=None
    )
    fund_services.allocation_rule_set(
        territory=second,
        effective_month=date(2020, 1, 1),
        base_cents=5_000,
        carry_over=CarryOver.KEEP,
        actor=None,
    )
    _households(second, 7, "ailleurs", None)
    shared = services.household_join(
        territory=second,
        name="Foyer Martin-Test (Ailleurs)",
        persons=[services.PersonInput("Ana", date(1990, 1, 1))],
        joined_on=date(2026, 1, 1),
        user=cast["member"],
        actor=None,
        idempotency_key="ailleurs-shared",
    )
    fund_services.monthly_run(territory=second, month=month, actor=None)
    grouping = groupings.grouping_create(slug="reseau", name="Réseau", territories=[cast.territory, second])
    coordinator = make_user("network@test.grenier", "Network")
    groupings.grouping_coordinator_grant(grouping=grouping, user=coordinator)
    return Network(fund, grouping, coordinator, shared)


def _pay(network: Network, cents: int) -> None:
    cast = network.fund.cast
    fund_services.pay(
        store=network.fund.store,
        card=cast.household.card_number,
        total_cents=cents,
        idempotency_key="rollup-pay-1",
        actor=cast["cashier"],
    )


# -- the figures -------------------------------------------------------------------------------------------------


def test_a_total_is_the_sum_of_the_territories_figures(network: Network) -> None:
    _pay(network, 4_000)
    per_territory = [registry.compute(t, YEAR) for t in network.territories]
    found = rollup.rollup(network.grouping, YEAR)
    assert [t.slug for t in found.territories] == ["ailleurs", "vallee"]
    summed = 0
    for row in found.rows:
        if row.combine != rollup.Combine.SUM:
            continue
        values = [results[row.indicator.code].value for results in per_territory]
        measured = [v for v in values if v is not None]
        if not measured:
            assert row.total.status == Status.NOT_MEASURED, row.indicator.code
            continue
        if row.total.status == Status.MEASURED:
            assert row.total.value == sum(measured), row.indicator.code
            summed += 1
    assert summed >= 2  # credit issued and spent at least
    issued = next(row for row in found.rows if row.indicator.code == "credit_issued")
    assert issued.total.value == 8 * 10_000 + 8 * 5_000
    assert [f.value for f in issued.territories] == [8 * 5_000, 8 * 10_000]
    assert issued.measured_in == 2


def test_a_share_is_computed_again_from_the_sums_not_averaged(network: Network) -> None:
    _pay(network, 4_000)  # 40 € of credit spent in the Vallée (the store covers 100 %), none elsewhere
    row = rollup.rollup(network.grouping, YEAR, ["credit_share_spent"]).rows[0]
    assert row.combine == rollup.Combine.RATIO
    vallee, ailleurs = Decimal("5.0"), Decimal("0.0")  # 40 / 800 and 0 / 400
    assert [f.value for f in row.territories] == [ailleurs, vallee]
    assert row.total.value == percent(4_000, 120_000) == Decimal("3.3")
    assert row.total.value != (vallee + ailleurs) / 2


def _made_up(unit: Unit) -> registry.Indicator:
    return registry.Indicator(
        "made_up",
        registry.Theme.ACCESS,
        gettext_lazy("x"),
        gettext_lazy("x"),
        unit,
        lambda scope: Result(None),
    )


def test_combine_recomputes_every_kind_of_share_from_its_ratio() -> None:
    share = _made_up(Unit.PERCENT)
    how, total = rollup.combine(
        share, [Result(Decimal("50.0"), ratio=(1, 2)), Result(Decimal("10.0"), ratio=(1, 10))]
    )
    assert how == rollup.Combine.RATIO and total.value == Decimal("16.7")  # 2 / 12, not (50 + 10) / 2
    how, total = rollup.combine(share, [Result(Decimal("50.0"), ratio=(1, 2)), Result.not_measured("no")])
    assert total.value == Decimal("50.0")  # over the territory where it is measured
    how, total = rollup.combine(share, [Result(Decimal("50.0"))])
    assert how == rollup.Combine.NONE and total.value is None  # no ratio given: not combined, never guessed
    grams = _made_up(Unit.G_PER_MEAL)
    _how, total = rollup.combine(
        grams, [Result(Decimal("100.0"), ratio=(1_000, 10)), Result(Decimal("10.0"), ratio=(100, 10))]
    )
    assert total.value == Decimal("55.0")
    count = _made_up(Unit.COUNT)
    _how, total = rollup.combine(
        count,
        [
            Result(3, parts=(Part("a", "a", 1), Part("s", "s", Decimal("5.0"), unit=Unit.PERCENT))),
            Result(4, parts=(Part("a", "a", 2), Part("b", "b", 2))),
        ],
    )
    assert total.value == 7 and [(p.key, p.value) for p in total.parts] == [("a", 3), ("b", 2)]


def test_every_share_of_the_registry_gives_its_ratio(network: Network) -> None:
    _pay(network, 4_000)
    for territory in network.territories:
        for code, result in registry.compute(territory, YEAR).items():
            found = registry.REGISTRY[code]
            if result.measured and rollup.combination(found) == rollup.Combine.RATIO:
                assert result.ratio is not None, code


def test_a_household_known_in_both_territories_by_its_account_is_counted_once(network: Network) -> None:
    per_territory = [registry.compute(t, YEAR)["households_reached"].value for t in network.territories]
    assert per_territory == [8, 8]
    row = rollup.rollup(network.grouping, YEAR, ["households_reached"]).rows[0]
    assert row.combine == rollup.Combine.DISTINCT
    assert row.total.value == 15
    assert {p.key: p.value for p in row.total.parts}["fund"] == 15
    # without the shared account, two households
    network.shared.persons.update(user=None)
    assert rollup.rollup(network.grouping, YEAR, ["households_reached"]).rows[0].total.value == 16


def test_a_household_known_in_both_territories_is_counted_once_in_the_lowest_of_its_bands(
    network: Network,
) -> None:
    """The resources bands count the shared family once too: in the lower band of its two declarations."""
    from grenier.reports.indicators.access import household_bands

    per_territory = [registry.compute(t, YEAR)["households_by_resources"] for t in network.territories]
    assert [result.value for result in per_territory] == [8, 8]
    row = rollup.rollup(network.grouping, YEAR, ["households_by_resources"]).rows[0]
    assert row.combine == rollup.Combine.DISTINCT
    assert row.total.value == 15
    summed = rollup.combine(registry.REGISTRY["households_by_resources"], per_territory)[1]
    counted_once = rollup.distinct_bands(network.territories, YEAR, summed)
    vallee, ailleurs = (
        household_bands(registry.Scope(t, YEAR.start, YEAR.end), [h.pk])
        for t, h in zip(network.territories, [network.fund.cast.household, network.shared], strict=True)
    )
    bands = [vallee[network.fund.cast.household.pk], ailleurs[network.shared.pk]]
    # the member's family declared resources in the Vallée, none in the second territory: kept in the Vallée's band
    assert bands[0] != 0 and bands[1] == 0
    taken_out = dict.fromkeys((p.key for p in summed.parts), 0)
    taken_out["undeclared"] = 1
    assert {p.key: p.value for p in counted_once.parts} == {
        p.key: (p.value or 0) - taken_out[p.key] for p in summed.parts
    }
    # both declared: the lower band is kept, the higher one loses the copy
    Household.objects.filter(pk=network.shared.pk).update(monthly_resources_cents=10_000_000)
    higher = household_bands(
        registry.Scope(network.territories[1], YEAR.start, YEAR.end), [network.shared.pk]
    )
    assert higher[network.shared.pk] > bands[0]
    per_territory = [registry.compute(t, YEAR)["households_by_resources"] for t in network.territories]
    summed = rollup.combine(registry.REGISTRY["households_by_resources"], per_territory)[1]
    counted_once = rollup.distinct_bands(network.territories, YEAR, summed)
    assert counted_once.value == 15
    key = f"band_{higher[network.shared.pk]}"
    assert {p.key: p.value for p in counted_once.parts} == {
        p.key: (p.value or 0) - (1 if p.key == key else 0) for p in summed.parts
    }
    # without the shared account, two households in two bands
    network.shared.persons.update(user=None)
    assert rollup.rollup(network.grouping, YEAR, ["households_by_resources"]).rows[0].total.value == 16


def test_persons_are_added_up_and_the_page_says_why(network: Network) -> None:
    row = rollup.rollup(network.grouping, YEAR, ["committee_size"]).rows[0]
    assert row.combine == rollup.Combine.SUM
    assert row.how == str(rollup.PERSONS_ADDED) != row.combine.label


def test_households_linked_through_a_third_are_one(network: Network) -> None:
    """A links to B by one account, B to C by another: one household, whichever territory each is in."""
    cast = network.fund.cast
    other_account = make_user("second-adult@test.grenier")
    network.shared.persons.create(first_name="Bob", user=other_account)
    third = services.household_join(
        territory=cast.territory,
        name="Foyer Bob",
        persons=[services.PersonInput("Bob")],
        user=other_account,
        actor=None,
        idempotency_key="third",
    )
    fund_services.monthly_run(territory=cast.territory, month=network.fund.month, actor=None)
    assert third.territory == cast.territory
    assert registry.compute(cast.territory, YEAR)["households_reached"].value == 9
    assert rollup.rollup(network.grouping, YEAR, ["households_reached"]).rows[0].total.value == 15


def test_small_counts_are_hidden_and_one_hidden_territory_is_not_found_by_subtraction(
    network: Network,
) -> None:
    reached = {row.indicator.code: row for row in rollup.rollup(network.grouping, YEAR).rows}[
        "households_reached"
    ]
    assert all(f.status == Status.MEASURED for f in reached.territories)  # 8 and 8
    small = rollup._protect(  # the rule itself, on the disclosed figures
        rollup.disclose(registry.REGISTRY["households_reached"], Result(11), exact=False),
        [
            rollup.disclose(registry.REGISTRY["households_reached"], Result(3), exact=False),
            rollup.disclose(registry.REGISTRY["households_reached"], Result(8), exact=False),
        ],
    )
    total, figures = small
    assert [f.status for f in figures] == [Status.HIDDEN, Status.HIDDEN] and total.value == 11
    total, figures = rollup._protect(
        rollup.disclose(registry.REGISTRY["households_reached"], Result(8), exact=False),
        [
            rollup.disclose(registry.REGISTRY["households_reached"], Result(3), exact=False),
            rollup.disclose(registry.REGISTRY["households_reached"], Result(0), exact=False),
            rollup.disclose(registry.REGISTRY["households_reached"], Result(5), exact=False),
        ],
    )
    assert [f.status for f in figures] == [Status.HIDDEN, Status.MEASURED, Status.HIDDEN]
    total, figures = rollup._protect(
        rollup.disclose(registry.REGISTRY["households_reached"], Result(7), exact=False),
        [
            rollup.disclose(registry.REGISTRY["households_reached"], Result(3), exact=False),
            rollup.disclose(registry.REGISTRY["households_reached"], Result.not_measured("no"), exact=False),
        ],
    )
    assert total.status == Status.HIDDEN  # nothing else to hide: the total would tell the hidden one


def test_the_grouping_s_small_counts_are_hidden_on_the_page_and_the_api(
    network: Network, client: Client
) -> None:
    # leave only two households reached in the second territory (not the shared one, made last)
    second = network.fund.cast.elsewhere
    from grenier.fund.models import MonthLine

    keep = list(
        MonthLine.objects.filter(run__territory=second).order_by("pk").values_list("pk", flat=True)[:2]
    )
    MonthLine.objects.filter(run__territory=second).exclude(pk__in=keep).delete()
    client.force_login(network.coordinator)
    body = client.get(API + "?period=2026").json()
    reached = next(i for i in body["indicators"] if i["code"] == "households_reached")
    statuses = {t["territory"]: t["figure"]["status"] for t in reached["territories"]}
    assert statuses == {"ailleurs": "hidden", "vallee": "hidden"}  # 2 hidden, so the Vallée's 8 is too
    assert reached["total"]["value"] == 10 and reached["combination"] == "distinct"
    html = client.get(URL + "?period=2026").content.decode()
    assert "Martin-Test" not in html and "Voisin-Test" not in html


# -- who may ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [role.value for role in Role] + ["outsider", "nobody", "network"])
def test_only_the_grouping_s_coordinators_read_its_roll_up(network: Network, login: Any, who: str) -> None:
    user = network.coordinator if who == "network" else network.fund.cast[who]
    client = login(user)
    for url in (URL, URL + "?period=2026-11", CSV_URL + "?period=2026"):
        assert client.get(url).status_code == (200 if who == "network" else 404), (url, who)
    response = client.get(API)
    if who == "network":
        assert response.status_code == 200
    else:
        assert_problem(response, 404)


def test_the_grouping_s_coordinator_reaches_no_territory_page(network: Network, login: Any) -> None:
    cast = network.fund.cast
    client = login(network.coordinator)
    for url in (
        "/t/vallee/",
        "/t/vallee/households/",
        f"/t/vallee/households/{cast.household.pk}/",
        f"/t/vallee/households/{cast.household.pk}/leave/",
        "/t/vallee/reports/",
        "/t/vallee/reports/indicators/households_reached/",
        "/t/vallee/reports/download/indicators.csv",
        "/t/ailleurs/households/",
        f"/t/ailleurs/households/{network.shared.pk}/",
        "/t/vallee/fund/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        "/api/v1/core/households?territory=vallee",
        f"/api/v1/core/households/{cast.household.pk}?territory=vallee",
        "/api/v1/reports/indicators?territory=vallee",
    ):
        assert_problem(client.get(url), 404)
    assert not permissions.can_view_household(network.coordinator, cast.household)
    assert not permissions.visible_households(network.coordinator, cast.territory).exists()


def test_nobody_logged_in_is_sent_to_log_in(network: Network, client: Client) -> None:
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert_problem(client.get(API), 401)


def test_a_token_reads_the_groupings_of_its_territory(network: Network, client: Client) -> None:
    cast = network.fund.cast
    # a grouping's coordinator may make a token in one of its territories; it reads the roll-up, nothing there
    _token, key = services.token_create(user=network.coordinator, territory=cast.territory)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(API, headers=headers).status_code == 200
    assert_problem(client.get("/api/v1/reports/indicators", headers=headers), 404)
    assert_problem(client.get("/api/v1/core/households", headers=headers), 404)
    third = services.territory_create(slug="tiers", name="Tiers")
    with pytest.raises(Forbidden):
        services.token_create(user=network.coordinator, territory=third)
    # a coordinator of the Vallée, not of the network: 404 with their token too
    assert_problem(client.get(API, headers=bearer(cast, "coordinator")), 404)
    # the network's coordinator's token made where the grouping no longer reaches: 404
    groupings.grouping_remove_territory(grouping=network.grouping, territory=cast.territory)
    assert_problem(client.get(API, headers=headers), 404)


@pytest.mark.parametrize(
    "query",
    ["?period=26", "?period=2026-13", "?period=1999", "?period=2101", "?period=x", "?period=2026-11-01"],
)
def test_a_bad_period_is_a_problem_never_a_500(network: Network, client: Client, query: str) -> None:
    client.force_login(network.coordinator)
    assert_problem(client.get(API + query), 422)
    assert client.get(URL + query).status_code == 400
    assert client.get(CSV_URL + query).status_code in {400, 422}


@pytest.mark.parametrize("slug", ["nope", "a" * 300, "%00", "r%C3%A9seau", "..", "reseau%20"])
def test_an_unknown_grouping_is_not_found(network: Network, client: Client, slug: str) -> None:
    client.force_login(network.coordinator)
    response = client.get(f"/api/v1/reports/groupings/{slug}/indicators")
    assert 400 <= response.status_code < 500 and response["Content-Type"] == "application/problem+json"


def test_the_page_says_how_each_figure_is_combined(network: Network, client: Client) -> None:
    client.force_login(network.coordinator)
    html = client.get(URL + "?period=2026").content.decode()  # in French, the default
    assert 'id="how-combined"' in html
    assert "jamais en faisant la moyenne" in html and "comptés une seule fois" in html
    assert html.count("combine-ratio") >= 3 and "combine-distinct" in html and "combine-sum" in html
    assert "Ailleurs" in html and "Vallée" in html
    csv_text = client.get(CSV_URL + "?period=2026").content.decode()
    assert csv_text.splitlines()[0].startswith("grouping,period,theme,indicator")
    assert "credit_issued" in csv_text and "Martin-Test" not in csv_text


# -- the services, the command, the admin ----------------------------------------------------------------------------


def test_the_services_change_once_and_write_the_audit_log(cast: Cast) -> None:
    grouping = groupings.grouping_create(
        slug="dep-34", name="Hérault", kind="departement", territories=[cast.territory]
    )
    again = groupings.grouping_create(slug="dep-34", name="Other", territories=[cast.territory])
    assert again.pk == grouping.pk and again.name == "Hérault"
    assert AuditEvent.objects.filter(action="grouping.join", territory=cast.territory).count() == 1
    groupings.grouping_add_territory(grouping=grouping, territory=cast.elsewhere)
    user = make_user("dep@test.grenier")
    groupings.grouping_coordinator_grant(grouping=grouping, user=user)
    groupings.grouping_coordinator_grant(grouping=grouping, user=user)
    assert GroupingRole.objects.filter(grouping=grouping).count() == 1
    assert AuditEvent.objects.filter(action="grouping.coordinator.grant").count() == 2  # one per territory
    assert permissions.can_in_grouping(user, grouping, Action.GROUPING_REPORTS)
    assert list(permissions.groupings_of(user)) == [grouping]
    assert not permissions.roles_of(user, cast.territory)  # no role in its territories
    groupings.grouping_coordinator_revoke(grouping=grouping, user=user)
    with pytest.raises(NotFound):
        permissions.grouping_for(user, "dep-34", Action.GROUPING_REPORTS)
    groupings.grouping_remove_territory(grouping=grouping, territory=cast.elsewhere)
    groupings.grouping_remove_territory(grouping=grouping, territory=cast.elsewhere)
    assert AuditEvent.objects.filter(action="grouping.leave").count() == 1
    with pytest.raises(InvalidInput) as refused:
        groupings.grouping_create(slug="no spaces", name="", kind="empire")
    assert set(refused.value.errors) == {"slug", "name", "kind"}


def test_the_command_manages_groupings(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("grouping", "create", "reseau", "--name", "Réseau", "--territory", "vallee")
    call_command("grouping", "add", "reseau", "ailleurs")
    call_command("grouping", "coordinator", "reseau", "nobody@test.grenier")
    call_command("grouping", "list")
    out = capsys.readouterr().out
    assert "reseau  network  ailleurs, vallee  nobody@test.grenier  Réseau" in out
    call_command("grouping", "coordinator", "reseau", "nobody@test.grenier", "--revoke")
    call_command("grouping", "remove", "reseau", "ailleurs")
    grouping = Grouping.objects.get(slug="reseau")
    assert (
        list(grouping.territories.values_list("slug", flat=True)) == ["vallee"]
        and not grouping.roles.exists()
    )
    from django.core.management.base import CommandError

    for argv in (("add", "nope", "vallee"), ("add", "reseau", "nope"), ("coordinator", "reseau", "x@y.z")):
        with pytest.raises(CommandError):
            call_command("grouping", *argv)


def test_the_admin_manages_groupings(cast: Cast, client: Client) -> None:
    admin = User.objects.create_superuser(email="admin@test.grenier", password="x-admin-password")
    client.force_login(admin)
    assert client.get("/admin/core/grouping/add/").status_code == 200
    response = client.post(
        "/admin/core/grouping/add/",
        {
            "name": "Réseau",
            "slug": "reseau",
            "kind": "network",
            "territories": [cast.territory.pk],
            "roles-TOTAL_FORMS": "1",
            "roles-INITIAL_FORMS": "0",
            "roles-0-user": cast["nobody"].pk,
            "roles-0-role": "coordinator",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grouping = Grouping.objects.get(slug="reseau")
    assert permissions.can_in_grouping(cast["nobody"], grouping, Action.GROUPING_REPORTS)


def test_the_home_sends_a_grouping_s_coordinator_to_its_roll_up(network: Network, client: Client) -> None:
    client.force_login(network.coordinator)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == URL
    # someone with a territory and a grouping chooses between them
    groupings.grouping_coordinator_grant(grouping=network.grouping, user=network.fund.cast["outsider"])
    client.force_login(network.fund.cast["outsider"])
    html = client.get("/").content.decode()
    assert URL in html and "/t/ailleurs/" in html
