"""The baskets' services: referrals, subscriptions, weekly sheets and their money, the forecast, payments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import Sum

from grenier.baskets import accounts, selectors, services
from grenier.baskets.models import (
    Agreement,
    DistributionLine,
    DistributionSheet,
    Frequency,
    GardenMembership,
    LineFunding,
    LineStatus,
    MemberPayment,
    PaymentMethod,
    WorkshopKind,
)
from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.models import Household
from grenier.fund import services as fund_services
from grenier.ledger.models import Account
from grenier.ledger.selectors import ledger_check

from .conftest import Baskets


def _subscribe_many(baskets: Baskets, count: int, offer=None, point=None) -> list:
    from grenier.core import services as core_services

    subs = []
    for index in range(count):
        household = core_services.household_join(
            territory=baskets.territory,
            name=f"Foyer {index}",
            persons=[core_services.PersonInput("A")],
            actor=None,
        )
        subs.append(
            services.subscription_create(
                household=household,
                offer=offer or baskets.large,
                pickup_point=point or baskets.ecole,
                frequency=Frequency.WEEKLY,
                start_on=baskets.thursday,
                actor=None,
            )
        )
    return subs


def test_a_week_is_generated_once_with_its_split_and_ledger(baskets: Baskets) -> None:
    _subscribe_many(baskets, 3)
    first = services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    assert first.lines_created == 4 and len(first.sheets) == 3
    again = services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    assert again.lines_created == 0
    assert DistributionLine.objects.count() == 4 and DistributionSheet.objects.count() == 3
    mine = DistributionLine.objects.get(subscription=baskets.subscription)
    # 15,00 €: the member 4,50 €, the department 50 % = 7,50 €, the foundation 20 % = 3,00 €
    assert (mine.member_part_cents, mine.funded_cents, mine.short_cents) == (450, 1_050, 0)
    assert dict(mine.fundings.values_list("agreement_id", "amount_cents")) == {
        baskets.first.pk: 750,
        baskets.second.pk: 300,
    }
    baskets.first.refresh_from_db()
    assert baskets.first.spent_cents == 750 + 3 * 1_100
    balance = Account.objects.get(code=accounts.member_code(baskets.garden.pk, baskets.cast.household.pk))
    assert balance.balance_cents == -450
    garden = Account.objects.get(code=accounts.garden_code(baskets.garden.pk))
    assert garden.balance_cents == 1_500 + 3 * 2_200
    assert ledger_check(baskets.territory).ok


def test_absent_paused_stopped_and_fortnightly_are_skipped(baskets: Baskets) -> None:
    weekly, paused, stopped, fortnightly = _subscribe_many(baskets, 4)
    services.absence_add(subscription=weekly, on=baskets.thursday + timedelta(weeks=1), actor=None)
    services.subscription_pause(subscription=paused, on=baskets.thursday + timedelta(weeks=1), actor=None)
    services.subscription_stop(subscription=stopped, on=baskets.thursday + timedelta(weeks=1), actor=None)
    fortnightly.frequency = Frequency.FORTNIGHTLY
    fortnightly.save()
    services.distribution_generate(
        garden=baskets.garden, day=baskets.thursday + timedelta(weeks=1), actor=None
    )
    on = baskets.thursday + timedelta(weeks=1)
    due = set(DistributionLine.objects.filter(on=on).values_list("subscription_id", flat=True))
    assert due == {baskets.subscription.pk}
    services.subscription_resume(subscription=paused, actor=None)
    services.distribution_generate(garden=baskets.garden, day=on + timedelta(weeks=1), actor=None)
    due = set(
        DistributionLine.objects.filter(on=on + timedelta(weeks=1)).values_list("subscription_id", flat=True)
    )
    assert due == {baskets.subscription.pk, weekly.pk, paused.pk, fortnightly.pk}


def test_an_absence_after_the_sheet_is_out_is_refused(baskets: Baskets) -> None:
    next_week = baskets.thursday + timedelta(weeks=1)
    services.distribution_generate(garden=baskets.garden, day=next_week, actor=None)
    with pytest.raises(Conflict):
        services.absence_add(subscription=baskets.subscription, on=next_week, actor=None)
    with pytest.raises(InvalidInput):
        services.absence_add(
            subscription=baskets.subscription, on=baskets.thursday + timedelta(days=8), actor=None
        )


def test_the_member_part_never_exceeds_its_cap(baskets: Baskets) -> None:
    services.settings_set(territory=baskets.territory, member_cap_bp=2_500, actor=None)
    subs = _subscribe_many(baskets, 2)
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    for line in DistributionLine.objects.select_related("offer"):
        assert line.member_part_cents * 10_000 <= line.price_cents * 2_500
    assert DistributionLine.objects.get(subscription=subs[0]).member_part_cents == 550


def test_a_referral_sets_a_lower_part_and_membership(baskets: Baskets) -> None:
    referral = services.referral_create(
        garden=baskets.garden,
        social_worker=baskets.cast["social_worker"],
        consent=True,
        idempotency_key="ref-0001",
        new_household=services.NewHousehold(name="Foyer Orienté", first_name="Nadia", persons=3),
        member_share_bp=1_000,
    )
    again = services.referral_create(
        garden=baskets.garden,
        social_worker=baskets.cast["social_worker"],
        consent=True,
        idempotency_key="ref-0001",
        new_household=services.NewHousehold(name="Foyer Orienté", first_name="Nadia", persons=3),
        member_share_bp=1_000,
    )
    assert again.pk == referral.pk and Household.objects.filter(name="Foyer Orienté").count() == 1
    assert referral.household.persons.count() == 3
    assert GardenMembership.objects.filter(garden=baskets.garden, household=referral.household).exists()
    assert selectors.referral_status(referral) == "member"
    subscription = services.subscription_create(
        household=referral.household,
        offer=baskets.small,
        pickup_point=baskets.gare,
        frequency=Frequency.WEEKLY,
        start_on=baskets.thursday,
        actor=baskets.cast["coordinator"],
    )
    assert selectors.referral_status(referral) == "subscribed"
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    assert DistributionLine.objects.get(subscription=subscription).member_part_cents == 150


def test_a_referral_needs_consent_and_a_share_within_the_cap(baskets: Baskets) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.referral_create(
            garden=baskets.garden,
            social_worker=baskets.cast["social_worker"],
            consent=False,
            idempotency_key="ref-0002",
            card=baskets.cast.other_household.card_number,
            member_share_bp=4_000,
        )
    assert set(refused.value.errors) == {"consent", "member_share_bp"}


def test_budget_exhaustion_passes_to_the_next_agreement_and_warns(
    baskets: Baskets, django_capture_on_commit_callbacks
) -> None:
    Agreement.objects.filter(pk=baskets.first.pk).update(budget_cents=2_000)
    Agreement.objects.filter(pk=baskets.second.pk).update(budget_cents=4_000)
    _subscribe_many(baskets, 2)  # 15 + 2 x 22 € a week; 10,50 + 2 x 15,40 € to fund = 41,30 €
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    # the department's 20 € are spent in the first week, the foundation pays the rest of it
    first = LineFunding.objects.filter(agreement=baskets.first).aggregate(total=Sum("amount_cents"))["total"]
    second = LineFunding.objects.filter(agreement=baskets.second).aggregate(total=Sum("amount_cents"))[
        "total"
    ]
    assert first == 2_000 and second == 4_130 - 2_000
    forecast = selectors.budget_forecast(baskets.garden, baskets.thursday)
    assert forecast.first_short is not None
    assert forecast.first_short <= baskets.thursday + timedelta(weeks=1)
    assert result.warned and mail.outbox and baskets.cast["coordinator"].email in mail.outbox[0].to
    # the week after: the foundation runs out and baskets go short
    services.distribution_generate(
        garden=baskets.garden, day=baskets.thursday + timedelta(weeks=1), actor=None
    )
    short = DistributionLine.objects.filter(on=baskets.thursday + timedelta(weeks=1)).aggregate(
        s=Sum("short_cents")
    )["s"]
    assert short > 0
    for line in DistributionLine.objects.all():
        assert line.member_part_cents + line.funded_cents + line.short_cents == line.price_cents
    for agreement in Agreement.objects.all():
        assert agreement.spent_cents <= agreement.budget_cents
    assert ledger_check(baskets.territory).ok


def test_no_warning_while_budgets_hold(baskets: Baskets, django_capture_on_commit_callbacks) -> None:
    Agreement.objects.update(budget_cents=10_000_000)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    assert not result.warned and not mail.outbox
    assert selectors.budget_forecast(baskets.garden, baskets.thursday).first_short is None


def test_check_off_and_close(baskets: Baskets) -> None:
    _subscribe_many(baskets, 2, point=baskets.halle)
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    sheet = DistributionSheet.objects.get(pickup_point=baskets.halle)
    first, *rest = list(sheet.lines.order_by("pk"))
    services.line_check(line=first, collected=True, actor=baskets.cast["cashier"])
    services.line_check(line=first, collected=True, actor=baskets.cast["cashier"])
    first.refresh_from_db()
    assert first.status == LineStatus.COLLECTED and first.checked_by == baskets.cast["cashier"]
    services.sheet_close(sheet=sheet, actor=baskets.cast["cashier"])
    assert {line.status for line in DistributionLine.objects.filter(pk__in=[r.pk for r in rest])} == {
        LineStatus.UNCLAIMED
    }
    with pytest.raises(Conflict):
        services.line_check(line=first, collected=False, actor=None)


def test_payments_are_idempotent_in_euros_and_in_food_credit(baskets: Baskets) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    household = baskets.cast.household
    for _attempt in range(2):
        services.member_payment_record(
            garden=baskets.garden,
            household=household,
            amount_cents=450,
            method=PaymentMethod.CHEQUE,
            reference="CHQ 1234",
            idempotency_key="pay-0001",
            actor=baskets.cast["coordinator"],
        )
    assert MemberPayment.objects.count() == 1
    assert selectors.member_balance(baskets.garden, household) == 0
    with pytest.raises(InvalidInput):
        services.member_payment_record(
            garden=baskets.garden,
            household=household,
            amount_cents=450,
            method=PaymentMethod.TRANSFER,
            idempotency_key="pay-0002",
            actor=None,
        )
    with pytest.raises(Forbidden):
        services.member_payment_record(
            garden=baskets.garden,
            household=household,
            amount_cents=450,
            method=PaymentMethod.CREDIT,
            idempotency_key="pay-0003",
            actor=None,
        )
    month = baskets.thursday.replace(day=1)
    fund_services.scale_set(
        territory=baskets.territory,
        effective_month=month,
        brackets=[[None, 100]],
        minimum_cents=100,
        actor=None,
    )
    fund_services.allocation_rule_set(
        territory=baskets.territory, effective_month=month, base_cents=10_000, actor=None
    )
    fund_services.monthly_run(territory=baskets.territory, month=month, actor=None)
    store = fund_services.store_create(
        territory=baskets.territory, name="Jardin (point de vente)", actor=None
    )
    baskets.garden.store = fund_services.store_approve(store=store, coverage_percent=100, actor=None)
    baskets.garden.save()
    before = fund_services.credit_balance(household)
    for _attempt in range(2):
        payment = services.member_payment_record(
            garden=baskets.garden,
            household=household,
            amount_cents=450,
            method=PaymentMethod.CREDIT,
            idempotency_key="pay-0004",
            actor=None,
        )
    assert payment.fund_payment is not None and payment.fund_payment.credit_cents == 450
    assert fund_services.credit_balance(household) == before - 450
    assert selectors.member_balance(baskets.garden, household) == 450
    assert ledger_check(baskets.territory).ok


def test_subscribing_twice_to_the_same_offer_is_a_conflict(baskets: Baskets) -> None:
    with pytest.raises(Conflict):
        services.subscription_create(
            household=baskets.cast.household,
            offer=baskets.small,
            pickup_point=baskets.gare,
            frequency=Frequency.WEEKLY,
            start_on=baskets.thursday,
            actor=None,
        )


def test_year_report_and_statement(baskets: Baskets) -> None:
    _subscribe_many(baskets, 2)
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    for line in DistributionLine.objects.all()[:2]:
        services.line_check(line=line, collected=True, actor=None)
    services.workshop_record(
        garden=baskets.garden,
        on=baskets.thursday,
        title="Cuisine",
        kind=WorkshopKind.COOKING,
        participants=9,
        actor=None,
    )
    report = selectors.year_report(baskets.territory, baskets.thursday.year)
    assert (report.baskets_due, report.baskets_distributed, report.members) == (3, 2, 3)
    assert report.member_part_cents == 450 + 2 * 660
    assert {name: cents for name, _n, cents, _received in report.partners} == {
        "Département": 750 + 2 * 1_100,
        "Fondation": 300 + 2 * 440,
    }
    assert (report.workshops, report.workshop_participants) == (1, 9)
    statement = selectors.statement(baskets.foundation, baskets.thursday, baskets.thursday)
    assert statement.baskets == 3 and statement.funded_cents == 300 + 2 * 440
