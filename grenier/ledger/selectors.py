"""Reads of the ledger: balances in O(1), statements, and the full consistency check."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, Sum

from grenier.core.models import Territory
from grenier.ledger.models import Account, Posting


def balance(account: Account) -> int:
    """The kept balance, read fresh from the database (one row, no sum)."""
    return Account.objects.values_list("balance_cents", flat=True).get(pk=account.pk)


@dataclass
class CheckReport:
    territories: int = 0
    accounts: int = 0
    postings: int = 0
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches


def ledger_check(territory: Territory | None = None) -> CheckReport:
    """Per territory and unit the postings sum to zero; every kept balance equals its postings; no guarded account
    is negative."""
    report = CheckReport()
    territories = [territory] if territory else list(Territory.objects.order_by("slug"))
    for current in territories:
        report.territories += 1
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
