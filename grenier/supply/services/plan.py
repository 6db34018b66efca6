"""The week's plan: computed, adjusted by hand, published (each farm's gap to its share carried to the next week)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.supply import notifications, optimiser
from grenier.supply.models import (
    Availability,
    Demand,
    Kitchen,
    PlanChange,
    PlanChangeReason,
    PlanLine,
    Producer,
    ProducerWeek,
    Product,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import format_quantity
from grenier.supply.services.checks import (
    _day_in_week,
    _invalid,
    _is_invoiced,
    _locked_week,
    _quantity,
    _refuse_published,
    _same_territory,
    _subject,
)
from grenier.supply.services.problem import (
    SOLVER_TIME_LIMIT,
    _figures,
    _solve,
    named_farms,
    shares_in_force,
    week_problem,
)
from grenier.supply.services.reference import _contract_lines_on


def _contract_line_map(week: SupplyWeek) -> dict[tuple[int, int, date], int | None]:
    return {
        (k, g, d): line_id
        for k, g, d, line_id in Demand.objects.filter(week=week).values_list(
            "kitchen_id", "product_id", "day", "contract_line_id"
        )
    }


def _contract_line_id(
    known: dict[tuple[int, int, date], int | None], kitchen: Kitchen, product: Product, day: date
) -> int | None:
    line_id = known.get((kitchen.pk, product.pk, day))
    if line_id is None:
        found = _contract_lines_on(kitchen, product, day)
        line_id = found.pk if found else None
    return line_id


def plan_compute(*, week: SupplyWeek, actor: User | None) -> optimiser.Plan:
    """Solve the week (HiGHS, proven optimum within the time limit) and replace its plan lines. The solve's
    figures and the reason of every unmet demand line go to ``week.solver``. The week becomes PLANNED; a published
    week is refused (a shortfall re-plans it)."""
    with transaction.atomic():
        locked = _locked_week(week)
        _refuse_published(locked)
        problem = week_problem(locked)
        plan: optimiser.Plan = _solve(
            problem, lambda: optimiser.solve(problem.week, time_limit=SOLVER_TIME_LIMIT)
        )
        PlanLine.objects.filter(week=locked).delete()
        known = _contract_line_map(locked)
        new_lines = []
        for x in plan.lines:
            kitchen, product = problem.kitchens[x.kitchen], problem.products[x.product]
            day = date.fromisoformat(x.day)
            new_lines.append(
                PlanLine(
                    week=locked,
                    producer=problem.producers[x.producer],
                    kitchen=kitchen,
                    product=product,
                    day=day,
                    quantity=x.quantity,
                    solver_quantity=x.quantity,
                    contract_line_id=_contract_line_id(known, kitchen, product, day),
                )
            )
        PlanLine.objects.bulk_create(new_lines)
        locked.solver = _figures(problem, plan, "plan")
        locked.status = WeekStatus.PLANNED
        locked.planned_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["solver", "status", "planned_at", "version"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.plan.compute",
            subject=_subject(locked),
            status=plan.status,
            lines=len(new_lines),
            demand_total=plan.demand_total,
            supplied_total=plan.supplied_total,
        )
    _copy_week(locked, week)
    return plan


def _copy_week(source: SupplyWeek, target: SupplyWeek) -> None:
    if source is not target:
        for name in ("status", "planned_at", "published_at", "solver", "version"):
            setattr(target, name, getattr(source, name))


def _write_line(
    week: SupplyWeek,
    line: PlanLine | None,
    *,
    producer: Producer,
    kitchen: Kitchen,
    product: Product,
    day: date,
    quantity: int,
    known: dict[tuple[int, int, date], int | None],
    adjusted: bool | None = None,
    solver_quantity: int | None = None,
) -> PlanLine | None:
    """Set a plan line to ``quantity``: created, changed, or removed at 0 (kept at 0 when a receipt is on it)."""
    if line is None:
        if quantity == 0:
            return None
        return PlanLine.objects.create(
            week=week,
            producer=producer,
            kitchen=kitchen,
            product=product,
            day=day,
            quantity=quantity,
            solver_quantity=solver_quantity or 0,
            adjusted=bool(adjusted),
            contract_line_id=_contract_line_id(known, kitchen, product, day),
        )
    if quantity == 0 and line.received_quantity is None:
        line.delete()
        return None
    line.quantity = quantity
    fields = ["quantity"]
    if adjusted is not None:
        line.adjusted = adjusted
        fields.append("adjusted")
    if solver_quantity is not None:
        line.solver_quantity = solver_quantity
        fields.append("solver_quantity")
    line.save(update_fields=fields)
    return line


def plan_line_set(
    *,
    week: SupplyWeek,
    producer: Producer,
    kitchen: Kitchen,
    product: Product,
    day: date,
    quantity: int,
    actor: User | None,
) -> PlanLine | None:
    """The coordinator of the week sets a line by hand (0 removes it). Refused when the farm would send more of
    the product than it declared, or less than its minimum lot (yet something), or when the kitchen would get more
    than it asked that day. On a published week the change is recorded (PlanChange) and the farm and kitchen are
    told; the farms' gaps are recomputed."""
    _quantity(quantity, planned=True)
    _same_territory(week.territory_id, producer=producer, kitchen=kitchen, product=product)
    _day_in_week(week, day)
    with transaction.atomic():
        locked = _locked_week(week)
        if locked.status == WeekStatus.OPEN:
            raise Conflict(_("Compute the plan before adjusting it."))
        line = (
            PlanLine.objects.select_for_update()
            .filter(week=locked, producer=producer, kitchen=kitchen, product=product, day=day)
            .first()
        )
        before = int(line.quantity) if line else 0
        if before == quantity:
            return line
        if line is not None and _is_invoiced(line):
            raise Conflict(_("This line is already invoiced: correct it with a credit note."))
        line_pk = line.pk if line is not None else 0
        _check_farm_sends(locked, producer, product, quantity, line_pk)
        _check_kitchen_asked(locked, producer, kitchen, product, day, quantity, line_pk)
        result = _write_line(
            locked,
            line,
            producer=producer,
            kitchen=kitchen,
            product=product,
            day=day,
            quantity=quantity,
            known=_contract_line_map(locked),
            adjusted=True,
        )
        locked.version += 1
        locked.save(update_fields=["version"])
        if locked.status == WeekStatus.PUBLISHED:
            change = PlanChange.objects.create(
                week=locked,
                producer=producer,
                kitchen=kitchen,
                product=product,
                day=day,
                before=before,
                after=quantity,
                reason=PlanChangeReason.ADJUSTED,
                actor=actor,
            )
            _producer_weeks_recompute(locked.territory, locked.monday)
            notifications.lines_changed(locked, [change])
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.plan.adjust",
            subject=_subject(locked),
            producer=producer.pk,
            kitchen=kitchen.pk,
            product=product.pk,
            day=day.isoformat(),
            before=before,
            after=quantity,
        )
    _copy_week(locked, week)
    return result


def _check_farm_sends(
    week: SupplyWeek, producer: Producer, product: Product, quantity: int, line_pk: int
) -> None:
    """The farm's lines of the product, with this one at ``quantity``, within what it declared and not below its
    minimum lot (yet something)."""
    declared = Availability.objects.filter(week=week, producer=producer, product=product).first()
    others = PlanLine.objects.filter(week=week, producer=producer, product=product).exclude(pk=line_pk)
    total = sum(int(q) for q in others.values_list("quantity", flat=True)) + quantity
    available = int(declared.quantity) if declared else 0
    if total > available:
        raise _invalid(
            "quantity",
            _("The farm declared %(available)s of this product; its lines would total %(total)s.")
            % {
                "available": format_quantity(available, product),
                "total": format_quantity(total, product),
            },
        )
    lot = int(declared.minimum_lot) if declared else 0
    if 0 < total < lot:
        raise _invalid(
            "quantity",
            _("Below the farm's minimum lot (%(lot)s): its lines would total %(total)s.")
            % {"lot": format_quantity(lot, product), "total": format_quantity(total, product)},
        )


def _check_kitchen_asked(
    week: SupplyWeek,
    producer: Producer,
    kitchen: Kitchen,
    product: Product,
    day: date,
    quantity: int,
    line_pk: int,
) -> None:
    """The farm is one the kitchen's contract names, if it names some, and the kitchen receives no more than it
    asked that day."""
    asked = (
        Demand.objects.filter(week=week, kitchen=kitchen, product=product, day=day)
        .select_related("contract_line")
        .first()
    )
    if quantity and asked is not None and asked.contract_line is not None:
        contract_id = asked.contract_line.contract_id
        farms = named_farms([contract_id]).get(contract_id)
        if farms and producer.pk not in farms:
            names = sorted(Producer.objects.filter(pk__in=farms).values_list("farm_name", flat=True))
            raise _invalid(
                "producer",
                _("The kitchen's contract names the farms that deliver it: %(farms)s.")
                % {"farms": ", ".join(names)},
            )
    received = sum(
        int(q)
        for q in PlanLine.objects.filter(week=week, kitchen=kitchen, product=product, day=day)
        .exclude(pk=line_pk)
        .values_list("quantity", flat=True)
    )
    wanted = int(asked.quantity) if asked else 0
    if received + quantity > wanted:
        raise _invalid(
            "quantity",
            _("The kitchen asked %(wanted)s that day; it would receive %(total)s.")
            % {
                "wanted": format_quantity(wanted, product),
                "total": format_quantity(received + quantity, product),
            },
        )


def _volumes(week: SupplyWeek) -> dict[int, int]:
    """Each farm's volume in the week's lines, in grams-equivalent (``Product.share_factor``)."""
    volumes: dict[int, int] = defaultdict(int)
    for line in PlanLine.objects.filter(week=week).select_related("product"):
        volumes[line.producer_id] += int(line.quantity) * line.product.share_factor
    return volumes


def _producer_weeks_recompute(territory: Territory, from_monday: date) -> None:
    """The ProducerWeek rows of every published week from ``from_monday`` on, in order: each farm's share (as
    planned), volume and the gap carried after it (previous gap + share x group volume - volume)."""
    gaps: dict[int, float] = {}
    for producer_id, gap in (
        ProducerWeek.objects.filter(
            week__territory=territory, week__status=WeekStatus.PUBLISHED, week__monday__lt=from_monday
        )
        .order_by("week__monday")
        .values_list("producer_id", "gap_after")
    ):
        gaps[producer_id] = gap
    weeks = SupplyWeek.objects.filter(
        territory=territory, status=WeekStatus.PUBLISHED, monday__gte=from_monday
    ).order_by("monday")
    for week in weeks:
        volumes = _volumes(week)
        declared = set(Availability.objects.filter(week=week).values_list("producer_id", flat=True))
        shares = shares_in_force(territory, week.monday, declared | set(volumes))
        total = sum(volumes.values())
        keep: list[int] = []
        for producer_id in sorted(set(shares) | set(volumes)):
            share = float(shares.get(producer_id, 0))
            volume = volumes.get(producer_id, 0)
            gap = gaps.get(producer_id, 0.0) + share * total - volume
            gaps[producer_id] = gap
            ProducerWeek.objects.update_or_create(
                week=week,
                producer_id=producer_id,
                defaults={"share": share, "volume": volume, "gap_after": gap},
            )
            keep.append(producer_id)
        ProducerWeek.objects.filter(week=week).exclude(producer_id__in=keep).delete()


def plan_publish(*, week: SupplyWeek, actor: User | None) -> SupplyWeek:
    """Publish a planned week: farms and kitchens see their lines and are told by e-mail; each farm's volume and
    carried gap are recorded (ProducerWeek)."""
    with transaction.atomic():
        locked = _locked_week(week)
        if locked.status != WeekStatus.PLANNED:
            if locked.status == WeekStatus.PUBLISHED:
                raise Conflict(_("This week is already published."))
            raise Conflict(_("Compute the plan again before publishing: demand or availability changed."))
        locked.status = WeekStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at"])
        _producer_weeks_recompute(locked.territory, locked.monday)
        notifications.plan_published(locked)
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.plan.publish",
            subject=_subject(locked),
            version=locked.version,
        )
    _copy_week(locked, week)
    return locked
