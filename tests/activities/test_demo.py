"""The demo's volunteering and reciprocity: the committee adopted the rule by its vote, the member volunteered at
their pickup point and was rewarded through the ledger; built twice, nothing new is recorded nor paid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import reciprocity
from grenier.activities.models import Activity, ReciprocityReward, Registration, Volunteering, VolunteerSlot
from grenier.core import demo
from grenier.core.models import Household, User
from grenier.fund.accounts import household_credit
from grenier.fund.models import Payment
from grenier.governance.models import Decision, EffectStatus
from grenier.ledger.models import Entry
from grenier.ledger.selectors import ledger_check
from grenier.supply import demo as supply_demo
from grenier.supply.models import WeekStatus


def test_the_demo_rewards_volunteering_under_the_voted_rule(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=5)
    decision = Decision.objects.get(proposal__idempotency_key="demo-vote-reciprocity")
    assert decision.adopted and decision.effect_status == EffectStatus.APPLIED
    rule = reciprocity.rule_for(territory, decision.proposal.effective_month)  # type: ignore[arg-type]
    assert rule is not None and (rule.hours, rule.credit_cents) == (4, 1_500)
    member = Household.objects.get(territory=territory, email="member@demo.grenier.test")
    standing = reciprocity.standing(member)
    assert standing.rewards and standing.due == 0  # paid, nothing left owed
    assert standing.rewarded == len(standing.rewards) * 4 * 60 <= standing.given
    assert Volunteering.objects.filter(slot__territory=territory, household__isnull=True).exists()
    (at_delivery,) = Volunteering.objects.filter(  # a platform delivery done
        slot__delivery_kitchen__isnull=False, minutes__isnull=False
    )
    assert at_delivery.minutes == 90 and at_delivery.slot.delivery_week is not None
    kitchen = at_delivery.slot.delivery_kitchen
    assert kitchen is not None and kitchen.managers.filter(email="kitchen@demo.grenier.test").exists()
    wallet_rewards = sum(r.amount_cents for r in standing.rewards)
    assert wallet_rewards == 1_500 * len(standing.rewards)
    into_wallet = Entry.objects.filter(
        kind="activities.reciprocity.credit", postings__account=household_credit(member)
    ).count()
    assert into_wallet == len(standing.rewards)
    counts = (
        VolunteerSlot.objects.count(),
        Volunteering.objects.count(),
        ReciprocityReward.objects.count(),
        Entry.objects.filter(kind="activities.reciprocity.credit").count(),
    )
    charges = Entry.objects.filter(kind__startswith="activities.charge")
    at_market = Payment.objects.filter(idempotency_key__startswith="activities:charge:")
    paid = (charges.filter(kind="activities.charge.euros").count(), at_market.count())
    assert paid[0] >= 1 and paid[1] >= 1  # the family afternoons at the farm: euros at the gate, food credit
    assert set(at_market.values_list("store__name", flat=True)) == {"Marché paysan du samedi"}
    assert Activity.objects.get(title="Après-midi à la ferme en famille").payee_store.name == (  # type: ignore[union-attr]
        "Marché paysan du samedi"
    )
    assert Registration.objects.filter(
        session__paid_in="credit",
        household=member,
        charge_entry__payment__store__name="Marché paysan du samedi",
    ).exists()
    demo.build(log=lambda _line: None, household_count=5)
    assert (
        VolunteerSlot.objects.count(),
        Volunteering.objects.count(),
        ReciprocityReward.objects.count(),
        Entry.objects.filter(kind="activities.reciprocity.credit").count(),
    ) == counts
    assert (charges.filter(kind="activities.charge.euros").count(), at_market.count()) == paid
    assert ledger_check(territory).ok


def test_the_demo_kitchen_reads_the_coming_delivery_slot_on_its_delivery_page(
    db: None, monkeypatch: pytest.MonkeyPatch, login: Callable[..., Client]
) -> None:
    """Built on a Wednesday (TEST_NOW), the canteen's Thursday delivery calls for two volunteers to unload the
    truck, one signed up: its manager reads it on this week's delivery page, reached from the home."""
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=5)
    manager = User.objects.get(email="kitchen@demo.grenier.test")
    slot = VolunteerSlot.objects.get(task="Déchargement du camion")
    assert slot.delivery_kitchen is not None and manager in slot.delivery_kitchen.managers.all()
    assert slot.date > timezone.localdate() and slot.delivery_week is not None
    client = login(manager)
    url = reverse(
        "supply_deliveries",
        args=[territory.slug, slot.delivery_week.monday.isoformat(), slot.delivery_kitchen.pk],
    )
    assert url in client.get(reverse("territory_home", args=[territory.slug])).content.decode()
    page = client.get(url).content.decode()
    assert "Déchargement du camion" in page and "1 place restante sur 2" in page


def test_built_on_a_thursday_the_demo_still_calls_for_volunteers_at_a_coming_delivery(
    db: None, monkeypatch: pytest.MonkeyPatch, pinned_clock: time_machine.Traveller
) -> None:
    """On a Thursday the canteen's next delivery (Monday) is in a week whose plan is not published yet: the slot is
    on the next delivery to another kitchen, still coming (the nursing home's, on Friday)."""
    today = timezone.localdate()
    thursday = today + timedelta(days=(3 - today.weekday()) % 7)
    pinned_clock.move_to(timezone.make_aware(datetime.combine(thursday, time(10))))
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    demo.build(log=lambda _line: None, household_count=5)
    slot = VolunteerSlot.objects.get(task="Déchargement du camion")
    assert slot.date > thursday and slot.delivery_week is not None and slot.delivery_kitchen is not None
    assert slot.delivery_week.status == WeekStatus.PUBLISHED
    assert (
        slot.volunteerings.count() == 1
        and slot.delivery_kitchen.managers.filter(pk=slot.created_by_id).exists()
    )
