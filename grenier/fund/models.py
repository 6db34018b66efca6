"""The common food fund (caisse commune): its rules, points of sale, payments, monthly runs, settlements, grants.

Every amount is integer cents. Every movement of money is a ledger entry written in the same transaction as the
row here that explains it; the rows here are the business view (who, where, why), the ledger is the truth of sums.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Household, Territory, User
from grenier.ledger.models import Entry


class ContributionScale(models.Model):
    """The contribution scale (barème): resources per consumption unit → suggested monthly contribution.

    ``brackets`` is a list of ``[up_to_cents_or_null, suggested_cents]``, ascending; the last bound is null
    ("and above"). Versioned by the month it takes effect from.
    """

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="contribution_scales")
    effective_month = models.DateField(_("takes effect from"))
    minimum_cents = models.BigIntegerField(_("minimum contribution (cents)"), default=100)
    free_choice = models.BooleanField(
        _("households may choose their amount"), default=True, help_text=_("At or above the minimum.")
    )
    brackets = models.JSONField(_("brackets"))
    decided_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["territory", "-effective_month"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "effective_month"], name="fund_one_scale_per_month"),
            models.CheckConstraint(condition=Q(minimum_cents__gte=0), name="fund_scale_minimum_not_negative"),
            models.CheckConstraint(condition=Q(effective_month__day=1), name="fund_scale_starts_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.territory.slug} scale from {self.effective_month:%Y-%m}"


class CarryOver(models.TextChoices):
    KEEP = "keep", _("kept in full")
    CAP = "cap", _("kept up to a cap")
    RETURN = "return", _("returned to the fund at month end")


class AllocationRule(models.Model):
    """The monthly food-credit allocation: base + per additional person + extra per child under an age limit."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="allocation_rules")
    effective_month = models.DateField(_("takes effect from"))
    base_cents = models.BigIntegerField(_("for the household (first person)"))
    per_additional_person_cents = models.BigIntegerField(_("per additional person"), default=0)
    per_child_cents = models.BigIntegerField(_("extra per child under the age limit"), default=0)
    child_age_limit = models.PositiveSmallIntegerField(_("child age limit"), default=14)
    carry_over = models.CharField(
        _("unspent credit"), max_length=10, choices=CarryOver.choices, default=CarryOver.KEEP
    )
    carry_over_cap_cents = models.BigIntegerField(_("carry-over cap"), default=0)
    decided_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["territory", "-effective_month"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "effective_month"], name="fund_one_rule_per_month"),
            models.CheckConstraint(
                condition=Q(base_cents__gte=0)
                & Q(per_additional_person_cents__gte=0)
                & Q(per_child_cents__gte=0)
                & Q(carry_over_cap_cents__gte=0),
                name="fund_rule_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(effective_month__day=1), name="fund_rule_starts_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.territory.slug} allocation from {self.effective_month:%Y-%m}"


class ContributionChoice(models.Model):
    """The monthly contribution a household chose (at or above the minimum), from a month on."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="contribution_choices")
    effective_month = models.DateField()
    amount_cents = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "effective_month"], name="fund_one_choice_per_month"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gte=0), name="fund_choice_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.amount_cents} from {self.effective_month:%Y-%m}"


class PaymentCode(models.Model):
    """A household's personal code, typed by the member at the till (hashed, like a password)."""

    household = models.OneToOneField(Household, on_delete=models.CASCADE, related_name="payment_code")
    code_hash = models.CharField(max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code of {self.household_id}"


class StoreStatus(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved")
    SUSPENDED = "suspended", _("suspended")


class Store(models.Model):
    """A point of sale (point de vente conventionné). Only an approved store takes food-credit payments."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="stores")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=StoreStatus.choices, default=StoreStatus.PENDING
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    coverage_percent = models.PositiveSmallIntegerField(
        _("share of a purchase paid in food credit (%)"), default=100
    )
    cashiers = models.ManyToManyField(User, blank=True, related_name="stores")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="fund_store_name_once"),
            models.CheckConstraint(
                condition=Q(coverage_percent__gte=1) & Q(coverage_percent__lte=100),
                name="fund_store_coverage_1_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == StoreStatus.APPROVED


class Payment(models.Model):
    """A purchase paid (in part or whole) in food credit at a store. ``euro_cents`` is what the member paid at the
    till in euros when the store's coverage is below 100 %."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="payments")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="payments")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="payments")
    total_cents = models.BigIntegerField()
    credit_cents = models.BigIntegerField()
    euro_cents = models.BigIntegerField()
    refunded_credit_cents = models.BigIntegerField(default=0)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="payment")
    cashier = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["household", "created_at"], name="fund_payment_household"),
            # The till's and a store's latest payments: read from the end of the store's range, never sorted.
            models.Index(fields=["store", "created_at", "id"], name="fund_payment_store_latest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["store", "idempotency_key"], name="fund_payment_once_per_key"),
            models.CheckConstraint(condition=Q(credit_cents__gt=0), name="fund_payment_positive"),
            models.CheckConstraint(
                condition=Q(total_cents=models.F("credit_cents") + models.F("euro_cents")),
                name="fund_payment_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(refunded_credit_cents__gte=0)
                & Q(refunded_credit_cents__lte=models.F("credit_cents")),
                name="fund_payment_refunds_within_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} {self.credit_cents}"


class StoreHour(models.Model):
    """The payments taken at a store in one hour (UTC) and the credit they took: what the fund's figures sum by
    month and by store, so a page reads a few thousand of these, never the payments.

    Kept true by the database itself, in the transaction that writes the payment: triggers on ``fund_payment``
    (migration 0005) add a payment to its hour when it is inserted, move it when its store, time or credit changes,
    and take it out when it is deleted, whoever writes it (the ORM, ``fund_pay`` on PostgreSQL, a script). Local
    months start on whole UTC hours in every time zone of whole-hour offsets (Europe/Paris), so a month is a range
    of hours."""

    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    store = models.ForeignKey(Store, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    hour = models.DateTimeField()
    payments = models.BigIntegerField(default=0)
    credit_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "hour"], name="fund_store_hour_once")]
        indexes = [
            models.Index(
                fields=["territory", "hour", "store", "credit_cents"], name="fund_store_hour_spending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.hour:%Y-%m-%d %H}h {self.credit_cents}"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    credit_cents = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="refund")
    cashier = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payment", "idempotency_key"], name="fund_refund_once_per_key"),
            models.CheckConstraint(condition=Q(credit_cents__gt=0), name="fund_refund_positive"),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of payment {self.payment_id}"


class MonthlyRun(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="monthly_runs")
    month = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "month"], name="fund_one_run_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="fund_run_starts_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.territory.slug} {self.month:%Y-%m}"


class MonthLine(models.Model):
    """One household in one month's run: counted exactly once (a unique constraint)."""

    run = models.ForeignKey(MonthlyRun, on_delete=models.PROTECT, related_name="lines")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="month_lines")
    month = models.DateField()
    contribution_due_cents = models.BigIntegerField()
    contribution_paid_cents = models.BigIntegerField()
    allocation_cents = models.BigIntegerField()
    returned_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "month"], name="fund_household_once_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m}"


class RunTotals(models.Model):
    """A monthly run's totals over its month lines: how many households, the credit issued, the contributions due
    and paid, the credit returned — what the runs page, the fund's dashboard and the projection read, one row a run
    instead of a ``SUM`` over 100,000 lines.

    Kept true by the database itself, in the transaction that writes the lines: triggers on ``fund_monthline``
    (migration 0007) add a line when it is inserted, move it when its run or amounts change and take it out when it
    is deleted, whoever writes it (``monthly_run``'s batches on either database, a script). A run with no line
    has no row (its totals are zero)."""

    run = models.OneToOneField(
        MonthlyRun, primary_key=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    households = models.BigIntegerField(default=0)
    contribution_due_cents = models.BigIntegerField(default=0)
    contribution_paid_cents = models.BigIntegerField(default=0)
    allocation_cents = models.BigIntegerField(default=0)
    returned_cents = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.run_id}: {self.households} {self.allocation_cents}"


class HouseholdsStamp(models.Model):
    """A token that changes whenever anything the projection reads of a territory's households changes: a household
    written or deleted (its resources, its dates in the fund, its territory), a person (added, removed, moved, born
    on another day, marked a child), a chosen contribution. ``planning.household_arrays`` keeps the groups it read
    under the token they were read at and reads them again only once the token has changed.

    Kept by the database itself, in the transaction that writes the row: triggers on ``core_household``,
    ``core_householdperson`` and ``fund_contributionchoice`` (migration 0008) give the territory a new token
    (PostgreSQL: the next value of a sequence; SQLite: ``random()``, 64 bits), whoever writes — the ORM, a bulk
    insert, a script. A token is never reused, even after a rolled-back transaction."""

    territory = models.OneToOneField(
        Territory, primary_key=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    token = models.BigIntegerField()
    # Grows by one at each write, in the order the writes commit (migration 0009): HouseholdTouch says which
    # households changed after a given number.
    seq = models.BigIntegerField(default=0)
    # Set when the row is first written (a new token): numbers of another epoch are not comparable.
    epoch = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.territory_id}: {self.token}"


class HouseholdTouch(models.Model):
    """The territory's ``HouseholdsStamp.seq`` when a household, one of its persons or chosen contributions was last
    written (a household moved to another territory has a row on both sides; a deleted one keeps its row). Kept by
    the stamp's triggers (migration 0009), so ``planning.household_arrays`` reads again only the households
    touched after the number its groups were read at."""

    pk = models.CompositePrimaryKey("territory", "household_id")
    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    household_id = models.BigIntegerField()
    seq = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["territory", "seq"], name="fund_householdtouch_seq")]

    def __str__(self) -> str:
        return f"{self.territory_id} {self.household_id}: {self.seq}"


class SettlementStatus(models.TextChoices):
    DUE = "due", _("due")
    PAID = "paid", _("paid")


class Settlement(models.Model):
    """What the fund owes a store in euros for a month: credit received minus refunds (negative in the rare month
    where a store refunded more than it took, then the store owes the difference)."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField()
    payments_count = models.PositiveIntegerField(default=0)
    credit_received_cents = models.BigIntegerField()
    credit_refunded_cents = models.BigIntegerField()
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=6, choices=SettlementStatus.choices, default=SettlementStatus.DUE)
    computed_entry = models.OneToOneField(Entry, on_delete=models.PROTECT, null=True, related_name="+")
    paid_entry = models.OneToOneField(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-month", "store__name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "month"], name="fund_one_settlement_per_store_month"),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.month:%Y-%m}"


class FunderKind(models.TextChoices):
    PUBLIC = "public", _("public")
    PRIVATE = "private", _("private")


class Funder(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="funders")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=FunderKind.choices)
    members = models.ManyToManyField(User, blank=True, related_name="funders")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["territory", "name"], name="fund_funder_name_once")]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="grants")
    amount_cents = models.BigIntegerField()
    received_on = models.DateField()
    purpose = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="grant")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on"]
        constraints = [
            models.UniqueConstraint(fields=["funder", "idempotency_key"], name="fund_grant_once_per_key"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="fund_grant_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.funder} {self.amount_cents}"


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("waiting for a coordinator")
    CONFIRMED = "confirmed", _("in the common fund")
    DECLINED = "declined", _("declined")
    WITHDRAWN = "withdrawn", _("withdrawn")


class FundReferral(models.Model):
    """A social worker refers a household to the common fund, with its consent; a coordinator takes it in
    (confirms) or declines, saying why. The household is a member household named by its card (one in a garden or
    a buying group but not in the fund), or a new one described by the little below, created on confirmation.

    Seen only by the social worker who made it and the territory's coordinators. A declined or withdrawn referral
    of a new household keeps no name nor contact; one waiting referral per household."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="fund_referrals")
    social_worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="fund_referrals")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="fund_referrals"
    )
    name = models.CharField(_("household name"), max_length=150, blank=True)
    first_name = models.CharField(_("first name of the person referred"), max_length=100, blank=True)
    persons = models.PositiveSmallIntegerField(_("persons in the household"), default=1)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    consent_on = models.DateField(_("consent given on"))
    note = models.CharField(_("note for the coordinator"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(_("reason given"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral to the common fund")
        verbose_name_plural = _("referrals to the common fund")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["social_worker", "idempotency_key"], name="fund_referral_once_per_key"
            ),
            models.UniqueConstraint(
                fields=["household"], condition=Q(status="pending"), name="fund_referral_waiting_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "declined", "withdrawn"]),
                name="fund_referral_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(household__isnull=False),
                name="fund_referral_confirmed_has_household",
            ),
            models.CheckConstraint(
                condition=Q(persons__gte=1, persons__lte=20), name="fund_referral_persons"
            ),
        ]
        indexes = [models.Index(fields=["territory", "status"], name="fund_referral_status")]

    def __str__(self) -> str:
        return f"fund referral {self.pk}"
