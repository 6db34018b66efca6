"""Territories, people, roles and households: the data every other module hangs from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field

CHILD_AGE_LIMIT = 14  # INSEE / OECD-modified consumption units: under 14 counts 0.3


class Role(models.TextChoices):
    """The roles of BRIEF.md. A person may hold several, in several territories."""

    COORDINATOR = "coordinator", _("Coordinator")
    COMMITTEE = "committee", _("Committee member")
    MEMBER = "member", _("Member household")
    CASHIER = "cashier", _("Cashier")
    PRODUCER = "producer", _("Producer")
    KITCHEN = "kitchen", _("Collective kitchen")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    FUNDER = "funder", _("Funder")
    SCHOOL = "school", _("School / teacher")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Logs in by e-mail; holds roles per territory (see ``TerritoryRole``)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff (administration site)"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    pseudonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email


class Territory(models.Model):
    """A territory (territoire): everything in Grenier belongs to one."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TerritoryRole(models.Model):
    """One role held by one person in one territory."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="territory_roles")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role in a territory")
        verbose_name_plural = _("roles in territories")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "territory", "role"], name="core_role_once_per_territory"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="core_role_known"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.territory.slug} · {self.role}"


class Household(models.Model):
    """A member household (foyer): its persons, its card, its declared resources, its join and leave dates.

    Leaving pseudonymises ``name``, ``email``, ``phone`` and the persons' names and birth dates; the row stays so
    that every amount recorded against it stays whole.
    """

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="households")
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    card_number = models.CharField(_("card number"), max_length=12, unique=True)
    monthly_resources_cents = models.BigIntegerField(
        _("declared monthly resources (cents)"), null=True, blank=True
    )
    joined_on = models.DateField(_("joined on"))
    # In the common fund from this day (its monthly credit and contribution); NULL for a household that is only a
    # member of a garden or a buying group, referred there by a social worker, until a coordinator takes it in.
    fund_joined_on = models.DateField(_("in the common fund from"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    pseudonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    # NULL, not "": households created without a key must not collide in the unique constraint.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001
    request_fingerprint = (
        fingerprint_field()
    )  # of the request that created it, with its key; erased on leaving
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["name", "id"]
        indexes = [
            # The active households of a territory in the order of their names: lists that show the first few
            # hundred by name (adding a household to a buying group) read them from the index, not all sorted.
            models.Index(fields=["territory", "left_on", "name"], name="core_household_active_by_name")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "idempotency_key"], name="core_household_created_once"
            ),
            models.CheckConstraint(
                condition=Q(monthly_resources_cents__isnull=True) | Q(monthly_resources_cents__gte=0),
                name="core_household_resources_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="core_household_leaves_after_joining",
            ),
            models.CheckConstraint(
                condition=Q(fund_joined_on__isnull=True) | Q(fund_joined_on__gte=models.F("joined_on")),
                name="core_household_in_the_fund_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.left_on is None

    @property
    def display_name(self) -> str:
        if self.pseudonymised_at is not None:
            return _("Household that left (%(pseudonym)s)") % {"pseudonym": self.name}
        return self.name

    def consumption_units(self, on: date | None = None) -> Decimal:
        """INSEE consumption units: 1 for the first adult, 0.5 per other person of 14 or more, 0.3 per child."""
        return consumption_units(list(self.persons.all()), on or timezone.localdate())


class HouseholdPerson(models.Model):
    """A person of a household. Only what the rules need: a first name and a birth date (for children)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="persons")
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    is_child = models.BooleanField(
        _("child under 14"), default=False, help_text=_("Used when no birth date is recorded.")
    )
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="household_persons"
    )

    class Meta:
        verbose_name = _("household person")
        verbose_name_plural = _("household persons")
        ordering = ["id"]
        indexes = [
            # The persons with an account, for "the households of this person" on every member's page. Most persons
            # have none: SQLite's statistics count the NULLs as one value, so the foreign key's own index looks like
            # it holds half the table for any person, and the planner read every household of the territory
            # instead (100 ms at 100,000 households); this one holds the few that have an account.
            models.Index(
                fields=["user"], condition=models.Q(user__isnull=False), name="core_person_with_account"
            ),
        ]

    def __str__(self) -> str:
        return self.first_name or f"#{self.pk}"

    def is_child_on(self, on: date) -> bool:
        if self.birth_date is None:
            return self.is_child
        years = (
            on.year
            - self.birth_date.year
            - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))
        )
        return years < CHILD_AGE_LIMIT


class Grouping(models.Model):
    """Territories read together: a network (like a federation of gardens) or a département. Its coordinators
    read each indicator per territory and across them (``reports.rollup``), never a territory's personal data:
    a grouping gives no role in its territories (``permissions.grouping_for``)."""

    class Kind(models.TextChoices):
        NETWORK = "network", _("network")
        DEPARTEMENT = "departement", _("département")
        OTHER = "other", _("other grouping")

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NETWORK)
    territories = models.ManyToManyField(Territory, related_name="groupings", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("grouping of territories")
        verbose_name_plural = _("groupings of territories")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["network", "departement", "other"]), name="core_grouping_kind_known"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GroupingRole(models.Model):
    """One role held by one person in one grouping (``permissions.GROUPING_GRANTS`` says what it allows)."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Grouping coordinator")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grouping_roles")
    grouping = models.ForeignKey(Grouping, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role in a grouping")
        verbose_name_plural = _("roles in groupings")
        constraints = [
            models.UniqueConstraint(fields=["user", "grouping", "role"], name="core_grouping_role_once"),
            models.CheckConstraint(condition=Q(role__in=["coordinator"]), name="core_grouping_role_known"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.grouping.slug} · {self.role}"


class TerritoryCount(models.Model):
    """How many of a territory's households and persons fall on each day, kept by the database so that a home page
    counts them by summing a few thousand rows instead of reading every household and person (issue 14).

    ``kind`` says what is counted on ``day``: the persons of the territory's households that have not left, by
    birth date (``UNDATED_CHILD`` for a person without one marked as a child, ``UNDATED_ADULT`` for one not marked:
    so "born after the day ``CHILD_AGE_LIMIT`` years ago" counts children as ``HouseholdPerson.is_child_on`` does,
    on any day); every household, by the day it joined; the households that left, by the day they left.

    Kept true in the writing transaction, whoever writes (the ORM, a bulk insert, a script): triggers on
    ``core_household`` and ``core_householdperson`` (migration 0004) add what a write brings and take out what it
    removes. A count that fell to zero keeps its row."""

    class Kind(models.IntegerChoices):
        PERSON_BORN = 1, "person born"
        HOUSEHOLD_JOINED = 2, "household joined"
        HOUSEHOLD_LEFT = 3, "household left"

    UNDATED_CHILD: ClassVar[date] = date(9999, 12, 31)
    UNDATED_ADULT: ClassVar[date] = date(1, 1, 1)

    pk = models.CompositePrimaryKey("territory", "kind", "day")
    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    day = models.DateField()
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.territory_id} {self.kind} {self.day}: {self.n}"


def consumption_units(persons: list[HouseholdPerson], on: date) -> Decimal:
    children = sum(1 for person in persons if person.is_child_on(on))
    adults = len(persons) - children
    if adults == 0:
        # A household of children only is still headed by someone: the first counts as one unit.
        return Decimal("1") + Decimal("0.3") * max(children - 1, 0)
    return Decimal("1") + Decimal("0.5") * (adults - 1) + Decimal("0.3") * children


class ApiToken(models.Model):
    """A bearer token for programs. Only a hash is stored; the key is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {self.territory.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """An append-only line of who did what to whom, written in the same transaction as the change itself."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=60)
    subject = models.CharField(max_length=120, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject}"


class PaymentMethod(models.TextChoices):
    """How a household pays what it pays outside food credit (a basket's share, a buying group's order)."""

    CASH = "cash", _("cash")
    CHEQUE = "cheque", _("cheque")
    TRANSFER = "transfer", _("bank transfer")
    CREDIT = "credit", _("food credit")
