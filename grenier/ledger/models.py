"""A double-entry, append-only ledger in integer cents. It knows accounts and entries, nothing of funds or stores.

Invariants and who keeps them:

* in each unit, an entry's postings sum to zero — ``services.entry_record`` refuses anything else;
* an account flagged ``guarded`` never goes below zero — a check constraint, and the conditional ``UPDATE`` in
  ``services`` that races cannot pass;
* ``balance_cents`` equals the sum of the account's postings — changed in the same transaction as they are written;
* postings and entries are never updated or deleted — no code path does, and on PostgreSQL triggers refuse it;
* one idempotency key per territory — a unique constraint.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.models import Territory, User


class Unit(models.TextChoices):
    EUR = "EUR", _("euros")
    CREDIT = "CREDIT", _("food credit")


class Account(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="accounts")
    code = models.CharField(
        max_length=80, help_text="Stable key chosen by the owning module, e.g. household:12:credit"
    )
    name = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=6, choices=Unit.choices)
    guarded = models.BooleanField(default=False, help_text="May not go below zero.")
    balance_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["territory", "code"], name="ledger_account_code_once"),
            models.CheckConstraint(
                condition=Q(guarded=False) | Q(balance_cents__gte=0),
                name="ledger_guarded_account_not_negative",
            ),
            models.CheckConstraint(condition=Q(unit__in=["EUR", "CREDIT"]), name="ledger_account_unit_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.unit})"


class Entry(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="entries")
    idempotency_key = models.CharField(max_length=120)
    kind = models.CharField(max_length=60)
    memo = models.CharField(max_length=300, blank=True)
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["territory", "idempotency_key"], name="ledger_entry_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"


class Posting(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    unit = models.CharField(
        max_length=6, choices=Unit.choices
    )  # the account's, kept here for the zero-sum check
    amount_cents = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["account", "entry"], name="ledger_posting_account")]
        constraints = [models.CheckConstraint(condition=~Q(amount_cents=0), name="ledger_posting_not_zero")]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount_cents:+d}"
