"""Every write of the biowaste app: a campaign, a service's weighing, a delivery of biowaste to a farm or to
composting. Keyword-only, one transaction each, an audit line in it; a retried write under its idempotency key
answers the row first recorded.

A weighing is refused when it cannot be (a negative weight, a service with no meal, more than a kilogram thrown away
per meal served, a day outside the campaign or still to come) and held back with a warning when it is unusual (well
above the national figures, more meals than the kitchen serves, nothing at all weighed): it is stored only once the
person confirms (``confirm=True``), never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import User
from grenier.core.services import audit
from grenier.supply.models import Kitchen, Producer
from grenier.waste.figures import KINDS, grams_per_meal_text
from grenier.waste.models import BiowasteDelivery, Campaign, Destination, MealService, Phase, Weighing

MAX_CAMPAIGN_DAYS = 366
MAX_MEALS = 20_000  # a service's meals: more is a typing error
MAX_SERVICE_G = 5_000_000  # 5 t thrown away at one service: more is a typing error
IMPOSSIBLE_G_PER_MEAL = 1_000  # more thrown away than a whole meal weighs
UNUSUAL_G_PER_MEAL = 300  # well above the national figures (100 to 170 g): asked to confirm
UNUSUAL_MEALS_FACTOR = 3, 2  # more than 1.5 times the kitchen's meals a day: asked to confirm
MAX_DELIVERY_G = 100_000_000  # 100 t in one delivery


class UnusualValue(InvalidInput):
    """A value that may be right but is unusual: stored only once the person confirms it."""

    code = "unusual-value"


@dataclass(frozen=True)
class Grams:
    """What one service threw away, by kind, in grams."""

    preparation: int = 0
    unserved: int = 0
    plate: int = 0
    bread: int = 0

    def as_dict(self) -> dict[str, int]:
        return {kind: getattr(self, kind) for kind in KINDS}

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())

    def heaviest(self) -> str:
        return max(KINDS, key=lambda kind: getattr(self, kind))


M = TypeVar("M", Campaign, Weighing, BiowasteDelivery)


def _recorded(model: type[M], key: str, request: dict[str, Any], **scope: Any) -> M | None:
    """The row recorded under ``key`` if this request is the one it recorded (``KeyReused`` otherwise)."""
    found = model.objects.filter(idempotency_key=key, **scope).first()
    return None if found is None else replayed(found, key=key, **request)


def _insert(
    model: type[M],
    key: str,
    request: dict[str, Any],
    scope: dict[str, Any],
    create: Callable[[], M],
    clash: Callable[[], None] | None = None,
) -> M:
    """``create()`` in its own transaction; losing a race to the same key answers the winner's row, to another
    unique row ``clash()`` says why."""
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        won = _recorded(model, key, request, **scope)
        if won is not None:
            return won
        if clash is not None:
            clash()
        raise


# --- campaigns ------------------------------------------------------------------------------------------------------


def campaign_create(
    *,
    kitchen: Kitchen,
    name: str,
    starts_on: date,
    ends_on: date,
    services: list[str],
    actor: User | None,
    idempotency_key: str,
    phase: str = Phase.BEFORE,
    action: str = "",
    weighed_by: str = "",
    compares_with: Campaign | None = None,
) -> Campaign:
    """A kitchen's weighing campaign. Sent again under the same key, answers the same campaign."""
    chosen = [service for service in MealService.values if service in set(services)]
    request = {
        "kitchen": kitchen,
        "name": name.strip(),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "services": chosen,
        "phase": phase,
        "action": action.strip(),
        "weighed_by": weighed_by.strip(),
        "compares_with": compares_with,
    }
    scope = {"territory": kitchen.territory}
    found = _recorded(Campaign, idempotency_key, request, **scope)
    if found is not None:
        return found
    _check_campaign(kitchen, request, services, starts_on, ends_on)

    def create() -> Campaign:
        campaign = Campaign.objects.create(
            territory=kitchen.territory,
            kitchen=kitchen,
            name=name.strip()[:150],
            phase=phase,
            action=action.strip()[:300],
            starts_on=starts_on,
            ends_on=ends_on,
            services=chosen,
            weighed_by=weighed_by.strip()[:200],
            compares_with=compares_with,
            created_by=actor,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
        )
        audit(
            territory=kitchen.territory,
            actor=actor,
            action="waste.campaign.create",
            subject=f"waste-campaign:{campaign.pk}",
            kitchen=kitchen.pk,
        )
        return campaign

    return _insert(Campaign, idempotency_key, request, scope, create)


def _check_campaign(
    kitchen: Kitchen, request: dict[str, object], services: list[str], starts_on: date, ends_on: date
) -> None:
    errors: dict[str, list[str]] = {}
    if not request["name"]:
        errors["name"] = [_("Give the campaign a name, e.g. “Autumn, before the new menu”.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The last day comes after the first.")]
    elif (ends_on - starts_on).days >= MAX_CAMPAIGN_DAYS:
        errors["ends_on"] = [_("A campaign lasts a year at most.")]
    if not services or any(service not in MealService.values for service in services):
        errors["services"] = [_("Choose the services weighed: lunch, dinner or both.")]
    if request["phase"] not in Phase.values:
        errors["phase"] = [_("Before or after an action.")]
    before = request["compares_with"]
    if isinstance(before, Campaign):
        if before.kitchen_id != kitchen.pk:
            errors["compares_with"] = [_("Compare with a campaign of the same kitchen.")]
        elif before.starts_on >= starts_on:
            errors["compares_with"] = [_("Compare with an earlier campaign.")]
    if errors:
        raise InvalidInput(_("The campaign could not be created."), errors=errors)


# --- weighings ------------------------------------------------------------------------------------------------------


def weighing_record(
    *,
    campaign: Campaign,
    day: date,
    service: str,
    meals: int,
    grams: Grams,
    actor: User | None,
    idempotency_key: str,
    note: str = "",
    confirm: bool = False,
    today: date | None = None,
) -> Weighing:
    """One service's weighing. Refused when impossible (each reason on its field); held back with a warning
    (``UnusualValue``) when unusual until ``confirm``. Sent again under the same key, answers the same weighing."""
    request = {
        "campaign": campaign,
        "day": day,
        "service": service,
        "meals": meals,
        "grams": grams.as_dict(),
        "note": note.strip(),
    }
    scope = {"campaign": campaign}
    found = _recorded(Weighing, idempotency_key, request, **scope)
    if found is not None:
        return found
    _refuse_impossible(campaign, day, service, meals, grams, today or timezone.localdate())
    confirmed = _warn(campaign.kitchen, meals, grams, confirm)

    def create() -> Weighing:
        weighing = Weighing.objects.create(
            campaign=campaign,
            day=day,
            service=service,
            meals=meals,
            **{f"{kind}_g": value for kind, value in grams.as_dict().items()},
            note=note.strip()[:300],
            confirmed_unusual=confirmed,
            recorded_by=actor,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
        )
        audit(
            territory=campaign.territory,
            actor=actor,
            action="waste.weighing.record",
            subject=f"waste-weighing:{weighing.pk}",
            campaign=campaign.pk,
        )
        return weighing

    return _insert(
        Weighing,
        idempotency_key,
        request,
        scope,
        create,
        clash=lambda: _refuse_weighed_twice(campaign, day, service),
    )


def _refuse_impossible(
    campaign: Campaign, day: date, service: str, meals: int, grams: Grams, today: date
) -> None:
    errors: dict[str, list[str]] = {}
    if service not in campaign.services:
        errors["service"] = [_("This campaign does not weigh this service.")]
    if not campaign.starts_on <= day <= campaign.ends_on:
        errors["day"] = [
            _("A day of the campaign: from %(first)s to %(last)s.")
            % {
                "first": campaign.starts_on.strftime("%d/%m/%Y"),
                "last": campaign.ends_on.strftime("%d/%m/%Y"),
            }
        ]
    elif day > today:
        errors["day"] = [_("This day has not come yet.")]
    errors.update(_figure_errors(meals, grams))
    if errors:
        raise InvalidInput(_("The weighing could not be recorded."), errors=errors)
    if Weighing.objects.filter(campaign=campaign, day=day, service=service).exists():
        _refuse_weighed_twice(campaign, day, service)


def _figure_errors(meals: int, grams: Grams) -> dict[str, list[str]]:
    """What is impossible in a service's figures, each on its field."""
    errors: dict[str, list[str]] = {}
    if meals <= 0:
        errors["meals"] = [_("A service with no meal served cannot be weighed: type the meals served.")]
    elif meals > MAX_MEALS:
        errors["meals"] = [
            _("More than %(max)s meals at one service: check the number.") % {"max": MAX_MEALS}
        ]
    for kind, value in grams.as_dict().items():
        if value < 0:
            errors[kind] = [_("A weight cannot be negative.")]
        elif value > MAX_SERVICE_G:
            errors[kind] = [_("More than 5 tonnes at one service: check the weight.")]
    if not errors and grams.total > IMPOSSIBLE_G_PER_MEAL * meals:
        errors[grams.heaviest()] = [
            _(
                "More than a kilogram thrown away per meal served (%(figure)s): check the weights and the meals."
            )
            % {"figure": grams_per_meal_text(_per_meal(grams, meals))}
        ]
    return errors


def _warn(kitchen: Kitchen, meals: int, grams: Grams, confirm: bool) -> bool:
    """Whether the figures are unusual; ``UnusualValue`` (each warning on its field) unless ``confirm``."""
    warnings = unusual(kitchen, meals, grams)
    if warnings and not confirm:
        said = " ".join(message for _field, messages in warnings for message in messages)
        raise UnusualValue(
            f"{said} {_('Unusual value: check it, then confirm it is right.')}", errors=dict(warnings)
        )
    return bool(warnings)


def _per_meal(grams: Grams, meals: int) -> Fraction:
    return Fraction(grams.total, meals)


def _refuse_weighed_twice(campaign: Campaign, day: date, service: str) -> None:
    raise Conflict(
        _("%(service)s of %(day)s is already weighed.")
        % {"service": MealService(service).label, "day": day.strftime("%d/%m/%Y")},
        errors={"service": [_("Already weighed: choose another day or service.")]},
    )


def weighing_correct(
    *,
    weighing: Weighing,
    meals: int,
    grams: Grams,
    actor: User | None,
    note: str = "",
    confirm: bool = False,
) -> Weighing:
    """Correct a service's weighing (a typing error seen afterwards): the same refusals and warnings as recording
    it; the figures it had are kept in the audit line. Its day and service stay. Sent twice, the second changes
    nothing (it sets the same figures)."""
    errors = _figure_errors(meals, grams)
    if errors:
        raise InvalidInput(_("The weighing could not be corrected."), errors=errors)
    confirmed = _warn(weighing.campaign.kitchen, meals, grams, confirm)
    with transaction.atomic():
        locked = Weighing.objects.select_for_update().get(pk=weighing.pk)
        before = {"meals": locked.meals, **locked.grams(), "note": locked.note}
        after = {"meals": meals, **grams.as_dict(), "note": note.strip()[:300]}
        if before == after:
            return locked
        locked.meals = meals
        for kind, value in grams.as_dict().items():
            setattr(locked, f"{kind}_g", value)
        locked.note = str(after["note"])
        locked.confirmed_unusual = confirmed
        locked.save(update_fields=["meals", *(f"{kind}_g" for kind in KINDS), "note", "confirmed_unusual"])
        audit(
            territory=locked.campaign.territory,
            actor=actor,
            action="waste.weighing.correct",
            subject=f"waste-weighing:{locked.pk}",
            before=before,
            after=after,
        )
    return locked


def unusual(kitchen: Kitchen, meals: int, grams: Grams) -> list[tuple[str, list[str]]]:
    """What is unusual in a weighing, each on the field it concerns (nothing: a usual weighing)."""
    warnings: list[tuple[str, list[str]]] = []
    if grams.total == 0:
        warnings.append(("plate", [_("Nothing at all thrown away at this service?")]))
    elif grams.total > UNUSUAL_G_PER_MEAL * meals:
        warnings.append(
            (
                grams.heaviest(),
                [
                    _("%(figure)s thrown away per meal: far above the national figures (100 to 170 g).")
                    % {"figure": grams_per_meal_text(_per_meal(grams, meals))}
                ],
            )
        )
    factor, divisor = UNUSUAL_MEALS_FACTOR
    if kitchen.meals_per_day and meals * divisor > kitchen.meals_per_day * factor:
        warnings.append(
            (
                "meals",
                [
                    _("More meals than the kitchen serves in a day (%(meals)s).")
                    % {"meals": kitchen.meals_per_day}
                ],
            )
        )
    return warnings


# --- where biowaste goes --------------------------------------------------------------------------------------------


def delivery_record(
    *,
    kitchen: Kitchen,
    day: date,
    weight_g: int,
    kind: str,
    actor: User | None,
    idempotency_key: str,
    producer: Producer | None = None,
    destination: str = "",
    note: str = "",
    today: date | None = None,
) -> BiowasteDelivery:
    """Biowaste the kitchen sent to a farm of the platform, to composting or to another actor. Sent again under the
    same key, answers the same delivery."""
    request = {
        "kitchen": kitchen,
        "day": day,
        "weight_g": weight_g,
        "kind": kind,
        "producer": producer,
        "destination": destination.strip(),
        "note": note.strip(),
    }
    scope = {"territory": kitchen.territory}
    found = _recorded(BiowasteDelivery, idempotency_key, request, **scope)
    if found is not None:
        return found
    errors: dict[str, list[str]] = {}
    if day > (today or timezone.localdate()):
        errors["day"] = [_("This day has not come yet.")]
    elif day < (today or timezone.localdate()) - timedelta(days=3 * 366):
        errors["day"] = [_("More than three years ago: check the day.")]
    if weight_g <= 0:
        errors["weight_g"] = [_("Type the weight sent, above zero.")]
    elif weight_g > MAX_DELIVERY_G:
        errors["weight_g"] = [_("More than 100 tonnes in one delivery: check the weight.")]
    if kind not in Destination.values:
        errors["kind"] = [_("A farm, composting or another actor.")]
    elif kind == Destination.FARM:
        if producer is None or producer.territory_id != kitchen.territory_id or not producer.on_platform:
            errors["producer"] = [_("Choose the farm of the platform it went to.")]
    elif not request["destination"]:
        errors["destination"] = [_("Say where it went (the composting site, the association…).")]
    if errors:
        raise InvalidInput(_("The delivery could not be recorded."), errors=errors)

    def create() -> BiowasteDelivery:
        delivery = BiowasteDelivery.objects.create(
            territory=kitchen.territory,
            kitchen=kitchen,
            day=day,
            weight_g=weight_g,
            kind=kind,
            producer=producer if kind == Destination.FARM else None,
            destination="" if kind == Destination.FARM else destination.strip()[:200],
            note=note.strip()[:300],
            recorded_by=actor,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
        )
        audit(
            territory=kitchen.territory,
            actor=actor,
            action="waste.delivery.record",
            subject=f"waste-delivery:{delivery.pk}",
            kitchen=kitchen.pk,
        )
        return delivery

    return _insert(BiowasteDelivery, idempotency_key, request, scope, create)
