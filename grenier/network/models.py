"""The territory's cooperation map: its actors, the resources they may share, the cooperations between them with a
level from 1 to 5 whose every change is a dated event, and the bookings of shared resources.

An actor Grenier already knows (a store, a funder, a farm, a kitchen, a garden, a buying group) is linked to its row
(one nullable one-to-one link each), so it is never typed twice; ``builtin`` names the territory's own common
structures (the common fund, the supply platform), one actor each. The sorts and levels are those of the LERIS
research-action on tiers-lieux (seed 001): levels 1 a wish to cooperate … 5 collective organisation; sorts
proximity, theme, scale and the people concerned.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.baskets.models import Garden
from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Territory
from grenier.fund.models import Funder, Store
from grenier.orders.models import BuyingGroup
from grenier.supply.models import Kitchen, Producer


class ActorKind(models.TextChoices):
    ASSOCIATION = "association", _("association")
    FOOD_AID = "food_aid", _("food-aid association")
    SOCIAL_CENTRE = "social_centre", _("social centre")
    CCAS = "ccas", _("CCAS")
    TOWN_HALL = "town_hall", _("town hall")
    SCHOOL = "school", _("school")
    EHPAD = "ehpad", _("care home")
    FARM = "farm", _("farm")
    STORE = "store", _("store")
    KITCHEN = "kitchen", _("kitchen")
    GARDEN = "garden", _("garden")
    BUYING_GROUP = "buying_group", _("buying group")
    FUNDER = "funder", _("funder")
    RESEARCH = "research", _("research lab")
    THIRD_PARTY = "third_party", _("facilitating third party")
    COLLECTIVE = "collective", _("informal collective")
    COMMON = "common", _("common structure")
    OTHER = "other", _("other")


class Scale(models.TextChoices):
    """The scales of intervention (seed 001)."""

    SELF_ORGANISED = "self_organised", _("self-organised")
    PUBLIC = "public", _("public")
    PRIVATE = "private", _("private")
    NON_PROFIT = "non_profit", _("non-profit")
    SOCIAL_ECONOMY = "social_economy", _("social economy")
    INFORMAL = "informal", _("informal")


class Builtin(models.TextChoices):
    FUND = "fund", _("the common fund")
    PLATFORM = "platform", _("the supply platform")


class Actor(models.Model):
    """An organisation of the territory. ``people`` act for it in Grenier (besides the people of its linked row);
    the contact is a person's: shown only to coordinators."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="network_actors")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ActorKind.choices)
    scale = models.CharField(_("scale"), max_length=20, choices=Scale.choices, default=Scale.NON_PROFIT)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="network_actors", verbose_name=_("people")
    )
    store = models.OneToOneField(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="actor"
    )
    funder = models.OneToOneField(
        Funder, on_delete=models.SET_NULL, null=True, blank=True, related_name="actor"
    )
    producer = models.OneToOneField(
        Producer, on_delete=models.SET_NULL, null=True, blank=True, related_name="actor"
    )
    kitchen = models.OneToOneField(
        Kitchen, on_delete=models.SET_NULL, null=True, blank=True, related_name="actor"
    )
    garden = models.OneToOneField(
        Garden, on_delete=models.SET_NULL, null=True, blank=True, related_name="actor"
    )
    group = models.OneToOneField(
        BuyingGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="actor"
    )
    builtin = models.CharField(max_length=10, choices=Builtin.choices, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    joined_on = models.DateField(_("on the map since"), default=timezone.localdate)
    left_on = models.DateField(_("left the map on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("actor")
        verbose_name_plural = _("actors")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="network_actor_name_once"),
            models.UniqueConstraint(fields=["territory", "builtin"], name="network_actor_builtin_once"),
            models.UniqueConstraint(
                fields=["territory", "idempotency_key"], name="network_actor_once_per_key"
            ),
            models.CheckConstraint(condition=Q(kind__in=ActorKind.values), name="network_actor_kind_known"),
            models.CheckConstraint(condition=Q(scale__in=Scale.values), name="network_actor_scale_known"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def linked_to(self) -> str:
        """What Grenier row the actor is, as ``store:3``; empty for an actor typed on the map only."""
        for field in LINKS:
            value = getattr(self, f"{field}_id")
            if value is not None:
                return f"{field}:{value}"
        return f"builtin:{self.builtin}" if self.builtin else ""


LINKS = ("store", "funder", "producer", "kitchen", "garden", "group")
"""The one-to-one links of an actor to the rows Grenier already knows."""


class ResourceKind(models.TextChoices):
    PREMISES = "premises", _("premises")
    KITCHEN = "kitchen", _("kitchen")
    COLD_ROOM = "cold_room", _("cold room")
    VEHICLE = "vehicle", _("vehicle")
    LAND = "land", _("land")
    TOOLS = "tools", _("tools")
    SKILLS = "skills", _("skills")
    VOLUNTEERS = "volunteers", _("volunteers' time")
    MONEY = "money", _("money")


class Resource(models.Model):
    """What an actor has and may share, on its terms. Only a shareable resource may be booked."""

    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    shareable = models.BooleanField(_("may be shared"), default=True)
    terms = models.CharField(_("terms"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["actor__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["actor", "name"], name="network_resource_name_once"),
            models.UniqueConstraint(
                fields=["actor", "idempotency_key"], name="network_resource_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ResourceKind.values), name="network_resource_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the owner")
    ACCEPTED = "accepted", _("accepted")
    REFUSED = "refused", _("refused")
    WITHDRAWN = "withdrawn", _("withdrawn")


HOLDING = (BookingStatus.PENDING, BookingStatus.ACCEPTED)
"""A booking in one of these holds its dates: another request over them is refused."""


class Booking(models.Model):
    """One actor asks for another's resource from ``starts_on`` to ``ends_on`` (both included)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="bookings")
    requester = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="bookings_asked")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["starts_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"], name="network_booking_once_per_key"
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="network_booking_dates"),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="network_booking_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_on} to {self.ends_on}"


class Sort(models.TextChoices):
    """The four sorts of cooperation to articulate (seed 001)."""

    PROXIMITY = "proximity", _("proximity")
    THEME = "theme", _("theme")
    SCALE = "scale", _("scale of intervention")
    PEOPLE = "people", _("people concerned")


class Theme(models.TextChoices):
    FOOD_SYSTEM = "food_system", _("food system")
    SOCIAL_ACTION = "social_action", _("social action")


class People(models.TextChoices):
    RESIDENTS = "residents", _("residents")
    WELCOMED = "welcomed", _("people welcomed")
    FARMERS = "farmers", _("farmers")
    VOLUNTEERS = "volunteers", _("volunteers")
    PROFESSIONALS = "professionals", _("professionals")


class Level(models.IntegerChoices):
    WISH = 1, _("1 · wish to cooperate")
    SERVICES = 2, _("2 · exchange of services")
    POOLING = 3, _("3 · pooling of means")
    COMMON_ACTION = 4, _("4 · a new common action")
    COLLECTIVE = 5, _("5 · collective organisation")


class CooperationStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed, to confirm")
    CONFIRMED = "confirmed", _("confirmed")
    DISMISSED = "dismissed", _("dismissed")


class Cooperation(models.Model):
    """A cooperation between two or more actors. ``level`` is the last of its ``changes`` (kept with them in one
    transaction by ``network.services``): the history is the changes, never an overwrite. ``source`` names the
    Grenier row a proposed cooperation comes from (``baskets-agreement:4``), so it is proposed once."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="network_cooperations")
    title = models.CharField(_("title"), max_length=200)
    sort = models.CharField(_("sort"), max_length=12, choices=Sort.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, editable=False)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    scale = models.CharField(_("scale"), max_length=20, choices=Scale.choices, blank=True)
    people = models.JSONField(_("people concerned"), default=list, blank=True)
    starts_on = models.DateField(_("since"))
    ends_on = models.DateField(_("ended on"), null=True, blank=True)
    actors = models.ManyToManyField(Actor, related_name="cooperations", verbose_name=_("actors"))
    documents = models.TextField(
        _("documents"),
        blank=True,
        max_length=2000,
        help_text=_("Letters of commitment, agreements: one a line."),
    )
    status = models.CharField(
        max_length=10, choices=CooperationStatus.choices, default=CooperationStatus.CONFIRMED
    )
    source = models.CharField(max_length=60, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("cooperation")
        verbose_name_plural = _("cooperations")
        ordering = ["-level", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "source"], name="network_cooperation_source_once"),
            models.UniqueConstraint(
                fields=["territory", "idempotency_key"], name="network_cooperation_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="network_cooperation_level_1_5"
            ),
            models.CheckConstraint(condition=Q(sort__in=Sort.values), name="network_cooperation_sort_known"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="network_cooperation_dates",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_active_on(self, day: object) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)  # type: ignore[operator]


class LevelChange(models.Model):
    """A dated change of a cooperation's level, with who recorded it and why; the first has no ``level_from``.
    Append-only: a wrong change is corrected by another."""

    cooperation = models.ForeignKey(Cooperation, on_delete=models.CASCADE, related_name="changes")
    level_from = models.PositiveSmallIntegerField(null=True, blank=True, choices=Level.choices)
    level_to = models.PositiveSmallIntegerField(choices=Level.choices)
    on = models.DateField(_("on"))
    reason = models.CharField(_("why"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("change of level")
        verbose_name_plural = _("changes of level")
        ordering = ["on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperation", "idempotency_key"], name="network_level_change_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(level_to__gte=1, level_to__lte=5), name="network_level_to_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cooperation} {self.level_from}→{self.level_to} {self.on}"


class DocumentKind(models.TextChoices):
    COMMITMENT = "commitment", _("letter of commitment")
    AGREEMENT = "agreement", _("agreement")
    REPORT = "report", _("report")
    OTHER = "other", _("other")


class CooperationDocument(models.Model):
    """A signed letter of commitment, an agreement: the file itself (PDF or a photo, at most
    ``network.services.documents.MAX_BYTES``), kept in the database so that its backup keeps it too. Added, never
    overwritten: the same file twice on a cooperation is one document."""

    cooperation = models.ForeignKey(Cooperation, on_delete=models.CASCADE, related_name="files")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    content = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=40, editable=False)
    size = models.PositiveIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cooperation", "sha256"], name="network_document_once"),
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="network_document_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title
