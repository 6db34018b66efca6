"""The fund's rules as decided: the contribution scale and the allocation rule in force from a month, a household's
chosen contribution, its suggested one, and a member's personal code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Household, Territory, User
from grenier.core.months import first_of_month
from grenier.core.services import audit
from grenier.fund import codes, rules
from grenier.fund.models import (
    AllocationRule,
    CarryOver,
    ContributionChoice,
    ContributionScale,
    MonthlyRun,
    PaymentCode,
)


def scale_set(
    *,
    territory: Territory,
    effective_month: date,
    brackets: Sequence[Sequence[int | None]],
    minimum_cents: int = 100,
    free_choice: bool = True,
    actor: User | None,
    decided_by: str = "",
) -> ContributionScale:
    """A new version of the contribution scale, from ``effective_month`` on. One version per month: setting the
    same month again replaces it only while no run has used it."""
    problems = rules.validate_brackets(brackets)
    if minimum_cents < 0:
        problems.append(_("The minimum cannot be negative."))
    if problems:
        raise InvalidInput(_("The scale is not valid."), errors={"brackets": problems})
    month = first_of_month(effective_month)
    with transaction.atomic():
        if (
            MonthlyRun.objects.filter(territory=territory, month__gte=month).exists()
            and ContributionScale.objects.filter(territory=territory, effective_month=month).exists()
        ):
            raise Conflict(
                _("A monthly run already used the scale of this month; set it from a later month.")
            )
        scale, _created = ContributionScale.objects.update_or_create(
            territory=territory,
            effective_month=month,
            defaults={
                "brackets": [list(b) for b in brackets],
                "minimum_cents": minimum_cents,
                "free_choice": free_choice,
                "decided_by": decided_by,
                "created_by": actor,
            },
        )
        audit(
            territory=territory,
            actor=actor,
            action="fund.scale",
            subject=f"scale:{scale.pk}",
            month=f"{month:%Y-%m}",
        )
    return scale


def allocation_rule_set(
    *,
    territory: Territory,
    effective_month: date,
    base_cents: int,
    per_additional_person_cents: int = 0,
    per_child_cents: int = 0,
    child_age_limit: int = 14,
    carry_over: CarryOver = CarryOver.KEEP,
    carry_over_cap_cents: int = 0,
    actor: User | None,
    decided_by: str = "",
) -> AllocationRule:
    errors: dict[str, list[str]] = {}
    for name, value in [
        ("base_cents", base_cents),
        ("per_additional_person_cents", per_additional_person_cents),
        ("per_child_cents", per_child_cents),
        ("carry_over_cap_cents", carry_over_cap_cents),
    ]:
        if value < 0:
            errors[name] = [_("Cannot be negative.")]
    if not 1 <= child_age_limit <= 25:
        errors["child_age_limit"] = [_("Between 1 and 25 years.")]
    if carry_over == CarryOver.CAP and carry_over_cap_cents <= 0:
        errors["carry_over_cap_cents"] = [_("A cap is needed when unspent credit is kept up to a cap.")]
    if errors:
        raise InvalidInput(_("The allocation rule is not valid."), errors=errors)
    month = first_of_month(effective_month)
    with transaction.atomic():
        if (
            MonthlyRun.objects.filter(territory=territory, month__gte=month).exists()
            and AllocationRule.objects.filter(territory=territory, effective_month=month).exists()
        ):
            raise Conflict(_("A monthly run already used the rule of this month; set it from a later month."))
        rule, _created = AllocationRule.objects.update_or_create(
            territory=territory,
            effective_month=month,
            defaults={
                "base_cents": base_cents,
                "per_additional_person_cents": per_additional_person_cents,
                "per_child_cents": per_child_cents,
                "child_age_limit": child_age_limit,
                "carry_over": carry_over,
                "carry_over_cap_cents": carry_over_cap_cents,
                "decided_by": decided_by,
                "created_by": actor,
            },
        )
        audit(
            territory=territory,
            actor=actor,
            action="fund.allocation",
            subject=f"rule:{rule.pk}",
            month=f"{month:%Y-%m}",
        )
    return rule


def scale_for(territory: Territory, month: date) -> ContributionScale | None:
    return (
        ContributionScale.objects.filter(territory=territory, effective_month__lte=first_of_month(month))
        .order_by("-effective_month")
        .first()
    )


def rule_for(territory: Territory, month: date) -> AllocationRule | None:
    return (
        AllocationRule.objects.filter(territory=territory, effective_month__lte=first_of_month(month))
        .order_by("-effective_month")
        .first()
    )


def contribution_choose(
    *, household: Household, amount_cents: int, effective_month: date, actor: User | None
) -> ContributionChoice:
    """The household chooses its monthly contribution (self-assessed), at or above the minimum."""
    month = first_of_month(effective_month)
    scale = scale_for(household.territory, month)
    if scale is None:
        raise Conflict(_("No contribution scale is set for this month yet."))
    if amount_cents < scale.minimum_cents:
        raise InvalidInput(
            _("The contribution is at least the minimum."),
            errors={"amount_cents": [_("At least %(min)s cents.") % {"min": scale.minimum_cents}]},
        )
    if not scale.free_choice:
        suggested = suggested_for(household, month, scale)
        if amount_cents != suggested:
            raise InvalidInput(
                _("This fund asks the suggested contribution."),
                errors={"amount_cents": [_("Choose the suggested amount.")]},
            )
    choice, _created = ContributionChoice.objects.update_or_create(
        household=household, effective_month=month, defaults={"amount_cents": amount_cents}
    )
    audit(
        territory=household.territory,
        actor=actor,
        action="fund.contribution.choose",
        subject=f"household:{household.pk}",
    )
    return choice


def suggested_for(household: Household, month: date, scale: ContributionScale) -> int:
    comp = rules.composition(list(household.persons.all()), first_of_month(month))
    return rules.suggested_contribution_cents(
        brackets=scale.brackets,
        minimum_cents=scale.minimum_cents,
        resources_cents=household.monthly_resources_cents,
        units_x10=comp.units_x10,
    )


def payment_code_set(*, household: Household, code: str, actor: User | None) -> None:
    """The household's personal code for paying at the till: 4 to 6 digits, stored as a keyed digest (``codes``)."""
    if not (code.isdigit() and 4 <= len(code) <= 6):
        raise InvalidInput(_("The code is 4 to 6 digits."), errors={"code": [_("4 to 6 digits.")]})
    PaymentCode.objects.update_or_create(
        household=household,
        defaults={
            "code_hash": codes.code_hash(household.card_number, code),
            "failed_attempts": 0,
            "locked_until": None,
        },
    )
    audit(
        territory=household.territory,
        actor=actor,
        action="fund.code.set",
        subject=f"household:{household.pk}",
    )
