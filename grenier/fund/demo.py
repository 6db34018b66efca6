"""The common fund of the demo territory: Montpellier-like rules, five approved stores, three funders, six months
of history (about 20 payments per household per month, a few refunds, settlements, grants) and the current month run.

Idempotent: rules, stores, runs, settlements and grants go through their services with stable keys; a month whose
payments exist is not generated again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.models import Household, Territory, User
from grenier.core.months import months_back
from grenier.core.services import NewHousehold
from grenier.fund import codes, referrals, services
from grenier.fund.models import (
    CarryOver,
    FunderKind,
    Payment,
    PaymentCode,
    Refund,
    Settlement,
    SettlementStatus,
    Store,
)
from grenier.ledger.models import Account, Entry
from grenier.ledger.services import EntrySpec, entries_record_batch

Log = Callable[[str], None]
HISTORY_MONTHS = 6
DOMAIN = "demo.grenier.test"

# Monthly resources per consumption unit (cents) → suggested contribution (cents): 1 € to 150 €, as in Montpellier.
BRACKETS: list[list[int | None]] = [
    [50_000, 100],
    [70_000, 500],
    [90_000, 1_500],
    [110_000, 3_000],
    [140_000, 5_000],
    [180_000, 8_000],
    [250_000, 11_000],
    [None, 15_000],
]
STORES = [
    # name, kind, coverage %, cashier e-mail, share of spending
    ("Épicerie La Fourmilière", "épicerie coopérative", 100, f"cashier@{DOMAIN}", 0.30),
    ("Biocoop du Canal", "magasin bio", 100, f"epicerie-2@{DOMAIN}", 0.25),
    ("Marché paysan du samedi", "marché de producteurs", 100, f"epicerie-3@{DOMAIN}", 0.20),
    ("Épicerie sociale Le Relais", "épicerie solidaire", 100, f"epicerie-4@{DOMAIN}", 0.15),
    ("Boulangerie Le Fournil", "boulangerie", 70, f"epicerie-5@{DOMAIN}", 0.10),
]
FUNDERS = [
    # name, kind, monthly grant (cents), every n months, demo login
    ("Conseil départemental", FunderKind.PUBLIC, 1_500_000, 1, f"financeur-2@{DOMAIN}"),
    ("Caisse d'allocations familiales", FunderKind.PUBLIC, 1_000_000, 1, f"financeur-3@{DOMAIN}"),
    ("Fondation Terres Solidaires", FunderKind.PRIVATE, 3_600_000, 3, f"funder@{DOMAIN}"),
]


def extend(territory: Territory, log: Log) -> None:
    rng = random.Random(4242)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    history = months_back(today, HISTORY_MONTHS)
    first = history[0]
    _rules(territory, first, base_cents=10_000, decided_by="comité citoyen")
    stores = []
    for name, kind, coverage, cashier_email, _share in STORES:
        store = services.store_create(
            territory=territory, name=name, kind=kind, address="Vallée du Grenier", actor=None
        )
        if not store.is_approved:
            store = services.store_approve(store=store, coverage_percent=coverage, on=first, actor=None)
        cashier = User.objects.filter(email=cashier_email).first()
        if cashier is not None:
            services.store_cashier_add(store=store, user=cashier, actor=None)
        stores.append(store)
    services.store_create(
        territory=territory, name="Primeur des Halles", kind="primeur", actor=None
    )  # awaits approval
    funders = []
    for name, kind, _amount, _every, email in FUNDERS:
        funder = services.funder_create(territory=territory, name=name, kind=kind, actor=None)
        member = User.objects.filter(email=email).first()
        if member is not None:
            funder.members.add(member)
        funders.append(funder)
    _personal_codes(territory, rng)

    for index, month in enumerate(history):
        for funder, (_name, _kind, amount, every, _email) in zip(funders, FUNDERS, strict=True):
            if index % every == 0:
                services.grant_record(
                    funder=funder,
                    amount_cents=amount,
                    received_on=month + timedelta(days=4),
                    purpose="Soutien au fonctionnement de la caisse commune",
                    idempotency_key=f"demo-{month:%Y-%m}",
                    actor=None,
                )
        summary = services.monthly_run(territory=territory, month=month, actor=None)
        made = _spend(territory, month, stores, rng)
        log(f"    {month:%Y-%m}: {summary.households} households, {made} payments")
    for month in history:
        for settlement in services.settle(territory=territory, month=month, actor=None):
            if month != history[-1] and settlement.status == SettlementStatus.DUE:
                services.settlement_mark_paid(
                    settlement=settlement, reference=f"VIR-{month:%Y%m}-{settlement.store_id}", actor=None
                )
    current = today.replace(day=1)
    for funder, (_name, _kind, amount, every, _email) in zip(funders, FUNDERS, strict=True):
        if every == 1:
            services.grant_record(
                funder=funder,
                amount_cents=amount,
                received_on=current,
                idempotency_key=f"demo-{current:%Y-%m}",
                purpose="Soutien au fonctionnement de la caisse commune",
                actor=None,
            )
    _referrals(territory)  # before this month's run: the household taken in gets this month's credit
    services.monthly_run(territory=territory, month=current, actor=None)
    _spend(territory, current, stores, rng, until=timezone.now())
    log(
        f"    {current:%Y-%m}: current month run; {Settlement.objects.filter(store__territory=territory).count()} settlements"
    )


def _referrals(territory: Territory) -> None:
    """The social worker's referrals to the fund: one waiting for the coordinator (a new household), one of a
    garden's member household not in the fund, one taken in this month, one declined with its reason."""
    social = User.objects.filter(email=f"social@{DOMAIN}").first()
    other = User.objects.filter(email=f"social-1@{DOMAIN}").first() or social
    coordinator = User.objects.filter(email=f"coordinator@{DOMAIN}").first()
    if social is None or other is None or coordinator is None:
        return
    garden_only = core_services.household_join(
        territory=territory,
        name="Foyer Keller",
        persons=[core_services.PersonInput("Maëlle"), core_services.PersonInput(is_child=True)],
        actor=social,
        in_fund=False,
        idempotency_key="demo-garden-only-household",
    )
    wanted = [
        (social, "waiting", NewHousehold(name="Foyer Arnaud", first_name="Sonia", persons=4), "", None),
        (social, "by-card", None, garden_only.card_number, None),
        (other, "taken-in", NewHousehold(name="Foyer Poirier", first_name="Marc", persons=2), "", "confirm"),
        (
            social,
            "declined",
            NewHousehold(name="Foyer Lambert", persons=1),
            "",
            "Le foyer habite hors de la vallée : à orienter vers l'épicerie sociale de sa commune.",
        ),
    ]
    for worker, key, new, card, decision in wanted:
        referral = referrals.referral_create(
            territory=territory,
            social_worker=worker,
            consent=True,
            idempotency_key=f"demo-fund-referral-{key}",
            card=card,
            new_household=new,
            note="Accompagnée par le CCAS depuis septembre." if key == "waiting" else "",
        )
        if decision == "confirm":
            referrals.referral_confirm(referral=referral, actor=coordinator)
        elif decision:
            referrals.referral_decline(referral=referral, actor=coordinator, reason=decision)


def _personal_codes(territory: Territory, rng: random.Random) -> None:
    """A third of households type a personal code at the till (as with the MonA tablets); not the demo member."""
    if PaymentCode.objects.filter(household__territory=territory).exists():
        return
    households = Household.objects.filter(territory=territory, left_on__isnull=True).exclude(
        email=f"member@{DOMAIN}"
    )
    PaymentCode.objects.bulk_create(
        PaymentCode(household=h, code_hash=codes.code_hash(h.card_number, "2468"))
        for h in households.order_by("pk")
        if rng.random() < 0.33
    )


def _spend(
    territory: Territory, month: date, stores: list[Store], rng: random.Random, until: datetime | None = None
) -> int:
    """About 20 payments per household over the month, most of its credit, at the five stores; a few refunds."""
    prefix = f"demo-{month:%Y-%m}-"
    if Payment.objects.filter(territory=territory, idempotency_key__startswith=prefix).exists():
        return 0
    start, end = services.month_bounds(month)
    if until is not None:
        end = min(end, until)
    span = (end - start).total_seconds()
    fraction_of_month = span / (services.month_bounds(month)[1] - start).total_seconds()
    weights = [share for *_rest, share in STORES]
    wallets = {
        int(code.split(":")[1]): account
        for code, account in (
            (a.code, a)
            for a in Account.objects.filter(
                territory=territory, code__startswith="household:", balance_cents__gt=0
            )
        )
    }
    store_accounts = {store.pk: services.store_credit(store) for store in stores}
    active = services.active_households(territory, month).filter(pk__in=list(wallets)).order_by("pk")
    made = 0
    for chunk_start in range(0, len(wallets), 100):
        chunk = list(active[chunk_start : chunk_start + 100])
        if not chunk:
            break
        specs: list[EntrySpec] = []
        rows: list[tuple[str, Store, Household, int, int, int, datetime]] = []
        for household in chunk:
            wallet = wallets[household.pk]
            budget = int(wallet.balance_cents * rng.uniform(0.82, 1.0) * fraction_of_month)
            count = max(1, int(rng.gauss(20, 4) * fraction_of_month))
            cuts = sorted(rng.sample(range(1, max(budget, count + 1)), min(count - 1, max(budget - 1, 0))))
            amounts = [b - a for a, b in zip([0, *cuts], [*cuts, budget], strict=True) if b - a > 0]
            for number, credit_wanted in enumerate(amounts):
                store = rng.choices(stores, weights)[0]
                total = (
                    credit_wanted * 100 // store.coverage_percent
                    if store.coverage_percent < 100
                    else credit_wanted
                )
                credit = services.credit_part(total, store.coverage_percent)
                if credit <= 0:
                    continue
                at = _opening_hours(start, end, rng)
                key = f"{prefix}{household.pk}-{number}"
                specs.append(
                    EntrySpec(
                        f"payment:{store.pk}:{key}",
                        "fund.payment",
                        [(wallet, -credit), (store_accounts[store.pk], credit)],
                        at=at,
                    )
                )
                rows.append((key, store, household, total, credit, total - credit, at))
        with transaction.atomic():
            entries_record_batch(territory=territory, specs=specs)
            entry_ids = dict(
                Entry.objects.filter(
                    territory=territory, idempotency_key__in=[s.idempotency_key for s in specs]
                ).values_list("idempotency_key", "pk")
            )
            payments = Payment.objects.bulk_create(
                Payment(
                    territory=territory,
                    store=store,
                    household=household,
                    total_cents=total,
                    credit_cents=credit,
                    euro_cents=euros,
                    idempotency_key=key,
                    entry_id=entry_ids[f"payment:{store.pk}:{key}"],
                    created_at=at,
                )
                for key, store, household, total, credit, euros, at in rows
            )
            _refund_a_few(territory, payments, wallets, store_accounts, rng, end)
        made += len(rows)
    return made


def _opening_hours(start: datetime, end: datetime, rng: random.Random) -> datetime:
    """A moment when stores are open (8:30 to 19:30, local time) between ``start`` and ``end``."""
    days = max((end - start).days, 1)
    at = start + timedelta(days=rng.randrange(days), hours=rng.uniform(8.5, 19.5))
    return at if at < end else end - timedelta(minutes=rng.uniform(5, 120))


def _refund_a_few(
    territory: Territory,
    payments: list[Payment],
    wallets: dict[int, Account],
    store_accounts: dict[int, Account],
    rng: random.Random,
    end: datetime,
) -> None:
    chosen = [p for p in payments if rng.random() < 0.006 and p.pk]
    if not chosen:
        return
    specs, rows = [], []
    for payment in chosen:
        amount = max(1, int(payment.credit_cents * rng.choice([0.25, 0.5, 1.0])))
        at = min(payment.created_at + timedelta(hours=rng.uniform(1, 72)), end)
        key = f"demo-refund-{payment.pk}"
        specs.append(
            EntrySpec(
                f"refund:{payment.pk}:{key}",
                "fund.refund",
                [(store_accounts[payment.store_id], -amount), (wallets[payment.household_id], amount)],
                at=at,
            )
        )
        rows.append((payment, amount, key, at))
    entries_record_batch(territory=territory, specs=specs)
    entry_ids = dict(
        Entry.objects.filter(
            territory=territory, idempotency_key__in=[s.idempotency_key for s in specs]
        ).values_list("idempotency_key", "pk")
    )
    Refund.objects.bulk_create(
        Refund(
            payment=p,
            credit_cents=amount,
            idempotency_key=key,
            entry_id=entry_ids[f"refund:{p.pk}:{key}"],
            created_at=at,
        )
        for p, amount, key, at in rows
    )
    for payment, amount, _key, _at in rows:
        Payment.objects.filter(pk=payment.pk).update(refunded_credit_cents=amount)


def extend_second(territory: Territory, log: Log) -> None:
    """The second demo territory's fund: the Vallée's scale, a smaller allocation, one store, the months run (no
    spending generated: its households' credit waits in their wallets)."""
    today = timezone.localdate()
    history = months_back(today, HISTORY_MONTHS)
    first = history[0]
    _rules(territory, first, base_cents=8_000, decided_by="comité des Coteaux")
    store = services.store_create(
        territory=territory, name="Épicerie des Coteaux", kind="épicerie coopérative", actor=None
    )
    if not store.is_approved:
        services.store_approve(store=store, coverage_percent=100, on=first, actor=None)
    for month in [*history, today.replace(day=1)]:
        services.monthly_run(territory=territory, month=month, actor=None)
    log(f"    {territory.name}: {len(history) + 1} months of the fund run")


def _rules(territory: Territory, first: date, *, base_cents: int, decided_by: str) -> None:
    """The scale (``BRACKETS``) and the allocation rule from ``first``, unless there already are."""
    if services.scale_for(territory, first) is None:
        services.scale_set(
            territory=territory,
            effective_month=first,
            brackets=BRACKETS,
            minimum_cents=100,
            actor=None,
            decided_by=decided_by,
        )
    if services.rule_for(territory, first) is None:
        services.allocation_rule_set(
            territory=territory,
            effective_month=first,
            base_cents=base_cents,
            carry_over=CarryOver.KEEP,
            actor=None,
            decided_by=decided_by,
        )
