"""The demo's volunteering and reciprocity: the committee adopted the rule by its vote, the member volunteered at
their pickup point and was rewarded through the ledger; built twice, nothing new is recorded nor paid."""

from __future__ import annotations

import pytest

from grenier.activities import reciprocity
from grenier.activities.models import ReciprocityReward, Registration, Volunteering, VolunteerSlot
from grenier.core import demo
from grenier.core.models import Household
from grenier.fund.accounts import household_credit
from grenier.governance.models import Decision, EffectStatus
from grenier.ledger.models import Entry
from grenier.ledger.selectors import ledger_check
from grenier.supply import demo as supply_demo


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
    (at_delivery,) = Volunteering.objects.filter(slot__delivery_kitchen__isnull=False)  # a platform delivery
    assert at_delivery.minutes == 90 and at_delivery.slot.delivery_week is not None
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
    paid = (
        charges.filter(kind="activities.charge.euros").count(),
        charges.filter(kind="activities.charge.credit").count(),
    )
    assert paid[0] >= 1 and paid[1] >= 1  # the family afternoons at the farm: euros at the gate, food credit
    assert Registration.objects.filter(
        session__paid_in="credit", household=member, charge_entry__isnull=False
    ).exists()
    demo.build(log=lambda _line: None, household_count=5)
    assert (
        VolunteerSlot.objects.count(),
        Volunteering.objects.count(),
        ReciprocityReward.objects.count(),
        Entry.objects.filter(kind="activities.reciprocity.credit").count(),
    ) == counts
    assert (
        charges.filter(kind="activities.charge.euros").count(),
        charges.filter(kind="activities.charge.credit").count(),
    ) == paid
    assert ledger_check(territory).ok
