"""Every write of the common fund. Pages, API and CLI call these; each moves money only through the ledger.

The monthly run is here; the accounts (``accounts``), the rules (``scales``), the stores (``stores``), payments
(``payments``), settlements and grants (``settlements``) live in their modules, and every name is also here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Household, HouseholdPerson, Territory, User
from grenier.core.months import first_of_month, last_of_month, month_bounds, month_name  # noqa: F401 - month_bounds: callers reach it here
from grenier.core.services import audit
from grenier.fund import rules
from grenier.fund.accounts import (  # noqa: F401 - callers reach them through services, as before
    CODE_ATTEMPTS,
    CODE_LOCK,
    CONTRIBUTIONS,
    CREDIT_ISSUER,
    FUND_EUR,
    GRANTS,
    STORES_PAID,
    _external,
    _store_credit_code,
    credit_issuer,
    fund_account,
    household_credit,
    household_credit_code,
    store_credit,
)
from grenier.fund.models import (
    AllocationRule,
    CarryOver,
    ContributionChoice,
    ContributionScale,
    MonthLine,
    MonthlyRun,
)
from grenier.fund.payments import (  # noqa: F401 - callers reach them through services, as before
    PaymentResult,
    _amount_not_positive,
    _amount_too_small,
    _card_locked,
    _check_code,
    _code_missing,
    _code_wrong,
    _credit_of,
    _not_enough_credit,
    _pay_in_database,
    _pay_in_python,
    _payment_accounts,
    _store_not_approved,
    credit_balance,
    credit_part,
    household_by_card,
    pay,
    pay_household,
    refund,
)
from grenier.fund.scales import (  # noqa: F401 - callers reach them through services, as before
    allocation_rule_set,
    contribution_choose,
    payment_code_set,
    rule_for,
    scale_for,
    scale_set,
    suggested_for,
)
from grenier.fund.settlements import (  # noqa: F401 - callers reach them through services, as before
    funder_create,
    grant_record,
    settle,
    settlement_mark_paid,
)
from grenier.fund.stores import (  # noqa: F401 - callers reach them through services, as before
    store_approve,
    store_cashier_add,
    store_create,
    store_suspend,
)
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Unit

# --- monthly run ---------------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    month: date
    households: int = 0
    processed_now: int = 0
    credit_issued_cents: int = 0
    contributions_due_cents: int = 0
    contributions_paid_cents: int = 0
    returned_cents: int = 0
    finished: bool = False


Progress = Callable[[int, int], None]


def active_households(territory: Territory, month: date) -> QuerySet[Household]:
    """Households that are in the common fund during ``month``: in it by its end, not left before it began."""
    start, end = first_of_month(month), last_of_month(month)
    return Household.objects.filter(territory=territory, fund_joined_on__lte=end).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=start)
    )


def monthly_run(
    *,
    territory: Territory,
    month: date,
    actor: User | None,
    progress: Progress | None = None,
    batch_size: int = 2000,
) -> RunSummary:
    """Run the month: for each active household, apply the carry-over policy to last month's unspent credit, record
    its contribution due and paid (euros), and issue its allocation (food credit).

    Safe to run twice (nothing changes) and to run again after a crash (it completes what is missing): each
    household's line and entries are written together, once, under a unique constraint.
    """
    month = first_of_month(month)
    scale, rule = _run_rules(territory, month)
    run, _created = MonthlyRun.objects.get_or_create(
        territory=territory, month=month, defaults={"started_by": actor}
    )
    households = active_households(territory, month).order_by("pk")
    ids = list(households.values_list("pk", flat=True))
    done = set(MonthLine.objects.filter(run=run).values_list("household_id", flat=True))
    todo = [pk for pk in ids if pk not in done]
    total = len(ids)
    summary = RunSummary(month=month, households=total)
    batches = _RunBatches(
        run=run,
        territory=territory,
        month=month,
        scale=scale,
        rule=rule,
        actor=actor,
        fund_eur=fund_account(territory),
        contributions=_external(territory, CONTRIBUTIONS),
        issuer=credit_issuer(territory),
    )
    if progress:
        progress(len(done), total)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        with transaction.atomic():
            lines = batches.write(chunk)
        _summary_add(summary, lines)
        summary.processed_now += len(lines)
        if progress:
            progress(len(done) + start + len(chunk), total)
    _run_finish(run, territory=territory, month=month, actor=actor)
    summary.finished = True
    _summary_totals(summary, run)
    return summary


# A month line as the run computes it: (household id, contribution due and paid, allocation, credit returned).
Line = tuple[int, int, int, int]
# A batch's households as (id, monthly resources), and their persons as (birth date, child flag) by household.
Households = list[tuple[int, int | None]]
Persons = dict[int, list[tuple[date | None, bool]]]

# The households of a range of ids in the territory that have no line of this run yet, by id: their resources, their
# persons (two arrays, in the order recorded) and their latest contribution chosen for the month (``_read``'s four
# queries in one). A household's line of the month is looked up by the unique (household, month) index, not by the
# run: the same lines (one run per territory and month), and the planner, which knows nothing yet of a new run's
# lines, would otherwise scan all of them once per household.
_READ_BATCH_SQL = """
SELECT h.id, h.monthly_resources_cents, p.births, p.flags,
       (SELECT c.amount_cents FROM fund_contributionchoice c
        WHERE c.household_id = h.id AND c.effective_month <= %(month)s
        ORDER BY c.effective_month DESC LIMIT 1)
FROM core_household h
LEFT JOIN LATERAL (
    SELECT array_agg(x.birth_date ORDER BY x.id) AS births, array_agg(x.is_child ORDER BY x.id) AS flags
    FROM core_householdperson x WHERE x.household_id = h.id
) p ON TRUE
WHERE h.territory_id = %(territory)s AND h.id BETWEEN %(first)s AND %(last)s
  AND NOT EXISTS (SELECT 1 FROM fund_monthline l WHERE l.household_id = h.id AND l.month = %(month)s)
ORDER BY h.id
"""


@dataclass
class _RunBatches:
    """What every batch of one run shares: the run, its month's rules, the fund's accounts it moves, and the
    compositions already computed (a household's composition depends only on its persons' birth dates and child
    flags: many share one)."""

    run: MonthlyRun
    territory: Territory
    month: date
    scale: ContributionScale
    rule: AllocationRule
    actor: User | None
    fund_eur: Account
    contributions: Account
    issuer: Account
    compositions: dict[PersonsKey, rules.Composition] = field(default_factory=dict)

    def write(self, chunk: list[int]) -> list[Line]:
        """Run these households (sorted ids), in the caller's transaction: those that have no line yet get their
        entries and their line; returns their lines."""
        # The batch's rows are read by the range of its ids (``chunk`` is sorted) and kept if in the batch: the same
        # rows as ``__in=chunk``, without building a query of thousands of parameters.
        MonthlyRun.objects.select_for_update().get(pk=self.run.pk)  # two runs of the same month take turns
        if connection.vendor == "postgresql":
            batch, persons, chosen = self._read_postgresql(chunk)
        else:
            batch, persons, chosen = self._read(chunk)
        wallets = _wallets(self.territory, [pk for pk, _resources in batch])
        lines = _month_lines(
            self.month,
            self.scale,
            self.rule,
            [(pk, resources, wallets[pk].balance_cents) for pk, resources in batch],
            persons,
            chosen,
            self.compositions,
        )
        self._record(lines, wallets)
        _month_lines_insert(self.run, self.month, lines)
        return lines

    def _read(self, chunk: list[int]) -> tuple[Households, Persons, dict[int, int]]:
        """The batch's households that have no line yet, as (id, monthly resources) by id, their persons, their
        latest chosen contributions; four queries."""
        between = (chunk[0], chunk[-1])
        fresh = set(chunk) - set(
            MonthLine.objects.filter(
                run=self.run, household__gte=between[0], household__lte=between[1]
            ).values_list("household_id", flat=True)
        )
        batch = self._resources(between, fresh)
        persons = self._persons(between, [pk for pk, _resources in batch])
        chosen = _latest_choices(
            ContributionChoice.objects.filter(
                household__territory=self.territory,
                household__gte=between[0],
                household__lte=between[1],
                effective_month__lte=self.month,
            ),
            keep=fresh,
        )
        return batch, persons, chosen

    def _read_postgresql(self, chunk: list[int]) -> tuple[Households, Persons, dict[int, int]]:
        """``_read`` in one query: each household of the range without a line yet, with its persons as two arrays
        (birth dates, child flags, in the order they were recorded) and its latest choice."""
        keep = set(chunk)
        batch: Households = []
        persons: Persons = {}
        chosen: dict[int, int] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                _READ_BATCH_SQL,
                {
                    "territory": self.territory.pk,
                    "first": chunk[0],
                    "last": chunk[-1],
                    "month": self.month,
                },
            )
            for pk, resources, births, flags, choice in cursor.fetchall():
                if pk not in keep:
                    continue
                batch.append((pk, resources))
                persons[pk] = list(zip(births, flags, strict=True)) if births else []
                if choice is not None:
                    chosen[pk] = choice
        return batch, persons, chosen

    def _resources(self, between: tuple[int, int], fresh: set[int]) -> list[tuple[int, int | None]]:
        """(id, monthly resources) of the batch's households that have no line yet, by id."""
        # Plain values, not model instances: the run reads a few columns of many rows.
        return [
            (pk, resources)
            for pk, resources in Household.objects.filter(territory=self.territory, pk__range=between)
            .order_by("pk")
            .values_list("pk", "monthly_resources_cents")
            if pk in fresh
        ]

    def _persons(
        self, between: tuple[int, int], household_ids: list[int]
    ) -> dict[int, list[tuple[date | None, bool]]]:
        """Each of these households' persons as (birth date, child flag), in the order they were recorded."""
        persons: dict[int, list[tuple[date | None, bool]]] = {pk: [] for pk in household_ids}
        for household_id, birth_date, is_child in (
            HouseholdPerson.objects.filter(
                household__territory=self.territory, household__gte=between[0], household__lte=between[1]
            )
            .order_by("household_id", "id")
            .values_list("household_id", "birth_date", "is_child")
        ):
            if household_id in persons:
                persons[household_id].append((birth_date, is_child))
        return persons

    def _record(self, lines: Sequence[Line], wallets: dict[int, ledger.AccountRow]) -> None:
        """The ledger's entries of these lines, each under its own key: credit returned to the issuer, the
        contribution into the fund, the allocation into the household's credit (an entry only where its amount is
        not zero); given to the ledger as columns, written by it at once."""
        keys: list[str] = []
        kinds: list[str] = []
        sources: list[ledger.AccountLike] = []
        targets: list[ledger.AccountLike] = []
        amounts: list[int] = []
        prefix = f"run:{self.month:%Y-%m}:"
        issuer, contributions, fund_eur = self.issuer, self.contributions, self.fund_eur
        for household_id, due, allocation, returned in lines:
            wallet = wallets[household_id]
            key = f"{prefix}{household_id}"
            if returned:
                keys.append(f"{key}:return")
                kinds.append("fund.return")
                sources.append(wallet)
                targets.append(issuer)
                amounts.append(returned)
            if due:
                keys.append(f"{key}:contribution")
                kinds.append("fund.contribution")
                sources.append(contributions)
                targets.append(fund_eur)
                amounts.append(due)
            if allocation:
                keys.append(f"{key}:allocation")
                kinds.append("fund.allocation")
                sources.append(issuer)
                targets.append(wallet)
                amounts.append(allocation)
        ledger.transfers_record_batch(
            territory=self.territory,
            keys=keys,
            kinds=kinds,
            sources=sources,
            targets=targets,
            amounts=amounts,
            actor=self.actor,
        )


def _summary_add(summary: RunSummary, lines: Iterable[Line]) -> None:
    """Add these lines' credit, contributions and returned credit to the summary."""
    for _household, due, allocation, returned in lines:
        summary.credit_issued_cents += allocation
        summary.contributions_due_cents += due
        summary.contributions_paid_cents += due
        summary.returned_cents += returned


def _run_finish(run: MonthlyRun, *, territory: Territory, month: date, actor: User | None) -> None:
    """Mark the run finished (once: its first finish is the one audited)."""
    with transaction.atomic():
        if run.finished_at is None:
            MonthlyRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=timezone.now())
            audit(
                territory=territory,
                actor=actor,
                action="fund.run",
                subject=f"run:{run.pk}",
                month=f"{month:%Y-%m}",
            )


def _summary_totals(summary: RunSummary, run: MonthlyRun) -> None:
    """The summary's amounts are the whole run's, this call's and any before it, as its lines say."""
    totals = MonthLine.objects.filter(run=run).aggregate(
        issued=Sum("allocation_cents"),
        due=Sum("contribution_due_cents"),
        paid=Sum("contribution_paid_cents"),
        ret=Sum("returned_cents"),
    )
    summary.credit_issued_cents = totals["issued"] or 0
    summary.contributions_due_cents = totals["due"] or 0
    summary.contributions_paid_cents = totals["paid"] or 0
    summary.returned_cents = totals["ret"] or 0


def _run_rules(territory: Territory, month: date) -> tuple[ContributionScale, AllocationRule]:
    """The rules a run of ``month`` (its first day) applies; refused for a month that has not begun, or without rules.

    A month is run once it has begun, so credit is never spendable before its month: the fund's rules have no
    decision to pay in advance, so nobody (page, API or command line) can run a future month.
    """
    today = timezone.localdate()
    if month > first_of_month(today):
        raise InvalidInput(
            _(
                "%(month)s has not begun: a month is run from its first day, %(first)s. Paying in advance is not in the fund's rules."
            )
            % {"month": month_name(month), "first": date_format(month, "j F Y")},
            errors={"month": [_("This month has not begun.")]},
        )
    scale = scale_for(territory, month)
    rule = rule_for(territory, month)
    if scale is None or rule is None:
        raise Conflict(_("Set a contribution scale and an allocation rule for this month before running it."))
    return scale, rule


# What a household's composition depends on, person by person: their age in whole years at the month (None without
# a birth date) and, without a birth date, their child flag (``rules.composition`` and ``consumption_units`` read
# nothing else). Many households share one: the composition is computed once per key.
PersonsKey = tuple[tuple[int | None, bool], ...]


def _persons_key(people: Sequence[tuple[date | None, bool]], month: date) -> PersonsKey:
    return tuple(
        (None, child)
        if born is None
        else (month.year - born.year - ((month.month, month.day) < (born.month, born.day)), False)
        for born, child in people
    )


def _month_lines(
    month: date,
    scale: ContributionScale,
    rule: AllocationRule,
    households: Sequence[tuple[int, int | None, int]],
    persons: dict[int, list[tuple[date | None, bool]]],
    chosen: dict[int, int],
    compositions: dict[PersonsKey, rules.Composition],
) -> list[Line]:
    """What the run does for each household, from (id, monthly resources, credit balance): (id, contribution due and
    paid, allocation, credit returned). The run and its preview both compute it here, so the preview is the run."""
    lines = []
    for household_id, resources_cents, balance_cents in households:
        people = persons.get(household_id, ())
        key = _persons_key(people, month)
        comp = compositions.get(key)
        if comp is None:
            comp = rules.composition(
                [HouseholdPerson(birth_date=born, is_child=child) for born, child in people],
                month,
                rule.child_age_limit,
            )
            compositions[key] = comp
        returned = _carry_over_return(rule, balance_cents)
        due = _contribution_due(resources_cents, scale, comp, chosen.get(household_id))
        allocation = rules.allocation_cents(
            base_cents=rule.base_cents,
            per_additional_person_cents=rule.per_additional_person_cents,
            per_child_cents=rule.per_child_cents,
            composition=comp,
        )
        lines.append((household_id, due, allocation, returned))
    return lines


def run_preview(*, territory: Territory, month: date) -> RunSummary:
    """What running ``month`` would do now, written nowhere: ``households`` active, ``processed_now`` still to run,
    and the credit, contributions and returned credit of those. Refused as the run is (a future month, no rules)."""
    month = first_of_month(month)
    scale, rule = _run_rules(territory, month)
    ids = list(active_households(territory, month).order_by("pk").values_list("pk", flat=True))
    done = set(
        MonthLine.objects.filter(run__territory=territory, month=month).values_list("household_id", flat=True)
    )
    todo = {pk for pk in ids if pk not in done}
    summary = RunSummary(month=month, households=len(ids), processed_now=len(todo))
    persons: dict[int, list[tuple[date | None, bool]]] = {}
    for household_id, birth_date, is_child in (
        HouseholdPerson.objects.filter(household_id__in=todo)
        .order_by("household_id", "id")
        .values_list("household_id", "birth_date", "is_child")
    ):
        persons.setdefault(household_id, []).append((birth_date, is_child))
    balances = dict(
        Account.objects.filter(
            territory=territory, code__in=[household_credit_code(pk) for pk in todo]
        ).values_list("code", "balance_cents")
    )
    rows = [
        (pk, resources, balances.get(household_credit_code(pk), 0))
        for pk, resources in Household.objects.filter(pk__in=todo)
        .order_by("pk")
        .values_list("pk", "monthly_resources_cents")
    ]
    chosen = chosen_contributions(todo, month)
    _summary_add(summary, _month_lines(month, scale, rule, rows, persons, chosen, {}))
    return summary


def _wallets(territory: Territory, household_ids: Sequence[int]) -> dict[int, ledger.AccountRow]:
    """Each household's credit account, created if missing, locked for the run's transaction (plain values)."""
    codes = {household_credit_code(pk): pk for pk in household_ids}
    rows = ledger.accounts_ensure_locked(
        territory=territory, codes=list(codes), unit=Unit.CREDIT, guarded=True
    )
    return {codes[code]: row for code, row in rows.items()}


def _month_lines_insert(run: MonthlyRun, month: date, rows: Sequence[Line]) -> None:
    """The batch's month lines, from (household id, contribution due and paid, allocation, returned): on PostgreSQL
    one ``INSERT … SELECT FROM unnest(arrays)``, elsewhere ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MonthLine.objects.bulk_create(
            MonthLine(
                run=run,
                household_id=household_id,
                month=month,
                contribution_due_cents=due,
                contribution_paid_cents=due,
                allocation_cents=allocation,
                returned_cents=returned,
            )
            for household_id, due, allocation, returned in rows
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(MonthLine._meta.db_table)} "  # noqa: S608 - our table name
            "(run_id, household_id, month, contribution_due_cents, contribution_paid_cents, allocation_cents, "
            "returned_cents) SELECT %s, u.household_id, %s, u.due, u.due, u.allocation, u.returned "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
            "AS u(household_id, due, allocation, returned)",
            [run.pk, month, *([row[i] for row in rows] for i in range(4))],
        )


def _carry_over_return(rule: AllocationRule, balance_cents: int) -> int:
    if balance_cents <= 0 or rule.carry_over == CarryOver.KEEP:
        return 0
    if rule.carry_over == CarryOver.RETURN:
        return balance_cents
    return max(0, balance_cents - rule.carry_over_cap_cents)


def chosen_contributions(household_ids: set[int], month: date) -> dict[int, int]:
    """The latest contribution each household chose, effective at ``month``."""
    return _latest_choices(
        ContributionChoice.objects.filter(household_id__in=household_ids, effective_month__lte=month)
    )


def _latest_choices(choices: QuerySet[ContributionChoice], keep: set[int] | None = None) -> dict[int, int]:
    """Of these choices, each household's latest (of those in ``keep``, if given)."""
    latest: dict[int, int] = {}
    for household_id, amount in choices.order_by("household_id", "effective_month").values_list(
        "household_id", "amount_cents"
    ):
        if keep is None or household_id in keep:
            latest[household_id] = amount
    return latest


def _contribution_due(
    resources_cents: int | None, scale: ContributionScale, comp: rules.Composition, chosen: int | None
) -> int:
    if chosen is not None:
        return max(chosen, scale.minimum_cents)
    return rules.suggested_contribution_cents(
        brackets=scale.brackets,
        minimum_cents=scale.minimum_cents,
        resources_cents=resources_cents,
        units_x10=comp.units_x10,
    )
