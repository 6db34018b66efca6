"""Co-financing agreements: a funder pays part of a garden's baskets, by priority, within a budget and a period."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from grenier.baskets.models import BP, Agreement, Garden, LineFunding
from grenier.baskets.services.common import _create_once, _period_errors, _raise, _taken
from grenier.core.idempotency import replay
from grenier.core.models import User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund.models import Funder

PRIORITY_MAX = 99


def _agreement_errors(
    *,
    garden: Garden,
    funder: Funder,
    name: str,
    budget_cents: int,
    starts_on: date,
    ends_on: date,
    priority: int,
    share_bp: int | None,
    amount_per_basket_cents: int | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if (share_bp is None) == (amount_per_basket_cents is None):
        errors["share_bp"] = [_("Give either a share of the price or a fixed amount per basket.")]
    if share_bp is not None and not 0 < share_bp <= BP:
        errors["share_bp"] = [_("Between 1 and 10000 basis points.")]
    if amount_per_basket_cents is not None and not 0 < amount_per_basket_cents <= 1_000_00:
        errors["amount_per_basket_cents"] = [_("A positive number of cents, at most 1000 €.")]
    if not isinstance(budget_cents, int) or not 0 < budget_cents <= 100_000_000_00:
        errors["budget_cents"] = [_("A positive budget.")]
    _period_errors(starts_on, ends_on, start_field="starts_on", end_field="ends_on", errors=errors)
    if not isinstance(priority, int) or not 1 <= priority <= PRIORITY_MAX:
        errors["priority"] = [_("From 1 (pays first) to 99.")]
    if funder.territory_id != garden.territory_id:
        errors["funder"] = [_("Not a funder of this territory.")]
    return errors


def agreement_create(
    *,
    garden: Garden,
    funder: Funder,
    name: str,
    budget_cents: int,
    starts_on: date,
    ends_on: date,
    priority: int = 1,
    share_bp: int | None = None,
    amount_per_basket_cents: int | None = None,
    actor: User | None,
    idempotency_key: str | None = None,
) -> Agreement:
    """A co-financing agreement: ``share_bp`` of each basket's price, or ``amount_per_basket_cents``, never both;
    a positive budget; a period of at most three years."""
    request = {
        "funder": funder,
        "name": name.strip(),
        "budget_cents": budget_cents,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "priority": priority,
        "share_bp": share_bp,
        "amount_per_basket_cents": amount_per_basket_cents,
    }
    found = replay(Agreement.objects.filter(garden=garden), key=idempotency_key, **request)
    if found is not None:
        return found
    errors = _agreement_errors(
        garden=garden,
        funder=funder,
        name=name,
        budget_cents=budget_cents,
        starts_on=starts_on,
        ends_on=ends_on,
        priority=priority,
        share_bp=share_bp,
        amount_per_basket_cents=amount_per_basket_cents,
    )
    _raise(errors, _("The agreement could not be recorded."))
    fields = {
        "territory": garden.territory,
        "funder": funder,
        "share_bp": share_bp,
        "amount_per_basket_cents": amount_per_basket_cents,
        "budget_cents": budget_cents,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "priority": priority,
    }
    agreement: Agreement = _create_once(
        Agreement,
        scope={"garden": garden},
        name=name.strip(),
        fields=fields,
        idempotency_key=idempotency_key,
        request=request,
        territory=garden.territory,
        actor=actor,
        action="baskets.agreement.create",
        subject="agreement",
        funder=funder.pk,
        budget_cents=budget_cents,
    )
    return agreement


def agreement_update(
    *,
    agreement: Agreement,
    funder: Funder,
    name: str,
    budget_cents: int,
    starts_on: date,
    ends_on: date,
    priority: int,
    share_bp: int | None,
    amount_per_basket_cents: int | None,
    actor: User | None,
) -> Agreement:
    """Change an agreement for the baskets booked from now on. The budget never drops below what baskets already
    used; the period keeps every basket the agreement already paid for; the funder changes only before the
    agreement paid for any basket."""
    garden = agreement.garden
    errors = _agreement_errors(
        garden=garden,
        funder=funder,
        name=name,
        budget_cents=budget_cents,
        starts_on=starts_on,
        ends_on=ends_on,
        priority=priority,
        share_bp=share_bp,
        amount_per_basket_cents=amount_per_basket_cents,
    )
    _raise(errors, _("The agreement could not be recorded."))
    try:
        with transaction.atomic():
            # The garden's lock first, as ``distribution_generate`` takes it: no generation runs meanwhile.
            Garden.objects.select_for_update().filter(pk=garden.pk).first()
            locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
            if budget_cents < locked.spent_cents:
                errors["budget_cents"] = [
                    _("Baskets already used %(used)s of it.") % {"used": format_cents(locked.spent_cents)}
                ]
            paid = LineFunding.objects.filter(agreement=locked).aggregate(
                first=Min("line__on"), last=Max("line__on")
            )
            if paid["first"] is not None and (starts_on > paid["first"] or ends_on < paid["last"]):
                errors["ends_on" if ends_on < paid["last"] else "starts_on"] = [
                    _("It already paid for baskets from %(first)s to %(last)s.")
                    % {"first": paid["first"], "last": paid["last"]}
                ]
            if funder.pk != locked.funder_id and paid["first"] is not None:
                errors["funder"] = [_("It already paid for baskets: record a new agreement instead.")]
            _raise(errors, _("The agreement could not be recorded."))
            values = {
                "funder_id": funder.pk,
                "name": name.strip()[:200],
                "budget_cents": budget_cents,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "priority": priority,
                "share_bp": share_bp,
                "amount_per_basket_cents": amount_per_basket_cents,
            }
            changed = {k: v for k, v in values.items() if getattr(locked, k) != v}
            if changed:
                Agreement.objects.filter(pk=locked.pk).update(**changed)
                audit(
                    territory=garden.territory,
                    actor=actor,
                    action="baskets.agreement.update",
                    subject=f"agreement:{locked.pk}",
                    fields=sorted(changed),
                    budget_cents=budget_cents,
                    was_budget_cents=locked.budget_cents,
                )
    except IntegrityError as exc:
        raise _taken() from exc
    return Agreement.objects.select_related("funder", "garden").get(pk=agreement.pk)
