"""Biowaste: a kitchen's weighing campaigns (the food it throws away, weighed at the end of each service, by kind),
and the biowaste it sends to a farm or to composting.

Weights are integer grams, never floats; grams per meal are computed from the sums (``figures.py``) and rounded once,
for display. A weighing or a delivery a client may send twice carries an idempotency key.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Territory, User
from grenier.supply.models import Kitchen, Producer


class MealService(models.TextChoices):
    LUNCH = "lunch", _("Lunch")
    DINNER = "dinner", _("Dinner")


class Phase(models.TextChoices):
    """Where a campaign stands against the kitchen's action (a new menu, portion sizes, a talk with the pupils)."""

    BEFORE = "before", _("Before an action")
    AFTER = "after", _("After an action")


class WasteKind(models.TextChoices):
    """What is weighed, in the order it is thrown away. ma-cantine's waste measurement asks the first three
    (``preparation``, ``non servi``, ``restes assiette``); bread left on the tables is weighed apart, as ADEME's
    weighing guides ask, and counted with the plates' leftovers in ma-cantine's form."""

    PREPARATION = "preparation", _("Preparation losses")
    UNSERVED = "unserved", _("Unserved leftovers")
    PLATE = "plate", _("Plate waste")
    BREAD = "bread", _("Bread")


class Campaign(models.Model):
    """A kitchen's weighing campaign over a few days and services, before or after an action. ``compares_with`` is
    the earlier campaign of the same kitchen its figures are set beside (an "after" against its "before")."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="waste_campaigns")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="waste_campaigns")
    name = models.CharField(_("name"), max_length=150)
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, default=Phase.BEFORE)
    action = models.CharField(_("action"), max_length=300, blank=True)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    services = models.JSONField(_("services"), default=list)  # MealService values, in their order
    weighed_by = models.CharField(_("who weighs"), max_length=200, blank=True)
    compares_with = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("before")
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("weighing campaign")
        verbose_name_plural = _("weighing campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "idempotency_key"], name="waste_campaign_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="waste_campaign_dates_ordered"
            ),
            models.CheckConstraint(condition=Q(phase__in=Phase.values), name="waste_campaign_phase_known"),
        ]

    def __str__(self) -> str:
        return self.name


class Weighing(models.Model):
    """One service's weighing: grams thrown away by kind, and the meals served. One per day and service."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="weighings")
    day = models.DateField(_("day"))
    service = models.CharField(_("service"), max_length=10, choices=MealService.choices)
    meals = models.PositiveIntegerField(_("meals served"))
    preparation_g = models.PositiveIntegerField(_("preparation losses (g)"), default=0)
    unserved_g = models.PositiveIntegerField(_("unserved leftovers (g)"), default=0)
    plate_g = models.PositiveIntegerField(_("plate waste (g)"), default=0)
    bread_g = models.PositiveIntegerField(_("bread (g)"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    confirmed_unusual = models.BooleanField(default=False)  # a warning was shown and the person confirmed
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("weighing")
        verbose_name_plural = _("weighings")
        ordering = ["day", "service", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "idempotency_key"], name="waste_weighing_once_per_key"
            ),
            models.UniqueConstraint(
                fields=["campaign", "day", "service"], name="waste_weighing_one_per_service"
            ),
            models.CheckConstraint(condition=Q(meals__gt=0), name="waste_weighing_has_meals"),
            models.CheckConstraint(
                condition=Q(service__in=MealService.values), name="waste_weighing_service_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.day:%d/%m/%Y} {self.service}"

    @property
    def total_g(self) -> int:
        return self.preparation_g + self.unserved_g + self.plate_g + self.bread_g

    def grams(self) -> dict[str, int]:
        return {kind: getattr(self, f"{kind}_g") for kind in WasteKind.values}


class Destination(models.TextChoices):
    FARM = "farm", _("A farm")
    COMPOSTING = "composting", _("Composting")
    OTHER = "other", _("Another actor")


class BiowasteDelivery(models.Model):
    """Biowaste a kitchen sent back towards the fields: to a farm of the platform (``producer``), to a composting
    site or to another actor (``destination``, in words)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="biowaste_deliveries")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="biowaste_deliveries")
    day = models.DateField(_("day"))
    weight_g = models.PositiveIntegerField(_("weight (g)"))
    kind = models.CharField(_("sent to"), max_length=12, choices=Destination.choices)
    producer = models.ForeignKey(
        Producer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("farm")
    )
    destination = models.CharField(_("destination"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("biowaste delivery")
        verbose_name_plural = _("biowaste deliveries")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "idempotency_key"], name="waste_delivery_once_per_key"
            ),
            models.CheckConstraint(condition=Q(weight_g__gt=0), name="waste_delivery_weighs"),
            models.CheckConstraint(
                condition=Q(kind="farm", producer__isnull=False) | (~Q(kind="farm") & ~Q(destination="")),
                name="waste_delivery_has_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kitchen} → {self.destination_name} {self.day:%d/%m/%Y}"

    @property
    def destination_name(self) -> str:
        return self.producer.farm_name if self.producer_id and self.producer else self.destination
