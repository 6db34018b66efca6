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
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
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
    territory = garden.territory
    request = {
        "garden": garden,
        "consent": consent,
        "card": normalise_card_number(card) or card.strip(),
        "new_household": None if new_household is None else new_household.as_request(),
        "member_share_bp": member_share_bp,
        "note": note.strip(),
    }
    existing = Referral.objects.filter(social_worker=social_worker, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_("The household must agree to be referred.")]
    cap = selectors.settings_of(territory).member_cap_bp
    if member_share_bp is not None and not 0 <= member_share_bp <= cap:
        errors["member_share_bp"] = [
            _("At most the territory's cap (%(cap)s %%).") % {"cap": f"{cap / 100:g}"}
        ]
    if bool(card.strip()) == (new_household is not None):
        errors["card"] = [_("Give the card number of a member household, or create a new household.")]
    household: Household | None = None
    if card.strip() and "card" not in errors:
        number = normalise_card_number(card)
        household = (
            Household.objects.filter(territory=territory, card_number=number, left_on__isnull=True).first()
            if number
            else None
        )
        if household is None:
            errors["card"] = [_("No member household has this card number.")]
    if new_household is not None and not new_household.name.strip():
        errors["name"] = [_("A household needs a name.")]
    if household is not None and "card" not in errors:
        _refuse_open_referral(garden, household)
    if errors:
        raise InvalidInput(_("The referral could not be recorded."), errors=errors)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            if household is None:
                assert new_household is not None  # noqa: S101 - checked above
                household = core_services.household_join(
                    territory=territory,
                    name=new_household.name,
                    persons=new_household.person_inputs(),
                    phone=new_household.phone,
                    email=new_household.email,
                    actor=social_worker,
                    idempotency_key=f"referral:{social_worker.pk}:{idempotency_key}"[:100],
                    in_fund=False,  # a member of the garden; in the common fund once a coordinator takes it in
                )
            membership = membership_ensure(garden=garden, household=household, on=today)
            referral = Referral.objects.create(
                territory=territory,
                garden=garden,
                household=household,
                social_worker=social_worker,
                consent_on=today,
                member_share_bp=member_share_bp,
                note=note.strip()[:300],
                membership=membership,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=territory,
                actor=social_worker,
                action="baskets.referral.create",
                subject=f"referral:{referral.pk}",
                household=household.pk,
            )
    except IntegrityError:
        won = Referral.objects.filter(social_worker=social_worker, idempotency_key=idempotency_key).first()
        if won is None:
            if household is not None and household.pk:
                _refuse_open_referral(garden, household)  # referred by someone else in between
            raise
        return replayed(won, key=idempotency_key, **request)
    return referral


def _refuse_open_referral(garden: Garden, household: Household) -> None:
    """One open referral of a household to a garden: a second one is refused, naming the first."""
    open_ = (
        Referral.objects.filter(garden=garden, household=household, status=ReferralStatus.OPEN)
        .select_related("social_worker")
        .first()
    )
    if open_ is not None:
        raise Conflict(
            _("This household is already referred to this garden (by %(who)s on %(day)s).")
            % {"who": str(open_.social_worker), "day": open_.consent_on.strftime("%d/%m/%Y")},
            errors={"card": [_("Already referred to this garden.")]},
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
