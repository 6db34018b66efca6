"""Solidarity baskets (paniers solidaires): a garden sells organic baskets; a referred member pays at most a capped
part of the price (30 % by default), co-financing agreements with funders pay the rest.

Who and what: gardens (optionally an approved fund ``Store``), their coordinators, basket offers, pickup points and
the volunteers who serve them; co-financing agreements; referrals by social workers and the garden memberships they
open; subscriptions with announced absences; weekly distribution sheets and their lines; the members' payments;
workshops. Money is integer cents; each basket due is also a ledger entry (see ``accounts.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Household, PaymentMethod, Territory
from grenier.fund.models import Funder, Payment, Store
from grenier.ledger.models import Entry

DEFAULT_MEMBER_CAP_BP = 3000  # the member pays at most 30 % of the price (seed 002)
BP = 10_000  # basis points in a whole


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BasketSettings(models.Model):
    """The territory's basket rules: the member's part cap, and how early a coordinator is warned."""

    territory = models.OneToOneField(Territory, on_delete=models.CASCADE, related_name="basket_settings")
    member_cap_bp = models.PositiveIntegerField(
        _("member's part cap (basis points)"), default=DEFAULT_MEMBER_CAP_BP
    )
    warn_weeks = models.PositiveSmallIntegerField(
        _("warn this many weeks before budgets run short"), default=4
    )

    class Meta:
        verbose_name = _("basket settings")
        verbose_name_plural = _("basket settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(member_cap_bp__lte=BP), name="baskets_settings_cap_at_most_whole"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.territory} {self.member_cap_bp / 100:.0f} %"


class Garden(models.Model):
    """A garden of the territory (jardin). Paying in food credit needs its ``store`` to be an approved one."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="gardens")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    store = models.ForeignKey(
        Store,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gardens",
        verbose_name=_("point of sale of the common fund"),
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="coordinated_gardens",
        verbose_name=_("coordinators"),
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("garden")
        verbose_name_plural = _("gardens")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="baskets_garden_name_once"),
            models.UniqueConstraint(
                fields=["territory", "idempotency_key"], name="baskets_garden_once_per_key"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BasketSize(models.TextChoices):
    SMALL = "small", _("small")
    MEDIUM = "medium", _("medium")
    LARGE = "large", _("large")


class BasketOffer(models.Model):
    """A basket a garden sells over a season: its size, price and distribution day."""

    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="offers")
    name = models.CharField(_("name"), max_length=120)
    size = models.CharField(_("size"), max_length=10, choices=BasketSize.choices, default=BasketSize.SMALL)
    price_cents = models.BigIntegerField(_("price (cents)"))
    season_start = models.DateField(_("season starts"))
    season_end = models.DateField(_("season ends"))
    weekday = models.PositiveSmallIntegerField(_("distribution day"), choices=Weekday.choices)
    active = models.BooleanField(_("open to new subscriptions"), default=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("basket offer")
        verbose_name_plural = _("basket offers")
        ordering = ["garden", "price_cents", "id"]
        constraints = [
            models.UniqueConstraint(fields=["garden", "name"], name="baskets_offer_name_once"),
            models.UniqueConstraint(fields=["garden", "idempotency_key"], name="baskets_offer_once_per_key"),
            models.CheckConstraint(condition=Q(price_cents__gt=0), name="baskets_offer_price_positive"),
            models.CheckConstraint(
                condition=Q(season_end__gte=F("season_start")), name="baskets_offer_season_ordered"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="baskets_offer_weekday_known"),
        ]

    def __str__(self) -> str:
        return self.name


class PickupPoint(models.Model):
    """Where members collect their baskets, on a weekday at a time; served by its volunteers."""

    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="pickup_points")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    volunteers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="pickup_points", verbose_name=_("volunteers")
    )
    active = models.BooleanField(_("active"), default=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")
        ordering = ["garden", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["garden", "name"], name="baskets_pickup_name_once"),
            models.UniqueConstraint(fields=["garden", "idempotency_key"], name="baskets_pickup_once_per_key"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="baskets_pickup_weekday_known"),
        ]

    def __str__(self) -> str:
        return self.name


class Agreement(models.Model):
    """A co-financing agreement (convention de cofinancement): a funder pays, per basket of a garden, a share of
    the price (basis points) or a fixed amount, within a budget and a period; agreements pay in ``priority`` order.

    ``spent_cents`` is what the baskets already due took from the budget; the database keeps it within the budget.
    """

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="basket_agreements")
    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="agreements")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="basket_agreements")
    name = models.CharField(_("reference"), max_length=200)
    share_bp = models.PositiveIntegerField(_("share of the price (basis points)"), null=True, blank=True)
    amount_per_basket_cents = models.BigIntegerField(
        _("fixed amount per basket (cents)"), null=True, blank=True
    )
    budget_cents = models.BigIntegerField(_("budget (cents)"))
    spent_cents = models.BigIntegerField(_("used (cents)"), default=0, editable=False)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    priority = models.PositiveSmallIntegerField(_("priority (1 pays first)"), default=1)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()

    class Meta:
        verbose_name = _("co-financing agreement")
        verbose_name_plural = _("co-financing agreements")
        ordering = ["garden", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["garden", "name"], name="baskets_agreement_name_once"),
            models.UniqueConstraint(
                fields=["garden", "idempotency_key"], name="baskets_agreement_once_per_key"
            ),
            models.CheckConstraint(condition=Q(budget_cents__gt=0), name="baskets_agreement_budget_positive"),
            models.CheckConstraint(
                condition=(Q(share_bp__isnull=False) & Q(amount_per_basket_cents__isnull=True))
                | (Q(share_bp__isnull=True) & Q(amount_per_basket_cents__isnull=False)),
                name="baskets_agreement_share_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(share_bp__isnull=True) | Q(share_bp__gt=0, share_bp__lte=BP),
                name="baskets_agreement_share_in_range",
            ),
            models.CheckConstraint(
                condition=Q(amount_per_basket_cents__isnull=True) | Q(amount_per_basket_cents__gt=0),
                name="baskets_agreement_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(spent_cents__gte=0) & Q(spent_cents__lte=F("budget_cents")),
                name="baskets_agreement_within_budget",
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="baskets_agreement_period"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left_cents(self) -> int:
        return self.budget_cents - self.spent_cents


class GardenMembership(models.Model):
    """A household is a full member (adhérent) of a garden from ``joined_on``; one open membership per garden."""

    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="memberships")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="garden_memberships")
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("garden membership")
        verbose_name_plural = _("garden memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["garden", "household"],
                condition=Q(left_on__isnull=True),
                name="baskets_membership_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} @ {self.garden_id}"


class ReferralStatus(models.TextChoices):
    OPEN = "open", _("open")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Referral(models.Model):
    """A social worker refers a household to a garden (orientation), with its consent recorded; one open referral
    of a household to a garden at a time (its social worker may withdraw it)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="basket_referrals")
    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="referrals")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="basket_referrals")
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="basket_referrals"
    )
    consent_on = models.DateField(_("consent given on"))
    member_share_bp = models.PositiveIntegerField(
        _("member's part (basis points), if lower than the cap"), null=True, blank=True
    )
    note = models.CharField(_("note for the garden"), max_length=300, blank=True)
    membership = models.ForeignKey(GardenMembership, on_delete=models.PROTECT, related_name="referrals")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.OPEN
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["social_worker", "idempotency_key"], name="baskets_referral_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(member_share_bp__isnull=True) | Q(member_share_bp__lte=BP),
                name="baskets_referral_share_in_range",
            ),
            models.UniqueConstraint(
                fields=["household", "garden"],
                condition=Q(status="open"),
                name="baskets_referral_open_once",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "withdrawn"]), name="baskets_referral_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("every week")
    FORTNIGHTLY = "fortnightly", _("every other week")


class Subscription(models.Model):
    """A household's basket: an offer, a pickup point, every week or every other week from ``start_on``.

    Paused from ``paused_from`` on until resumed (or until ``resume_on``, if the pause's end was given); stopped from ``stopped_on`` on (for good).
    """

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="basket_subscriptions")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="basket_subscriptions")
    offer = models.ForeignKey(BasketOffer, on_delete=models.PROTECT, related_name="subscriptions")
    pickup_point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="subscriptions")
    frequency = models.CharField(_("frequency"), max_length=12, choices=Frequency.choices)
    start_on = models.DateField(_("first basket on"))
    member_share_bp = models.PositiveIntegerField(
        null=True, blank=True
    )  # from the referral, if lower than the cap
    paused_from = models.DateField(_("paused from"), null=True, blank=True)
    resume_on = models.DateField(
        _("baskets again from"), null=True, blank=True
    )  # a pause's end, if announced
    stopped_on = models.DateField(_("stopped on"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 - NULL never collides
    request_fingerprint = fingerprint_field()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["household__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "offer"],
                condition=Q(stopped_on__isnull=True),
                name="baskets_subscription_open_once",
            ),
            models.UniqueConstraint(
                fields=["household", "idempotency_key"], name="baskets_subscription_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=["weekly", "fortnightly"]), name="baskets_subscription_frequency"
            ),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=F("start_on")),
                name="baskets_subscription_stops_after_start",
            ),
            models.CheckConstraint(
                condition=Q(resume_on__isnull=True)
                | Q(paused_from__isnull=False, resume_on__gt=F("paused_from")),
                name="baskets_subscription_pause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.offer}"

    @property
    def is_stopped(self) -> bool:
        return self.stopped_on is not None

    @property
    def is_paused(self) -> bool:
        return self.stopped_on is None and self.paused_from is not None


class Absence(models.Model):
    """A distribution day the household announced it will miss: no basket is due that day."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="absences")
    on = models.DateField(_("date"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("announced absence")
        verbose_name_plural = _("announced absences")
        ordering = ["on"]
        constraints = [models.UniqueConstraint(fields=["subscription", "on"], name="baskets_absence_once")]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.on}"


class DistributionSheet(models.Model):
    """The sheet of one pickup point on one distribution day; closed once the baskets left are recorded unclaimed."""

    pickup_point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="sheets")
    on = models.DateField(_("date"))
    generated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("distribution sheet")
        verbose_name_plural = _("distribution sheets")
        ordering = ["-on", "pickup_point__name"]
        constraints = [models.UniqueConstraint(fields=["pickup_point", "on"], name="baskets_sheet_once")]

    def __str__(self) -> str:
        return f"{self.pickup_point} {self.on}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class LineStatus(models.TextChoices):
    DUE = "due", _("to collect")
    COLLECTED = "collected", _("collected")
    UNCLAIMED = "unclaimed", _("unclaimed")


class DistributionLine(models.Model):
    """One basket due to one subscription on one day, with how its price was split (``member_part_cents`` +
    ``funded_cents`` + ``short_cents`` = ``price_cents``, kept by a check constraint)."""

    sheet = models.ForeignKey(DistributionSheet, on_delete=models.PROTECT, related_name="lines")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="lines")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="basket_lines")
    offer = models.ForeignKey(BasketOffer, on_delete=models.PROTECT, related_name="lines")
    on = models.DateField()
    price_cents = models.BigIntegerField()
    member_part_cents = models.BigIntegerField()
    funded_cents = models.BigIntegerField()
    short_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.DUE)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, null=True, related_name="basket_line")

    class Meta:
        verbose_name = _("distribution line")
        verbose_name_plural = _("distribution lines")
        ordering = ["household__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "on"], name="baskets_line_once_per_day"),
            models.CheckConstraint(
                condition=Q(price_cents=F("member_part_cents") + F("funded_cents") + F("short_cents")),
                name="baskets_line_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(member_part_cents__gte=0) & Q(funded_cents__gte=0) & Q(short_cents__gte=0),
                name="baskets_line_parts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.on}"


class LineFunding(models.Model):
    """What one agreement pays of one basket."""

    line = models.ForeignKey(DistributionLine, on_delete=models.PROTECT, related_name="fundings")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="fundings")
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "agreement"], name="baskets_funding_once"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="baskets_funding_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.amount_cents}"


class MemberPayment(models.Model):
    """A household paid (part of) its baskets' member part: in euros, or in food credit at the garden's store."""

    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="member_payments")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="basket_payments")
    amount_cents = models.BigIntegerField()
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=100, blank=True)
    fund_payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="basket_payment"
    )
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="basket_payment")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["garden", "idempotency_key"], name="baskets_payment_once_per_key"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="baskets_payment_positive"),
            models.CheckConstraint(
                condition=Q(method__in=["cash", "cheque", "transfer", "credit"]),
                name="baskets_payment_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.amount_cents} {self.method}"


class FunderPayment(models.Model):
    """A funder paid (part of) what its agreements owe for the baskets of a period: one ledger entry from the
    outside (``external:baskets-funders``) to its agreements' accounts, split among them in ``parts``."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="basket_funder_payments")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="basket_payments")
    period_start = models.DateField(_("for the baskets from"))
    period_end = models.DateField(_("to"))
    received_on = models.DateField(_("received on"))
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="basket_funder_payment")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("funder's payment")
        verbose_name_plural = _("funders' payments")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["funder", "idempotency_key"], name="baskets_funder_payment_once_per_key"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="baskets_funder_payment_positive"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="baskets_funder_payment_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.funder_id} {self.amount_cents}"


class FunderPaymentPart(models.Model):
    """What one funder's payment settles of one of its agreements."""

    payment = models.ForeignKey(FunderPayment, on_delete=models.PROTECT, related_name="parts")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="payment_parts")
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payment", "agreement"], name="baskets_funder_part_once"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="baskets_funder_part_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.amount_cents}"


class WorkshopKind(models.TextChoices):
    COOKING = "cooking", _("cooking")
    GARDENING = "gardening", _("gardening")
    NUTRITION = "nutrition", _("nutrition")
    MEETING = "meeting", _("get-together")


class Workshop(models.Model):
    """A workshop held with the garden's members (cooking, gardening, nutrition…), for the yearly report."""

    garden = models.ForeignKey(Garden, on_delete=models.PROTECT, related_name="workshops")
    on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=WorkshopKind.choices)
    participants = models.PositiveIntegerField(_("participants"), default=0)

    class Meta:
        verbose_name = _("workshop")
        verbose_name_plural = _("workshops")
        ordering = ["-on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["garden", "on", "title"], name="baskets_workshop_once")
        ]

    def __str__(self) -> str:
        return self.title
