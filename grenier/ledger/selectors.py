"""Reads of the ledger: balances in O(1), statements, and the full consistency check."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum

from grenier.core.models import Territory
from grenier.ledger.models import Account, Entry, Posting


def balance(account: Account) -> int:
    """The kept balance, read fresh from the database (one row, no sum)."""
    return Account.objects.values_list("balance_cents", flat=True).get(pk=account.pk)


@dataclass
class CheckReport:
    territories: int = 0
    entries: int = 0
    accounts: int = 0
    postings: int = 0
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches


SHOWN_PER_KIND = 20  # breaches of one kind listed per territory; the rest are counted


def _entry_breaches(current: Territory) -> list[str]:
    """Every way one entry can be wrong, each found by one query: fewer than two postings, postings that do not
    sum to zero in a unit, a posting in another unit than its account's, or on another territory's account.

    The per-territory sums below miss these when they cancel out (two one-posting entries of +100 and -100); the
    services never write them, so finding one means rows were written or changed around them."""
    found: list[str] = []

    def add(kind: str, lines: list[str], total: int) -> None:
        found.extend(f"{current.slug}: {line}" for line in lines)
        if total > len(lines):
            found.append(f"{current.slug}: … and {total - len(lines)} more {kind}")

    entries = Entry.objects.filter(territory=current)
    thin = entries.annotate(count=Count("postings")).filter(count__lt=2).order_by("pk")
    add(
        "entries with fewer than two postings",
        [
            f"entry {key!r} has {count} posting(s), not at least 2"
            for key, count in thin.values_list("idempotency_key", "count")[:SHOWN_PER_KIND]
        ],
        thin.count(),
    )
    postings = Posting.objects.filter(entry__territory=current)
    unbalanced = (
        postings.values("entry_id", "entry__idempotency_key", "unit")
        .annotate(total=Sum("amount_cents"))
        .exclude(total=0)
        .order_by("entry_id", "unit")
    )
    add(
        "unbalanced entries",
        [
            f"entry {row['entry__idempotency_key']!r} sums to {row['total']} in {row['unit']}, not 0"
            for row in unbalanced[:SHOWN_PER_KIND]
        ],
        unbalanced.count(),
    )
    mismatched = postings.exclude(unit=F("account__unit")).order_by("pk")
    add(
        "postings in another unit than their account's",
        [
            f"entry {key!r} posts {amount} {unit} on {code}, an account in {account_unit}"
            for key, amount, unit, code, account_unit in mismatched.values_list(
                "entry__idempotency_key", "amount_cents", "unit", "account__code", "account__unit"
            )[:SHOWN_PER_KIND]
        ],
        mismatched.count(),
    )
    foreign = postings.exclude(account__territory=current).order_by("pk")
    add(
        "postings on another territory's account",
        [
            f"entry {key!r} posts on {code} of the territory {slug}"
            for key, code, slug in foreign.values_list(
                "entry__idempotency_key", "account__code", "account__territory__slug"
            )[:SHOWN_PER_KIND]
        ],
        foreign.count(),
    )
    return found


def ledger_check(territory: Territory | None = None) -> CheckReport:
    """Every entry has two postings or more, sums to zero in each unit and posts in its accounts' units and
    territory; per territory and unit the postings sum to zero; every kept balance equals its postings; no
    guarded account is negative."""
    report = CheckReport()
    territories = [territory] if territory else list(Territory.objects.order_by("slug"))
    for current in territories:
        report.territories += 1
        report.entries += Entry.objects.filter(territory=current).count()
        report.breaches.extend(_entry_breaches(current))
        postings = Posting.objects.filter(account__territory=current)
        report.postings += postings.count()
        for row in postings.values("unit").annotate(total=Sum("amount_cents")).order_by("unit"):
            if row["total"] != 0:
                report.breaches.append(
                    f"{current.slug}: postings in {row['unit']} sum to {row['total']}, not 0"
                )
        sums = dict(
            postings.values("account_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("account_id", "total")
        )
        for account in Account.objects.filter(territory=current).only(
            "id", "code", "balance_cents", "guarded"
        ):
            report.accounts += 1
            expected = sums.get(account.pk, 0) or 0
            if account.balance_cents != expected:
                report.breaches.append(
                    f"{current.slug}: {account.code} keeps {account.balance_cents} but its postings sum to {expected}"
                )
        for code, kept in Account.objects.filter(
            Q(territory=current), guarded=True, balance_cents__lt=0
        ).values_list("code", "balance_cents"):
            report.breaches.append(f"{current.slug}: guarded account {code} is negative ({kept})")
    return report
