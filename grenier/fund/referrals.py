"""Referrals to the common fund: a social worker orients a household to the fund with its consent; a coordinator
takes it in or declines, saying why; the social worker may withdraw a referral still waiting.

The household is either a member household named by its card number (one that a social worker referred to a garden
or a buying group, which is not in the fund) or a new one, described by the little the social worker records and
created only when a coordinator confirms. Taken in, it is in the fund from that day: its first monthly credit and
contribution come with the next month run. Pages, API and the ``grenier fund`` command call these.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core import services as core_services
from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.households import referred_household, refuse_referred_again
from grenier.core.idempotency import fingerprint, replay
from grenier.core.models import Household, Territory, User
from grenier.core.services import NewHousehold, audit
from grenier.fund.models import FundReferral, ReferralStatus


def referral_create(
    *,
    territory: Territory,
    social_worker: User,
    consent: bool,
    idempotency_key: str,
    card: str = "",
    new_household: NewHousehold | None = None,
    note: str = "",
) -> FundReferral:
    """Refer a household to the common fund: a member household by its card number, or a new one. Waits for a
    coordinator. Sent again under the same key, answers the same referral."""
    request = {
        "territory": territory,
        "consent": consent,
        "card": normalise_card_number(card) or card.strip(),
        "new_household": None if new_household is None else new_household.as_request(),
        "note": note.strip(),
    }
    referrals = FundReferral.objects.filter(social_worker=social_worker)
    existing = replay(referrals, key=idempotency_key, **request)
    if existing is not None:
        return existing
    household = _check(territory, consent=consent, card=card, new_household=new_household)
    new = new_household or NewHousehold(name="")
    try:
        with transaction.atomic():
            referral = FundReferral.objects.create(
                territory=territory,
                social_worker=social_worker,
                household=household,
                name="" if household else new.name.strip()[:150],
                first_name="" if household else new.first_name.strip()[:100],
                persons=1 if household else min(max(new.persons, 1), 20),
                phone="" if household else new.phone.strip()[:30],
                email="" if household else new.email.strip().lower(),
                consent_on=timezone.localdate(),
                note=note.strip()[:300],
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=territory,
                actor=social_worker,
                action="fund.referral.create",
                subject=f"fund-referral:{referral.pk}",
                household=household.pk if household else None,
            )
    except IntegrityError:
        won = replay(referrals, key=idempotency_key, **request)
        if won is not None:
            return won
        if household is not None:
            _refuse_waiting(household)  # referred by someone else in between
        raise
    return referral


def _check(
    territory: Territory, *, consent: bool, card: str, new_household: NewHousehold | None
) -> Household | None:
    """The member household named by ``card`` (None for a new one), or every reason the referral is refused."""
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_("The household must agree to be referred.")]
    if bool(card.strip()) == (new_household is not None):
        errors["card"] = [_("Give the card number of a member household, or describe a new household.")]
    household = referred_household(territory, card, errors)
    if household is not None and household.fund_joined_on is not None:
        errors["card"] = [_("This household is already in the common fund.")]
    if new_household is not None:
        if not new_household.name.strip():
            errors["name"] = [_("A household needs a name.")]
        if not 1 <= new_household.persons <= 20:
            errors["persons"] = [_("A household has 1 to 20 persons.")]
    if errors:
        raise InvalidInput(_("The referral could not be recorded."), errors=errors)
    if household is not None:
        _refuse_waiting(household)
    return household


def _refuse_waiting(household: Household) -> None:
    """One waiting referral of a household to the fund: a second one is refused, naming the first."""
    refuse_referred_again(
        FundReferral.objects.filter(household=household, status=ReferralStatus.PENDING)
        .select_related("social_worker")
        .first(),
        detail=_("This household is already referred to the common fund (by %(who)s on %(day)s)."),
        card_error=_("Already referred to the common fund."),
    )


def _decide(
    referral: FundReferral, actor: User, status: ReferralStatus, reason: str = ""
) -> tuple[FundReferral, bool]:
    """Lock the referral and record the decision (not saved yet), with whether it is new: deciding again the same
    way changes nothing, any other way is refused (a referral is decided once)."""
    locked = FundReferral.objects.select_for_update().get(pk=referral.pk)
    if locked.status == status:
        return locked, False
    if locked.status != ReferralStatus.PENDING:
        raise Conflict(
            _("This referral was already decided: %(status)s.") % {"status": locked.get_status_display()}
        )
    locked.status = status
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.reason = reason.strip()[:300]
    if status != ReferralStatus.CONFIRMED and locked.household_id is None:
        locked.phone = ""  # not taken in: no contact kept for a household that is not a member
        locked.email = ""
    return locked, True


def referral_confirm(*, referral: FundReferral, actor: User) -> FundReferral:
    """A coordinator takes the household in: a new household is created (its card number is then on the referral),
    a member household is in the fund from today. Confirming twice changes nothing."""
    with transaction.atomic():
        locked, new_decision = _decide(referral, actor, ReferralStatus.CONFIRMED)
        if not new_decision:
            return locked
        if locked.household is None:
            new = NewHousehold(
                name=locked.name, first_name=locked.first_name, persons=locked.persons, phone=locked.phone
            )
            locked.household = core_services.household_join(
                territory=locked.territory,
                name=new.name,
                persons=new.person_inputs(),
                phone=new.phone,
                email=locked.email,
                actor=actor,
                idempotency_key=f"fund-referral:{locked.pk}",
            )
        else:
            core_services.household_fund_join(household=locked.household, actor=actor)
        locked.save(update_fields=["status", "decided_at", "decided_by", "reason", "household"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="fund.referral.confirm",
            subject=f"fund-referral:{locked.pk}",
            household=locked.household.pk,
        )
    return locked


def referral_decline(*, referral: FundReferral, actor: User, reason: str) -> FundReferral:
    """A coordinator declines, saying why (the social worker reads it). Declining twice changes nothing."""
    if not reason.strip():
        raise InvalidInput(
            _("Say why the referral is declined."),
            errors={"reason": [_("The social worker will read it.")]},
        )
    return _not_taken_in(referral, actor, ReferralStatus.DECLINED, "fund.referral.decline", reason)


def referral_withdraw(*, referral: FundReferral, actor: User) -> FundReferral:
    """Its social worker withdraws a referral still waiting (made by mistake, or the household changed its mind)."""
    if referral.social_worker_id != actor.pk:
        raise Forbidden(_("Only the social worker who made a referral may withdraw it."))
    return _not_taken_in(referral, actor, ReferralStatus.WITHDRAWN, "fund.referral.withdraw")


def _not_taken_in(
    referral: FundReferral, actor: User, status: ReferralStatus, action: str, reason: str = ""
) -> FundReferral:
    """A referral declined or withdrawn: the decision saved (a new household's contact erased) and audited as
    ``action``; the same decision again changes nothing."""
    with transaction.atomic():
        locked, new_decision = _decide(referral, actor, status, reason)
        if not new_decision:
            return locked
        locked.save(update_fields=["status", "decided_at", "decided_by", "reason", "phone", "email"])
        audit(territory=locked.territory, actor=actor, action=action, subject=f"fund-referral:{locked.pk}")
    return locked
