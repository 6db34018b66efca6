"""Reciprocity: hours of volunteering rewarded with food credit or a basket, under the rule the committee voted
(``proposals.py``, ``ReciprocityRule``).

A household's hours are the minutes recorded for its persons' volunteerings (``Volunteering.minutes``) on slots
from the first rule's month to today. Each reward takes the rule's hours out of them: the minutes rewarded are the
sum of the household's rewards' minutes, so an hour is rewarded once. Paying is safe to run again and twice at once
(``grenier activities reward``, the coordinators' button): the household's row is locked while its minutes are
counted, each reward has its number (unique per household) and its ledger entry its key
(``activities:reward:<household>:<number>``).

The money: food credit is issued by the common fund into the household's wallet (as its monthly allocation); a
basket is paid on the household's basket account at the rule's garden (``baskets:member:<garden>:<household>``,
in euros), from ``external:reciprocity-baskets`` (the value the garden gives for the volunteering).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities.models import (
    ReciprocityReward,
    ReciprocityRule,
    RewardKind,
    Volunteering,
    VolunteeringStatus,
)
from grenier.baskets import accounts as baskets_accounts
from grenier.baskets.models import Garden
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Household, Territory, User
from grenier.core.money import format_cents
from grenier.core.months import first_of_month
from grenier.core.services import audit
from grenier.fund.accounts import credit_issuer, household_credit
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Unit

GIVEN_BASKETS = "external:reciprocity-baskets"
MAX_HOURS = 200
MAX_REWARD_CENTS = 100_000
MAX_REWARDS_AT_ONCE = 50  # a household's rewards paid in one run, at most (a rule of 1 h and years of hours)


# --- the rule ------------------------------------------------------------------------------------------------------


def rule_check(
    *,
    territory: Territory,
    hours: int,
    reward: str,
    credit_cents: int,
    garden_id: int | None,
    basket_cents: int,
) -> dict[str, list[str]]:
    """The rule's errors by field (empty: valid), for the service and the proposal's payload alike."""
    errors: dict[str, list[str]] = {}
    if not 1 <= hours <= MAX_HOURS:
        errors["hours"] = [_("Between 1 and %(n)s hours.") % {"n": MAX_HOURS}]
    if reward not in RewardKind.values:
        errors["reward"] = [_("Food credit, a basket, or no reward.")]
    limit = _("Between 0.01 and %(max)s euros.") % {"max": MAX_REWARD_CENTS // 100}
    if reward == RewardKind.CREDIT and not 0 < credit_cents <= MAX_REWARD_CENTS:
        errors["credit_cents"] = [limit]
    if reward == RewardKind.BASKET:
        if garden_id is None or not Garden.objects.filter(territory=territory, pk=garden_id).exists():
            errors["garden_id"] = [_("Choose a garden of the territory.")]
        if not 0 < basket_cents <= MAX_REWARD_CENTS:
            errors["basket_cents"] = [limit]
    return errors


def rule_set(
    *,
    territory: Territory,
    effective_month: date,
    hours: int,
    reward: str,
    credit_cents: int = 0,
    garden_id: int | None = None,
    basket_cents: int = 0,
    actor: User | None,
    decided_by: str = "",
) -> ReciprocityRule:
    """The rule from ``effective_month`` on (the committee's decision applied): replaces that month's rule unless
    rewards were already paid under it."""
    errors = rule_check(
        territory=territory,
        hours=hours,
        reward=reward,
        credit_cents=credit_cents,
        garden_id=garden_id,
        basket_cents=basket_cents,
    )
    if errors:
        raise InvalidInput(_("The reciprocity rule is not valid."), errors=errors)
    month = first_of_month(effective_month)
    with transaction.atomic():
        if ReciprocityReward.objects.filter(rule__territory=territory, rule__effective_month=month).exists():
            raise Conflict(
                _("Rewards were already paid under the rule of this month; set it from a later month.")
            )
        rule, _created = ReciprocityRule.objects.update_or_create(
            territory=territory,
            effective_month=month,
            defaults={
                "hours": hours,
                "reward": reward,
                "credit_cents": credit_cents if reward == RewardKind.CREDIT else 0,
                "garden_id": garden_id if reward == RewardKind.BASKET else None,
                "basket_cents": basket_cents if reward == RewardKind.BASKET else 0,
                "decided_by": decided_by,
            },
        )
        audit(
            territory=territory,
            actor=actor,
            action="activities.reciprocity.rule",
            subject=f"reciprocity-rule:{rule.pk}",
        )
    return rule


def rule_for(territory: Territory, day: date) -> ReciprocityRule | None:
    """The rule in force on ``day``: the latest from its month or before (``None``: no rule yet)."""
    return (
        ReciprocityRule.objects.filter(territory=territory, effective_month__lte=day)
        .select_related("garden")
        .order_by("-effective_month")
        .first()
    )


def counting_since(territory: Territory) -> date | None:
    """The first day whose volunteering counts: the first rule's month."""
    first = ReciprocityRule.objects.filter(territory=territory).order_by("effective_month").first()
    return first.effective_month if first is not None else None


def rule_words(rule: ReciprocityRule | None) -> str:
    """The rule in a sentence, for members."""
    if rule is None or rule.reward == RewardKind.NONE:
        return _("No reciprocity rule: volunteering is not rewarded here.")
    if rule.reward == RewardKind.CREDIT:
        return _(
            "Every %(hours)s hours of volunteering give %(amount)s of food credit to your household."
        ) % {
            "hours": rule.hours,
            "amount": format_cents(rule.credit_cents),
        }
    return _(
        "Every %(hours)s hours of volunteering give your household a basket of %(garden)s (worth %(amount)s)."
    ) % {"hours": rule.hours, "garden": rule.garden, "amount": format_cents(rule.basket_cents)}


# --- a household's standing --------------------------------------------------------------------------------------


@dataclass
class Standing:
    """A household's hours and rewards: ``given`` minutes counted (since the first rule, up to today),
    ``rewarded`` of them already rewarded; ``due`` rewards to pay now under ``rule``."""

    household: Household
    rule: ReciprocityRule | None
    given: int = 0
    rewarded: int = 0
    due: int = 0
    rewards: list[ReciprocityReward] = field(default_factory=list)

    @property
    def left(self) -> int:
        """Minutes counted not yet rewarded."""
        return max(self.given - self.rewarded, 0)

    @property
    def to_next(self) -> int | None:
        """Minutes still to give for the next reward (``None``: no reward under the rule in force)."""
        if self.rule is None or self.rule.reward == RewardKind.NONE:
            return None
        return self.rule.hours * 60 - self.left % (self.rule.hours * 60)


def _given(household: Household, since: date | None, today: date) -> int:
    if since is None:
        return 0
    total = Volunteering.objects.filter(
        household=household,
        status=VolunteeringStatus.SIGNED_UP,
        minutes__isnull=False,
        slot__territory=household.territory,
        slot__date__gte=since,
        slot__date__lte=today,
    ).aggregate(total=Sum("minutes"))["total"]
    return int(total or 0)


def standing(household: Household, today: date | None = None) -> Standing:
    today = today or timezone.localdate()
    rule = rule_for(household.territory, today)
    rewards = list(ReciprocityReward.objects.filter(household=household).order_by("sequence"))
    result = Standing(
        household=household,
        rule=rule,
        given=_given(household, counting_since(household.territory), today),
        rewarded=sum(r.minutes for r in rewards),
        rewards=rewards,
    )
    if rule is not None and rule.reward != RewardKind.NONE:
        result.due = min(result.left // (rule.hours * 60), MAX_REWARDS_AT_ONCE)
    return result


def households_due(territory: Territory, today: date | None = None) -> list[Standing]:
    """The households with a reward to pay now, by name."""
    today = today or timezone.localdate()
    since = counting_since(territory)
    if since is None:
        return []
    ids = (
        Volunteering.objects.filter(
            slot__territory=territory,
            household__isnull=False,
            status=VolunteeringStatus.SIGNED_UP,
            minutes__gt=0,
            slot__date__gte=since,
            slot__date__lte=today,
        )
        .values_list("household_id", flat=True)
        .distinct()
    )
    found = [standing(h, today) for h in Household.objects.filter(pk__in=ids).order_by("name", "pk")]
    return [s for s in found if s.due]


# --- paying -----------------------------------------------------------------------------------------------------


def _legs(rule: ReciprocityRule, household: Household) -> tuple[str, int, list[tuple[Account, int]]]:
    territory = household.territory
    if rule.reward == RewardKind.CREDIT:
        amount = rule.credit_cents
        return (
            "activities.reciprocity.credit",
            amount,
            [
                (credit_issuer(territory), -amount),
                (household_credit(household), amount),
            ],
        )
    assert rule.garden_id is not None  # noqa: S101 - kept by the rule's check constraint
    amount = rule.basket_cents
    given = ledger.account_ensure(territory=territory, code=GIVEN_BASKETS, unit=Unit.EUR)
    member = baskets_accounts.account(territory, baskets_accounts.member_code(rule.garden_id, household.pk))
    return "activities.reciprocity.basket", amount, [(given, -amount), (member, amount)]


def household_reward(
    *, household: Household, actor: User | None, today: date | None = None
) -> list[ReciprocityReward]:
    """Pay the rewards ``household`` has earned and not received, in one transaction; none due: nothing."""
    today = today or timezone.localdate()
    paid: list[ReciprocityReward] = []
    with transaction.atomic():
        Household.objects.select_for_update().get(pk=household.pk)  # two runs at once count in turn
        current = standing(household, today)
        rule = current.rule
        if rule is None or not current.due:
            return paid
        sequence = max((r.sequence for r in current.rewards), default=0)
        now = timezone.now()
        for _number in range(current.due):
            sequence += 1
            kind, amount, legs = _legs(rule, household)
            recorded = ledger.entry_record(
                territory=household.territory,
                idempotency_key=f"activities:reward:{household.pk}:{sequence}",
                kind=kind,
                legs=legs,
                memo=_("Reciprocity: %(hours)s hours of volunteering") % {"hours": rule.hours},
                actor=actor,
            )
            paid.append(
                ReciprocityReward.objects.create(
                    territory=household.territory,
                    household=household,
                    sequence=sequence,
                    rule=rule,
                    minutes=rule.hours * 60,
                    reward=rule.reward,
                    amount_cents=amount,
                    garden_id=rule.garden_id,
                    entry=recorded.entry,
                    paid_at=now,
                    paid_by=actor,
                )
            )
        audit(
            territory=household.territory,
            actor=actor,
            action="activities.reciprocity.reward",
            subject=f"household:{household.pk}",
        )
    return paid


@dataclass
class PaySummary:
    households: int = 0
    rewards: int = 0
    credit_cents: int = 0
    basket_cents: int = 0


def rewards_pay(*, territory: Territory, actor: User | None, today: date | None = None) -> PaySummary:
    """Pay every household's rewards due (one transaction per household); running it again pays nothing more."""
    summary = PaySummary()
    for due in households_due(territory, today):
        paid = household_reward(household=due.household, actor=actor, today=today)
        if not paid:
            continue
        summary.households += 1
        summary.rewards += len(paid)
        for reward in paid:
            if reward.reward == RewardKind.CREDIT:
                summary.credit_cents += reward.amount_cents
            else:
                summary.basket_cents += reward.amount_cents
    return summary
