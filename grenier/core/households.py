"""A household found by its card number, and a household referred once at a time: what the apps that take a
household by its card (the fund's till, a garden's payments, a buying group) and refer one (to a garden, to the
common fund) share."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from django.utils.translation import gettext as _

from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, NotFound
from grenier.core.models import Household, Territory


def household_with_card(territory: Territory, card: str) -> Household | None:
    """The territory's household (not left) with this card number, spaces and dashes allowed; None for an unknown or
    malformed number (a malformed one asks the database nothing)."""
    number = normalise_card_number(card)
    if not number:
        return None
    return Household.objects.filter(territory=territory, card_number=number, left_on__isnull=True).first()


def card_unknown() -> NotFound:
    return NotFound(_("No member household has this card number."))


def household_by_card(territory: Territory, card: str) -> Household:
    """The territory's household with this card number, or ``NotFound`` saying nothing of any household."""
    household = household_with_card(territory, card)
    if household is None:
        raise card_unknown()
    return household


def referred_household(territory: Territory, card: str, errors: dict[str, list[str]]) -> Household | None:
    """The household a referral names by ``card``: None when no card is given or ``errors`` already has a reason on
    the card; None with the reason on ``errors["card"]`` when no household of the territory has this number."""
    if not card.strip() or "card" in errors:
        return None
    household = household_with_card(territory, card)
    if household is None:
        errors["card"] = [_("No member household has this card number.")]
    return household


class Referral(Protocol):
    """What the refusal names of the referral already open: who made it and when the household agreed."""

    social_worker: Any
    consent_on: date


def refuse_referred_again(first: Referral | None, *, detail: str, card_error: str) -> None:
    """A household is referred once at a time (to a garden, to the common fund): with a referral still open,
    another is refused on the card. ``detail`` names the first one's social worker and day as ``%(who)s`` and
    ``%(day)s``."""
    if first is not None:
        raise Conflict(
            detail % {"who": str(first.social_worker), "day": first.consent_on.strftime("%d/%m/%Y")},
            errors={"card": [card_error]},
        )
