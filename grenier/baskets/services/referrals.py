"""Referrals and memberships: a social worker refers a household to a garden, which makes it a member."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets import selectors
from grenier.baskets.models import Garden, GardenMembership, Referral, ReferralStatus
from grenier.core import services as core_services
from grenier.core.cards import normalise_card_number
from grenier.core.errors import InvalidInput
from grenier.core.households import referred_household, refuse_referred_again
from grenier.core.idempotency import fingerprint, replay
from grenier.core.models import Household, User
from grenier.core.services import NewHousehold, audit


def membership_ensure(*, garden: Garden, household: Household, on: date | None = None) -> GardenMembership:
    """The household's open membership of the garden, opened if it has none (inside the caller's transaction)."""
    found = GardenMembership.objects.filter(garden=garden, household=household, left_on__isnull=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return GardenMembership.objects.create(
                garden=garden, household=household, joined_on=on or timezone.localdate()
            )
    except IntegrityError:  # opened by a concurrent request in between
        return GardenMembership.objects.get(garden=garden, household=household, left_on__isnull=True)


def referral_create(
    *,
    garden: Garden,
    social_worker: User,
    consent: bool,
    idempotency_key: str,
    card: str = "",
    new_household: NewHousehold | None = None,
    member_share_bp: int | None = None,
    note: str = "",
) -> Referral:
    """A social worker refers a household to ``garden`` with its consent: an existing household named by its card
    number, or a new one created with minimal data. The household becomes a full member of the garden; a new one
    is not in the common fund (its monthly credit is the fund's to grant: a referral to the fund, ``fund.referrals``)."""
    request = {
        "garden": garden,
        "consent": consent,
        "card": normalise_card_number(card) or card.strip(),
        "new_household": None if new_household is None else new_household.as_request(),
        "member_share_bp": member_share_bp,
        "note": note.strip(),
    }
    referrals = Referral.objects.filter(social_worker=social_worker)
    existing = replay(referrals, key=idempotency_key, **request)
    if existing is not None:
        return existing
    household = _referral_check(
        garden, consent=consent, card=card, new_household=new_household, member_share_bp=member_share_bp
    )
    today = timezone.localdate()
    try:
        with transaction.atomic():
            if household is None:
                assert new_household is not None  # noqa: S101 - checked above
                household = _household_join(garden, new_household, social_worker, idempotency_key)
            referral = Referral(
                territory=garden.territory,
                garden=garden,
                household=household,
                social_worker=social_worker,
                consent_on=today,
                member_share_bp=member_share_bp,
                note=note.strip()[:300],
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            _referral_write(referral)
    except IntegrityError:
        won = replay(referrals, key=idempotency_key, **request)
        if won is None:
            if household is not None and household.pk:
                _refuse_open_referral(garden, household)  # referred by someone else in between
            raise
        return won
    return referral


def _referral_check(
    garden: Garden,
    *,
    consent: bool,
    card: str,
    new_household: NewHousehold | None,
    member_share_bp: int | None,
) -> Household | None:
    """The member household named by ``card`` (None for a new one), or every reason the referral is refused: on
    its fields, then a household already referred to this garden."""
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_("The household must agree to be referred.")]
    cap = selectors.settings_of(garden.territory).member_cap_bp
    if member_share_bp is not None and not 0 <= member_share_bp <= cap:
        errors["member_share_bp"] = [
            _("At most the territory's cap (%(cap)s %%).") % {"cap": f"{cap / 100:g}"}
        ]
    if bool(card.strip()) == (new_household is not None):
        errors["card"] = [_("Give the card number of a member household, or create a new household.")]
    household = referred_household(garden.territory, card, errors)
    if new_household is not None and not new_household.name.strip():
        errors["name"] = [_("A household needs a name.")]
    if household is not None and "card" not in errors:
        _refuse_open_referral(garden, household)
    if errors:
        raise InvalidInput(_("The referral could not be recorded."), errors=errors)
    return household


def _household_join(
    garden: Garden, new_household: NewHousehold, social_worker: User, idempotency_key: str
) -> Household:
    """The new household the social worker describes, recorded under a key of the referral's."""
    return core_services.household_join(
        territory=garden.territory,
        name=new_household.name,
        persons=new_household.person_inputs(),
        phone=new_household.phone,
        email=new_household.email,
        actor=social_worker,
        idempotency_key=f"referral:{social_worker.pk}:{idempotency_key}"[:100],
        in_fund=False,  # a member of the garden; in the common fund once a coordinator takes it in
    )


def _referral_write(referral: Referral) -> None:
    """The referral's row (not written yet), with the household's membership of the garden opened on the day it
    agreed, and its audit line, in the caller's transaction."""
    referral.membership = membership_ensure(
        garden=referral.garden, household=referral.household, on=referral.consent_on
    )
    referral.save(force_insert=True)
    audit(
        territory=referral.territory,
        actor=referral.social_worker,
        action="baskets.referral.create",
        subject=f"referral:{referral.pk}",
        household=referral.household.pk,
    )


def _refuse_open_referral(garden: Garden, household: Household) -> None:
    """One open referral of a household to a garden: a second one is refused, naming the first."""
    refuse_referred_again(
        Referral.objects.filter(garden=garden, household=household, status=ReferralStatus.OPEN)
        .select_related("social_worker")
        .first(),
        detail=_("This household is already referred to this garden (by %(who)s on %(day)s)."),
        card_error=_("Already referred to this garden."),
    )


def referral_withdraw(*, referral: Referral, actor: User) -> Referral:
    """Its social worker withdraws a referral (made by mistake, or the household changed its mind). A subscription
    already taken stays; it is for the garden's coordinator to stop. Withdrawing twice changes nothing."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status == ReferralStatus.WITHDRAWN:
            return locked
        locked.status = ReferralStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["status", "withdrawn_at"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="baskets.referral.withdraw",
            subject=f"referral:{locked.pk}",
            household=locked.household_id,
        )
    return locked
