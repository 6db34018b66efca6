"""Activities: workshops, farm visits, school sessions, shared meals… run by organisers of the territory, each in
sessions that households (or a school class) register for, with a waiting list when full, then attendance.

Places are counted in persons: a household takes its adults and children, a class its head count (pupils and
accompanying adults). A session never has more persons confirmed than its capacity: every write that takes or
frees places locks the session's row (``services``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grenier.baskets.models import DistributionSheet, Garden, PickupPoint
from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Household, Territory
from grenier.fund.models import Store
from grenier.orders.models import BuyingGroup, OrderCycle
from grenier.supply.models import Kitchen, Producer, SupplyWeek

# The kinds every territory starts with (issue 16), by code; a coordinator adds others. Created on first use per
# territory (``services.kinds_ensure``) rather than by a data migration: a migration would only seed the
# territories that exist when it runs, and every new territory would start without them.
STANDARD_KINDS: dict[str, object] = {
    "cooking": _("Cooking workshop"),
    "gardening": _("Gardening"),
    "nutrition": _("Nutrition"),
    "farm-visit": _("Farm visit"),
    "school": _("School education"),
    "shared-meal": _("Shared meal"),
    "work-party": _("Work party (chantier participatif)"),
    "event": _("Event"),
}


class ActivityKind(models.Model):
    """A kind of activity in a territory: the standard ones (named by their code, so shown in the reader's
    language) and those a coordinator adds (named as typed)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="activity_kinds")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("kind of activity")
        verbose_name_plural = _("kinds of activity")
        ordering = ["territory", "id"]
        constraints = [models.UniqueConstraint(fields=["territory", "code"], name="activities_kind_once")]

    def __str__(self) -> str:
        standard = STANDARD_KINDS.get(self.code)
        return str(standard) if standard is not None and not self.name else self.name


class Activity(models.Model):
    """What is offered (a cooking workshop, a visit of a farm…), by one or more organisers, in sessions. Its
    ``managers`` are the persons acting for the organisers: they add sessions and take attendance."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="activities")
    kind = models.ForeignKey(ActivityKind, on_delete=models.PROTECT, related_name="activities")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_activities", verbose_name=_("managers")
    )
    # Where its sessions' food credit is paid (decision 0004): an approved store of the territory, chosen by a
    # coordinator; without one a session cannot be priced in food credit.
    payee_store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store receiving the food credit"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "idempotency_key"], name="activities_activity_once"),
        ]

    def __str__(self) -> str:
        return self.title


class Organiser(models.Model):
    """One organiser of an activity: a garden, a buying group, a farm, a kitchen of Grenier, or an association of
    the territory named as typed. Exactly one of the five is set."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="organisers")
    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    group = models.ForeignKey(BuyingGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    association = models.CharField(_("association"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("organiser")
        verbose_name_plural = _("organisers")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(garden__isnull=False, group=None, producer=None, kitchen=None, association="")
                    | Q(garden=None, group__isnull=False, producer=None, kitchen=None, association="")
                    | Q(garden=None, group=None, producer__isnull=False, kitchen=None, association="")
                    | Q(garden=None, group=None, producer=None, kitchen__isnull=False, association="")
                    | (Q(garden=None, group=None, producer=None, kitchen=None) & ~Q(association=""))
                ),
                name="activities_organiser_one_of",
            ),
        ]

    def __str__(self) -> str:
        if self.garden_id:
            return str(self.garden)
        if self.group_id:
            return str(self.group)
        if self.producer_id:
            return str(self.producer)
        if self.kitchen_id:
            return str(self.kitchen)
        return self.association


class Audience(models.TextChoices):
    """Who may come to a session."""

    TERRITORY = "territory", _("every member household of the territory")
    GARDEN = "garden", _("the members of one garden")
    GROUP = "group", _("the members of one buying group")
    SCHOOL = "school", _("school classes")


class PaidIn(models.TextChoices):
    """How a session's price is paid (``services/charges.py``)."""

    FREE = "free", _("free")
    EUROS = "euros", _("in euros, at the session")
    CREDIT = "credit", _("in food credit, at registration")


MAX_PRICE_CENTS = 50_000  # a person's part of one session, at most


class Session(models.Model):
    """One date of an activity: where, when, how many persons, for whom, at what price. Registrations and
    cancellations close at ``registration_deadline``. Closed (``closed_at``), it is a record of who came.

    The price is a member's part per person, one for an adult and one for a child (a farm visit at 3 € an adult,
    children free), paid in euros at the session or in food credit when registering; free sessions have both at 0.
    """

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="sessions")
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="activity_sessions")
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    # At most one place of Grenier, beside or instead of the free address.
    place_garden = models.ForeignKey(
        Garden, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    place_pickup_point = models.ForeignKey(
        PickupPoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    place_producer = models.ForeignKey(
        Producer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    place_kitchen = models.ForeignKey(
        Kitchen, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    capacity = models.PositiveIntegerField(_("places"))
    audience = models.CharField(_("who may come"), max_length=10, choices=Audience.choices)
    audience_garden = models.ForeignKey(
        Garden, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    audience_group = models.ForeignKey(
        BuyingGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accessibility = models.CharField(_("accessibility"), max_length=500, blank=True)
    paid_in = models.CharField(_("price"), max_length=10, choices=PaidIn.choices, default=PaidIn.FREE)
    price_adult_cents = models.BigIntegerField(_("price per adult (cents)"), default=0)
    price_child_cents = models.BigIntegerField(_("price per child (cents)"), default=0)
    registration_deadline = models.DateTimeField(_("registrations and cancellations until"))
    cancelled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["date", "starts_at", "id"]
        indexes = [models.Index(fields=["territory", "date"], name="activities_session_day")]
        constraints = [
            models.UniqueConstraint(fields=["activity", "idempotency_key"], name="activities_session_once"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activities_ends_after"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activities_capacity_positive"),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="activities_audience_known"
            ),
            models.CheckConstraint(
                condition=Q(audience="garden", audience_garden__isnull=False)
                | (~Q(audience="garden") & Q(audience_garden=None)),
                name="activities_audience_garden",
            ),
            models.CheckConstraint(
                condition=Q(audience="group", audience_group__isnull=False)
                | (~Q(audience="group") & Q(audience_group=None)),
                name="activities_audience_group",
            ),
            models.CheckConstraint(
                condition=Q(paid_in="free", price_adult_cents=0, price_child_cents=0)
                | (
                    Q(paid_in__in=["euros", "credit"])
                    & Q(price_adult_cents__gte=0, price_adult_cents__lte=MAX_PRICE_CENTS)
                    & Q(price_child_cents__gte=0, price_child_cents__lte=MAX_PRICE_CENTS)
                    & (Q(price_adult_cents__gt=0) | Q(price_child_cents__gt=0))
                ),
                name="activities_session_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.date:%d/%m/%Y}"

    def price_of(self, adults: int, children: int) -> int:
        """What ``adults`` and ``children`` pay for this session, in cents."""
        return adults * self.price_adult_cents + children * self.price_child_cents

    @property
    def place(self) -> object | None:
        """The place of Grenier the session is at, if one is named."""
        return self.place_garden or self.place_pickup_point or self.place_producer or self.place_kitchen

    @property
    def where(self) -> str:
        """The place to show: the place's name and address, or the free address."""
        place = self.place
        if place is None:
            return self.address
        address = self.address or getattr(place, "address", "")
        return f"{place}, {address}" if address else str(place)


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("registered")
    WAITING = "waiting", _("on the waiting list")
    CANCELLED = "cancelled", _("cancelled")


class Registration(models.Model):
    """A household's registration (its adults and children), or a school class's (its name and head count, no
    child's name). Confirmed ones hold places; waiting ones are served in the order they came (``waiting_since``,
    then id). ``attended`` is the organiser's tick at the session (None: not taken yet).

    On a priced session ``price_cents`` is the household's part (its persons at the session's prices, set when it
    registers); ``charge_entry`` the ledger entry that took it (food credit when the place is confirmed, euros when
    the organiser records them paid), ``refund_entry`` the one that reversed it on cancelling. A class is never
    charged (school sessions are free). ``short_credit_told_at``: when the household was told that a place freed up
    but its food credit could not pay it (told once)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="registrations")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="activity_registrations"
    )
    class_name = models.CharField(_("class"), max_length=120, blank=True)
    adults = models.PositiveSmallIntegerField(_("adults"), default=0)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=RegistrationStatus.choices)
    waiting_since = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    price_cents = models.BigIntegerField(_("price (cents)"), default=0)
    charge_entry = models.OneToOneField(
        "ledger.Entry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    charged_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    refund_entry = models.OneToOneField(
        "ledger.Entry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    short_credit_told_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "idempotency_key"], name="activities_registration_once"
            ),
            # A household holds one live registration per session: registering twice is the same registration.
            models.UniqueConstraint(
                fields=["session", "household"],
                condition=~Q(status="cancelled") & Q(household__isnull=False),
                name="activities_household_once_per_session",
            ),
            models.CheckConstraint(
                condition=(Q(household__isnull=False) & Q(class_name=""))
                | (Q(household__isnull=True) & ~Q(class_name="")),
                name="activities_registration_household_or_class",
            ),
            models.CheckConstraint(
                condition=Q(adults__lte=500) & Q(children__lte=500) & (Q(adults__gt=0) | Q(children__gt=0)),
                name="activities_registration_counts_bounded",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RegistrationStatus.values), name="activities_registration_status_known"
            ),
            models.CheckConstraint(
                condition=Q(price_cents__gte=0)
                & (Q(charge_entry__isnull=False) | Q(refund_entry=None))
                & (Q(charge_entry=None) | Q(price_cents__gt=0)),
                name="activities_registration_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.who} · {self.session}"

    @property
    def places(self) -> int:
        return self.adults + self.children

    @property
    def who(self) -> str:
        if self.household_id is not None and self.household is not None:
            return str(self.household.display_name)
        return self.class_name


class WalkIn(models.Model):
    """Persons who came without a confirmed registration, counted at the door: a household found by its card, or
    just a count. Recorded once per key (a double tap counts once)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="walk_ins")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="activity_walk_ins"
    )
    adults = models.PositiveSmallIntegerField(_("adults"), default=0)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("walk-in")
        verbose_name_plural = _("walk-ins")
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "idempotency_key"], name="activities_walk_in_once"),
            models.CheckConstraint(
                condition=Q(adults__lte=500) & Q(children__lte=500) & (Q(adults__gt=0) | Q(children__gt=0)),
                name="activities_walk_in_counts_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adults}+{self.children} · {self.session}"


# --- volunteering -------------------------------------------------------------------------------------------------

MAX_SLOT_MINUTES = 12 * 60  # hours recorded for one volunteer on one slot, at most


class VolunteerSlot(models.Model):
    """A call for volunteers: on a session (serving the shared meal, setting up the workshop), on a pickup
    point's distribution sheet (handing out the baskets), on a buying group's pickup (an order cycle's delivery
    day: unloading, sorting the orders) or on a platform delivery (a published supply week's lines to one kitchen
    on the slot's day: receiving, checking, putting away), for a few hours, so many volunteers. People sign up;
    the session's organisers (or the pickup point's team) record the hours each one gave when it is done."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="volunteer_slots")
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="volunteer_slots"
    )
    sheet = models.ForeignKey(
        DistributionSheet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cycle = models.ForeignKey(  # a buying group's pickup: the delivery day of one of its order cycles
        OrderCycle, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # a platform delivery: the published week's plan lines to one kitchen on the slot's ``date``
    delivery_week = models.ForeignKey(
        SupplyWeek, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delivery_kitchen = models.ForeignKey(
        Kitchen, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    task = models.CharField(_("task"), max_length=200)
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    places = models.PositiveSmallIntegerField(_("volunteers wanted"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("volunteer slot")
        verbose_name_plural = _("volunteer slots")
        ordering = ["date", "starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "idempotency_key"], name="activities_slot_once"),
            models.CheckConstraint(
                condition=Q(
                    session__isnull=False, sheet=None, cycle=None, delivery_week=None, delivery_kitchen=None
                )
                | Q(session=None, sheet__isnull=False, cycle=None, delivery_week=None, delivery_kitchen=None)
                | Q(session=None, sheet=None, cycle__isnull=False, delivery_week=None, delivery_kitchen=None)
                | Q(
                    session=None,
                    sheet=None,
                    cycle=None,
                    delivery_week__isnull=False,
                    delivery_kitchen__isnull=False,
                ),
                name="activities_slot_one_target",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activities_slot_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(places__gte=1) & Q(places__lte=100), name="activities_slot_places_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.date:%d/%m/%Y}"

    @property
    def minutes(self) -> int:
        """The slot's length, in minutes."""
        return (self.ends_at.hour * 60 + self.ends_at.minute) - (
            self.starts_at.hour * 60 + self.starts_at.minute
        )

    @property
    def where(self) -> str:
        if self.session_id is not None and self.session is not None:
            return self.session.where
        if self.sheet_id is not None and self.sheet is not None:
            point = self.sheet.pickup_point
            return f"{point}, {point.address}" if point.address else str(point)
        if self.cycle_id is not None and self.cycle is not None:
            group_point = self.cycle.pickup_point
            return f"{group_point}, {group_point.address}" if group_point.address else str(group_point)
        if self.delivery_kitchen_id is not None and self.delivery_kitchen is not None:
            kitchen = self.delivery_kitchen
            return f"{kitchen}, {kitchen.address}" if kitchen.address else str(kitchen)
        return ""

    @property
    def what(self) -> str:
        """What the slot helps with: the session's activity, or the pickup point's distribution."""
        if self.session_id is not None and self.session is not None:
            return str(self.session.activity)
        if self.sheet_id is not None and self.sheet is not None:
            return str(_("Basket distribution at %(point)s") % {"point": self.sheet.pickup_point})
        if self.cycle_id is not None and self.cycle is not None:
            return str(_("Buying-group pickup: %(cycle)s") % {"cycle": self.cycle})
        if self.delivery_kitchen_id is not None and self.delivery_kitchen is not None:
            return str(_("Platform delivery to %(kitchen)s") % {"kitchen": self.delivery_kitchen})
        return ""


class VolunteeringStatus(models.TextChoices):
    SIGNED_UP = "signed", _("signed up")
    CANCELLED = "cancelled", _("cancelled")


class Volunteering(models.Model):
    """A person's sign-up on a slot, for their household (whose wallet a reciprocity reward would credit; none
    for a person of no household here). ``minutes`` are recorded by the organiser when the slot is done: None
    until then, 0 for someone who did not come."""

    slot = models.ForeignKey(VolunteerSlot, on_delete=models.PROTECT, related_name="volunteerings")
    volunteer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="volunteerings"
    )
    status = models.CharField(_("status"), max_length=10, choices=VolunteeringStatus.choices)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes given"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("volunteering")
        verbose_name_plural = _("volunteerings")
        ordering = ["slot", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "idempotency_key"], name="activities_volunteering_once"),
            models.UniqueConstraint(
                fields=["slot", "volunteer"],
                condition=Q(status="signed"),
                name="activities_volunteer_once_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VolunteeringStatus.values), name="activities_volunteering_status_known"
            ),
            models.CheckConstraint(
                condition=Q(minutes=None) | Q(minutes__lte=MAX_SLOT_MINUTES),
                name="activities_volunteering_minutes_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.slot}"


# --- reciprocity: hours of volunteering rewarded (``reciprocity.py``) ----------------------------------------------


class RewardKind(models.TextChoices):
    CREDIT = "credit", _("food credit")
    BASKET = "basket", _("a basket")
    NONE = "none", _("no reward (reciprocity stopped)")


class ReciprocityRule(models.Model):
    """The territory's reciprocity rule from a month on, as the committee voted it (``proposals.py``): every
    ``hours`` of volunteering recorded give ``credit_cents`` of food credit to the volunteer's household, or one
    basket of ``garden`` worth ``basket_cents`` (paid on the household's basket account there). A later month's rule
    replaces it; ``none`` stops the rewards. Hours count from the first rule's month."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="reciprocity_rules")
    effective_month = models.DateField(_("from (month)"))
    hours = models.PositiveSmallIntegerField(_("hours of volunteering"))
    reward = models.CharField(_("reward"), max_length=10, choices=RewardKind.choices)
    credit_cents = models.BigIntegerField(_("food credit (cents)"), default=0)
    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    basket_cents = models.BigIntegerField(_("basket's value (cents)"), default=0)
    decided_by = models.CharField(_("decided by"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reciprocity rule")
        verbose_name_plural = _("reciprocity rules")
        ordering = ["territory", "effective_month"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "effective_month"], name="activities_rule_once_a_month"
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=1) & Q(hours__lte=200), name="activities_rule_hours"
            ),
            models.CheckConstraint(
                condition=Q(reward="none")
                | Q(
                    reward="credit",
                    credit_cents__gt=0,
                    credit_cents__lte=100_000,
                    garden=None,
                    basket_cents=0,
                )
                | Q(
                    reward="basket",
                    garden__isnull=False,
                    basket_cents__gt=0,
                    basket_cents__lte=100_000,
                    credit_cents=0,
                ),
                name="activities_rule_reward",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hours} h → {self.reward} ({self.effective_month:%m/%Y})"


class ReciprocityReward(models.Model):
    """One reward paid to a household: the ``sequence``-th, for ``minutes`` of its volunteering (the rule's hours),
    under ``rule``, as the ledger ``entry``. The minutes rewarded so far are the sum of its rewards' minutes: an hour
    is never rewarded twice (the household's row is locked while they are counted, and the sequence is unique)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="reciprocity_rewards")
    sequence = models.PositiveIntegerField()
    rule = models.ForeignKey(ReciprocityRule, on_delete=models.PROTECT, related_name="rewards")
    minutes = models.PositiveIntegerField(_("minutes rewarded"))
    reward = models.CharField(_("reward"), max_length=10, choices=RewardKind.choices)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    entry = models.ForeignKey("ledger.Entry", on_delete=models.PROTECT, related_name="+")
    paid_at = models.DateTimeField(_("paid at"))
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reciprocity reward")
        verbose_name_plural = _("reciprocity rewards")
        ordering = ["household", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["household", "sequence"], name="activities_reward_once"),
            models.CheckConstraint(
                condition=Q(minutes__gt=0) & Q(amount_cents__gt=0), name="activities_reward_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"reward {self.sequence} of {self.household_id}"


class CalendarFeed(models.Model):
    """A person's secret calendar address: their registrations as an iCalendar feed a calendar app reads without
    logging in. The address is ``public_id`` followed by a signature of it made with the site's secret key, so
    the database alone does not give it away; renewing draws a new ``public_id`` (the old address stops working),
    stopping deletes the row. One per person and territory."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(fields=["user", "territory"], name="activities_calendar_feed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.territory.slug}"
