"""Reciprocity: the committee votes a rule (so many hours of volunteering give food credit or a basket), it takes
effect from its month, and each hour recorded is rewarded once through the ledger, however often (or however many
at once) the reward is run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import reciprocity, services
from grenier.activities.models import ReciprocityReward, ReciprocityRule, Volunteering, VolunteerSlot
from grenier.baskets import accounts as baskets_accounts
from grenier.core.errors import InvalidInput
from grenier.core.models import Household, Role, User
from grenier.core.money import format_cents
from grenier.fund.accounts import household_credit
from grenier.governance import services as governance
from grenier.governance.models import BodyKind, Choice, Decision, EffectStatus, Majority, Proposal
from grenier.ledger.models import Entry
from grenier.ledger.selectors import balance, ledger_check

from ..conftest import Cast, make_user
from ..core.test_api import assert_problem, bearer, post
from .conftest import Volunteering as VolunteeringCase

DECEMBER = date(2026, 12, 1)


def _at(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=timezone.get_current_timezone())


def _vote(
    cast: Cast, payload: dict[str, object], *, key: str = "rule-1", against: int = 0, month: date = DECEMBER
) -> Decision:
    """A proposal of the reciprocity rule to the committee (three members), ``3 - against`` votes for, closed."""
    body = governance.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité")
    people = [cast["committee"], *[make_user(f"{key}-c{i}@test.grenier") for i in range(2)]]
    for person in people:
        governance.membership_join(body=body, user=person, actor=None, at=timezone.now() - timedelta(days=30))
    proposal = governance.proposal_create(
        body=body,
        author=people[0],
        title="Réciprocité",
        text="Des heures de bénévolat donnent du crédit.",
        kind="reciprocity_rule",
        payload=payload,
        opens_at=timezone.now() - timedelta(hours=1),
        closes_at=timezone.now() + timedelta(days=5),
        quorum_percent=0,
        majority=Majority.SIMPLE,
        secret=False,
        effective_month=month,
        idempotency_key=key,
    )
    for index, person in enumerate(people):
        governance.ballot_cast(
            proposal=proposal, voter=person, choice=Choice.AGAINST if index < against else Choice.FOR
        )
    return governance.proposal_close(proposal=proposal, actor=None, now=timezone.now() + timedelta(days=6))


def _slot(case: VolunteeringCase, day: date, key: str) -> VolunteerSlot:
    """A slot on the workshop's session, moved to ``day`` (a slot's day is its session's)."""
    slot = services.slot_create(
        territory=case.cast.territory,
        session=case.workshop.session,
        task="Service",
        starts_at=time(9, 0),
        ends_at=time(12, 0),
        places=5,
        actor=case.cast["producer"],
        idempotency_key=key,
        now=_at(2026, 11, 1, 8),
    )
    VolunteerSlot.objects.filter(pk=slot.pk).update(date=day)
    slot.refresh_from_db()
    return slot


def _give(case: VolunteeringCase, person: User, household: Household | None, day: date, minutes: int) -> None:
    """``person`` volunteered ``minutes`` on a slot of ``day`` (signed up before, recorded after)."""
    key = f"slot-{day}-{person.pk}-{minutes}-{Volunteering.objects.count()}"
    slot = _slot(case, day, key)
    signed = services.sign_up(
        slot=slot,
        volunteer=person,
        household=household,
        idempotency_key=key,
        now=timezone.make_aware(datetime.combine(day, time(8))),
    )
    services.hours_record(
        volunteering=signed.volunteering,
        minutes=minutes,
        actor=case.cast["producer"],
        now=timezone.make_aware(datetime.combine(day, time(13))),
    )


CREDIT_RULE = {"hours": 2, "reward": "credit", "credit_cents": 2_000}


def test_the_rule_is_voted_then_in_force_from_its_month(volunteering: VolunteeringCase) -> None:
    cast = volunteering.cast
    assert reciprocity.rule_for(cast.territory, DECEMBER) is None
    decision = _vote(cast, CREDIT_RULE)
    assert decision.adopted and decision.effect_status == EffectStatus.APPLIED
    rule = reciprocity.rule_for(cast.territory, date(2026, 12, 15))
    assert rule is not None and (rule.hours, rule.reward, rule.credit_cents) == (2, "credit", 2_000)
    assert rule.decided_by.startswith("D")
    assert reciprocity.rule_for(cast.territory, date(2026, 11, 30)) is None  # not before its month
    assert "20,00" in reciprocity.rule_words(rule)


def test_a_rule_voted_down_changes_nothing(volunteering: VolunteeringCase) -> None:
    decision = _vote(volunteering.cast, CREDIT_RULE, against=2)
    assert not decision.adopted
    assert not ReciprocityRule.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"hours": 0, "reward": "credit", "credit_cents": 100}, "payload.hours"),
        ({"hours": 2, "reward": "credit", "credit_cents": 0}, "payload.credit_cents"),
        ({"hours": 2, "reward": "basket", "basket_cents": 1_500}, "payload.garden_id"),
        ({"hours": 2, "reward": "basket", "garden_id": 999_999, "basket_cents": 1_500}, "payload.garden_id"),
        ({"hours": 2, "reward": "gift"}, "payload.reward"),
    ],
)
def test_a_rule_that_cannot_apply_is_refused_when_proposed(
    volunteering: VolunteeringCase, payload: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _vote(volunteering.cast, payload)
    assert field in refused.value.errors


def test_each_hour_is_rewarded_once(
    volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller
) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    member, household = cast["member"], cast.household
    _give(volunteering, member, household, date(2026, 11, 20), 300)  # before the rule's month: not counted
    _give(volunteering, member, household, date(2026, 12, 3), 90)
    _give(volunteering, member, household, date(2026, 12, 5), 150)
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    assert reciprocity.standing(household).given == 240
    first = reciprocity.rewards_pay(territory=cast.territory, actor=None)
    assert (first.households, first.rewards, first.credit_cents) == (1, 2, 4_000)
    again = reciprocity.rewards_pay(territory=cast.territory, actor=None)
    assert (again.households, again.rewards) == (0, 0)
    assert reciprocity.household_reward(household=household, actor=None) == []
    assert balance(household_credit(household)) == 4_000
    _give(volunteering, member, household, date(2026, 12, 10), 60)  # an hour: not yet two
    assert reciprocity.rewards_pay(territory=cast.territory, actor=None).rewards == 0
    _give(volunteering, member, household, date(2026, 12, 10), 75)
    assert reciprocity.rewards_pay(territory=cast.territory, actor=None).rewards == 1
    now = reciprocity.standing(household)
    assert (now.given, now.rewarded, now.left, now.to_next) == (375, 360, 15, 105)
    assert [r.sequence for r in now.rewards] == [1, 2, 3]
    assert balance(household_credit(household)) == 6_000
    assert Entry.objects.filter(kind="activities.reciprocity.credit").count() == 3
    assert ledger_check(cast.territory).ok


def test_a_volunteer_of_no_household_and_a_future_slot_get_nothing(
    volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller
) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    _give(volunteering, cast["cashier"], None, date(2026, 12, 3), 240)
    _give(
        volunteering, cast["member"], cast.household, date(2026, 12, 20), 240
    )  # recorded ahead, day to come
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    assert reciprocity.rewards_pay(territory=cast.territory, actor=None).rewards == 0
    assert not ReciprocityReward.objects.exists()


def test_a_basket_is_paid_on_the_household_basket_account(
    volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller
) -> None:
    cast = volunteering.cast
    garden = volunteering.point.garden
    _vote(cast, {"hours": 3, "reward": "basket", "garden_id": garden.pk, "basket_cents": 1_450})
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 200)
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    paid = reciprocity.rewards_pay(territory=cast.territory, actor=cast["coordinator"])
    assert (paid.rewards, paid.basket_cents, paid.credit_cents) == (1, 1_450, 0)
    account = baskets_accounts.account(
        cast.territory, baskets_accounts.member_code(garden.pk, cast.household.pk)
    )
    assert balance(account) == 1_450
    assert balance(household_credit(cast.household)) == 0
    assert ledger_check(cast.territory).ok


def test_a_later_rule_stops_the_rewards(
    volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller
) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    reciprocity.rule_set(
        territory=cast.territory, effective_month=date(2027, 1, 1), hours=1, reward="none", actor=None
    )
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 240)
    pinned_clock.move_to(_at(2027, 1, 5, 9))
    assert reciprocity.rewards_pay(territory=cast.territory, actor=None).rewards == 0
    assert reciprocity.standing(cast.household).to_next is None


def test_the_command_pays_once(volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 120)
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    out = StringIO()
    call_command("activities", "reward", "--territory", "vallee", stdout=out)
    call_command("activities", "reward", stdout=out)
    zero, twenty = format_cents(0), format_cents(2_000)
    assert out.getvalue().splitlines() == [
        f"vallee: 1 reward to 1 household (food credit {twenty}, baskets {zero}).",
        f"ailleurs: 0 rewards to 0 households (food credit {zero}, baskets {zero}).",
        f"vallee: 0 rewards to 0 households (food credit {zero}, baskets {zero}).",
    ]
    assert ReciprocityReward.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_rewards_run_twice_at_once_pay_once(
    volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller
) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 250)
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    results: list[object] = [None] * 4

    def run(index: int, barrier: threading.Barrier | None) -> None:
        try:
            if barrier is not None:
                barrier.wait()
            results[index] = reciprocity.rewards_pay(territory=cast.territory, actor=None)
        except Exception as exc:
            results[index] = exc
        finally:
            if barrier is not None:
                connections.close_all()

    if connection.vendor == "sqlite":
        for index in range(4):
            run(index, None)
    else:
        barrier = threading.Barrier(4)
        threads = [threading.Thread(target=run, args=(i, barrier)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.rewards for r in results) == 2  # type: ignore[attr-defined]
    assert ReciprocityReward.objects.count() == 2
    assert balance(household_credit(Household.objects.get(pk=cast.household.pk))) == 4_000
    assert ledger_check(cast.territory).ok


# --- pages and API: who may ------------------------------------------------------------------------------------------

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]


@pytest.mark.parametrize("who", EVERYONE)
def test_the_rewards_page_for_every_role(
    volunteering: VolunteeringCase,
    login: Callable[..., Client],
    pinned_clock: time_machine.Traveller,
    who: str,
) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 150)
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    client = login(cast[who])
    page = client.get(reverse("activities_rewards", args=[cast.territory.slug]))
    pay = client.post(reverse("activities_rewards_pay", args=[cast.territory.slug]))
    outside = who in {"outsider", "nobody"}
    assert page.status_code == (404 if outside else 200)
    assert pay.status_code == (404 if outside else 302 if who == "coordinator" else 403)
    assert ReciprocityReward.objects.count() == (1 if who == "coordinator" else 0)
    if outside:
        return
    body = client.get(reverse("activities_rewards", args=[cast.territory.slug])).content.decode()
    assert "20,00" in body  # the rule in words
    if who == "member":
        assert 'id="hours-given">2 h 30<' in body and 'id="due"' in body
    assert ("pay-rewards" in body or 'id="paid-list"' in body) == (who == "coordinator")
    assert ("Foyer Martin-Test" in body) == (who == "coordinator")  # nobody else sees who is rewarded


@pytest.mark.parametrize("who", ROLES)
def test_the_rewards_api_for_every_role(
    volunteering: VolunteeringCase, client: Client, pinned_clock: time_machine.Traveller, who: str
) -> None:
    cast = volunteering.cast
    _vote(cast, CREDIT_RULE)
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 150)
    pinned_clock.move_to(_at(2026, 12, 10, 9))
    paid = post(client, "/api/v1/activities/rewards/pay", {}, bearer(cast, who))
    if who == "coordinator":
        assert paid.status_code == 200 and paid.json()["rewards"] == 1
        assert post(client, "/api/v1/activities/rewards/pay", {}, bearer(cast, who)).json()["rewards"] == 0
    else:
        assert_problem(paid, 403)
    mine = client.get("/api/v1/activities/rewards", headers=bearer(cast, who))
    assert mine.status_code == 200
    data = mine.json()
    if who == "member":
        assert data["household_id"] == cast.household.pk and data["minutes_counted"] == 150
        assert len(data["rewards"]) == 0 and data["rewards_due"] == 1
    else:
        assert data["household_id"] is None and data["rewards"] == []


def test_a_committee_member_proposes_the_rule_from_the_votes_page(
    volunteering: VolunteeringCase, login: Callable[..., Client]
) -> None:
    cast = volunteering.cast
    body = governance.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité")
    governance.membership_join(
        body=body, user=cast["committee"], actor=None, at=timezone.now() - timedelta(days=3)
    )
    client = login(cast["committee"])
    url = reverse("governance_new", args=[cast.territory.slug])
    page = client.get(url).content.decode()
    assert 'value="reciprocity_rule"' in page and "reciprocity_rule__hours" in page
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = {
        "idempotency_key": "form-reciprocity-0001",
        "body": body.pk,
        "title": "Réciprocité",
        "text": "4 heures donnent un panier.",
        "kind": "reciprocity_rule",
        "opens_at": f"{now:%Y-%m-%dT%H:%M}",
        "closes_at": f"{now + timedelta(days=7):%Y-%m-%dT%H:%M}",
        "quorum_percent": "0",
        "majority": "simple",
        "effective_month": "2027-01",
        "reciprocity_rule__hours": "4",
        "reciprocity_rule__reward": "basket",
        "reciprocity_rule__garden_id": "",
        "reciprocity_rule__basket_cents": "14,50",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200, refused
    errors = refused.context["form"].errors
    assert "Choisissez un jardin du territoire" in str(errors), errors
    form["reciprocity_rule__garden_id"] = str(volunteering.point.garden.pk)
    response = client.post(url, form)
    assert response.status_code == 302
    proposal = Proposal.objects.get(kind="reciprocity_rule")
    assert proposal.payload == {
        "hours": 4,
        "reward": "basket",
        "credit_cents": 0,
        "garden_id": volunteering.point.garden.pk,
        "basket_cents": 1_450,
    }
    preview = " ".join(governance.preview(proposal))
    assert "Jardin des Test" in preview and "14,50" in preview
