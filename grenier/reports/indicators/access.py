"""Access to food: the households the schemes reached (each counted once), the food credit issued and spent, the
solidarity baskets and the members' part of them, the buying groups' orders at each tier."""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.baskets.models import BasketSize, DistributionLine, LineStatus
from grenier.core.models import Household, HouseholdPerson
from grenier.fund.models import MonthLine, Refund, RunTotals, StoreHour
from grenier.orders.models import GroupMembership, Order, OrderStatus
from grenier.reports.registry import (
    Module,
    Part,
    Result,
    Scope,
    Theme,
    Unit,
    between,
    between_instants,
    indicator,
    percent,
)


def fund_households(scope: Scope) -> QuerySet[MonthLine]:
    """The households that received a month of the fund in the period."""
    return between(MonthLine.objects.filter(run__territory=scope.territory), "month", scope)


def basket_lines(scope: Scope) -> QuerySet[DistributionLine]:
    """The baskets collected in the period."""
    return between(
        DistributionLine.objects.filter(
            sheet__pickup_point__garden__territory=scope.territory, status=LineStatus.COLLECTED
        ),
        "on",
        scope,
    )


def group_members(scope: Scope) -> QuerySet[GroupMembership]:
    """The households that were members of a buying group for at least a day of the period."""
    return GroupMembership.objects.filter(group__territory=scope.territory, joined_on__lte=scope.end).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=scope.start)
    )


SIZES = ((1, gettext_lazy("1 person")), (2, gettext_lazy("2 persons")), (3, gettext_lazy("3 or 4 persons")))


@indicator(
    "households_reached",
    theme=Theme.ACCESS,
    name=gettext_lazy("Households reached"),
    definition=gettext_lazy(
        "The households of the territory that, during the period, received at least one month of food credit "
        "from the common fund, collected at least one solidarity basket, or were members of a buying group for "
        "at least one day. A household reached by several of them is counted once. Read from the fund's monthly "
        "lines, the baskets' distribution sheets and the buying groups' memberships. Not counted: people met "
        "only at an activity, households registered but reached by none of the three."
    ),
    unit=Unit.HOUSEHOLDS,
)
def households_reached(scope: Scope) -> Result:
    modules = [m for m in (Module.FUND, Module.BASKETS, Module.ORDERS) if scope.unmeasured(m) is None]
    if not modules:
        return Result.not_measured(
            _("Not measured: none of the fund, the baskets or the buying groups ran here.")
        )
    persons = (
        HouseholdPerson.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    reached = (
        Household.objects.filter(territory=scope.territory)
        .annotate(
            in_fund=Exists(fund_households(scope).filter(household=OuterRef("pk"))),
            in_baskets=Exists(basket_lines(scope).filter(household=OuterRef("pk"))),
            in_groups=Exists(group_members(scope).filter(household=OuterRef("pk"))),
            size=Coalesce(Subquery(persons, output_field=IntegerField()), Value(0)),
        )
        .filter(Q(in_fund=True) | Q(in_baskets=True) | Q(in_groups=True))
    )
    sizes = {
        row["size"]: row["n"] for row in reached.order_by().values("size").annotate(n=Count("pk")).order_by()
    }
    total = sum(sizes.values())
    by_module = reached.aggregate(
        fund=Count("pk", filter=Q(in_fund=True)),
        baskets=Count("pk", filter=Q(in_baskets=True)),
        groups=Count("pk", filter=Q(in_groups=True)),
    )
    parts = [
        Part("fund", _("in the common fund"), by_module["fund"]),
        Part("baskets", _("collected a solidarity basket"), by_module["baskets"]),
        Part("groups", _("in a buying group"), by_module["groups"]),
    ]
    bucket = {1: 0, 2: 0, 3: 0, 5: 0}
    for size, n in sizes.items():
        bucket[1 if size <= 1 else 2 if size == 2 else 3 if size <= 4 else 5] += n
    parts += [Part(f"size_{size}", str(label), bucket[size]) for size, label in SIZES]
    parts.append(Part("size_5", _("5 persons or more"), bucket[5]))
    return Result(total, parts=tuple(parts))


@indicator(
    "credit_issued",
    theme=Theme.ACCESS,
    name=gettext_lazy("Food credit issued"),
    definition=gettext_lazy(
        "The food credit the common fund allocated to its households by the monthly runs of the months in the "
        "period, in euros. Read from the runs' totals. Not counted: credit carried over from an earlier month, "
        "the households' contributions."
    ),
    unit=Unit.CENTS,
    modules=(Module.FUND,),
)
def credit_issued(scope: Scope) -> Result:
    found = between(RunTotals.objects.filter(run__territory=scope.territory), "run__month", scope).aggregate(
        credit=Sum("allocation_cents")
    )
    return Result(int(found["credit"] or 0))


def _spent_by_kind(scope: Scope) -> dict[str, int]:
    spent: dict[str, int] = {}
    hours = StoreHour.objects.filter(
        territory=scope.territory, hour__gte=scope.start_at, hour__lt=scope.end_at
    )
    for row in hours.order_by().values("store__kind").annotate(credit=Sum("credit_cents")):
        kind = row["store__kind"] or ""
        spent[kind] = spent.get(kind, 0) + int(row["credit"] or 0)
    refunds = between_instants(Refund.objects.filter(payment__territory=scope.territory), "created_at", scope)
    for row in refunds.order_by().values("payment__store__kind").annotate(credit=Sum("credit_cents")):
        kind = row["payment__store__kind"] or ""
        spent[kind] = spent.get(kind, 0) - int(row["credit"] or 0)
    return spent


@indicator(
    "credit_spent",
    theme=Theme.ACCESS,
    name=gettext_lazy("Food credit spent"),
    definition=gettext_lazy(
        "The food credit the households spent at the fund's stores during the period, refunds taken off, in "
        "euros, by kind of store. Read from the stores' payments by hour and the refunds. Not counted: the part "
        "of a purchase paid in euros at the till."
    ),
    unit=Unit.CENTS,
    modules=(Module.FUND,),
)
def credit_spent(scope: Scope) -> Result:
    spent = _spent_by_kind(scope)
    parts = tuple(
        Part(kind or "-", kind or _("kind not given"), cents)
        for kind, cents in sorted(spent.items(), key=lambda item: (-item[1], item[0]))
    )
    return Result(sum(spent.values()), parts=parts)


@indicator(
    "credit_share_spent",
    theme=Theme.ACCESS,
    name=gettext_lazy("Share of the food credit spent"),
    definition=gettext_lazy(
        "The food credit spent during the period divided by the credit issued for the months of the period, in "
        "percent. Above 100 % when households spent credit carried over from before. Not measured when no "
        "credit was issued in the period."
    ),
    unit=Unit.PERCENT,
    modules=(Module.FUND,),
)
def credit_share_spent(scope: Scope) -> Result:
    spent, issued = sum(_spent_by_kind(scope).values()), credit_issued(scope).value or 0
    share = percent(spent, issued)
    if share is None:
        return Result.not_measured(_("Not measured: no credit was issued in this period."))
    return Result(share, ratio=(spent, issued))


def _baskets(scope: Scope) -> dict[str, int]:
    found = basket_lines(scope).aggregate(
        baskets=Count("pk"),
        households=Count("household", distinct=True),
        price=Sum("price_cents"),
        member=Sum("member_part_cents"),
    )
    return {key: int(value or 0) for key, value in found.items()}


@indicator(
    "baskets_distributed",
    theme=Theme.ACCESS,
    name=gettext_lazy("Solidarity baskets collected"),
    definition=gettext_lazy(
        "The solidarity baskets collected at the pickup points on a day of the period, by size. Read from the "
        "distribution sheets checked off. Not counted: baskets due but not collected, baskets skipped for an "
        "absence."
    ),
    unit=Unit.COUNT,
    modules=(Module.BASKETS,),
)
def baskets_distributed(scope: Scope) -> Result:
    found = _baskets(scope)
    by_size = {
        row["offer__size"]: (row["n"], row["households"])
        for row in basket_lines(scope)
        .order_by()
        .values("offer__size")
        .annotate(n=Count("pk"), households=Count("household", distinct=True))
    }
    parts = tuple(
        Part(size, str(label), by_size.get(size, (0, 0))[0], by_size.get(size, (0, 0))[1])
        for size, label in BasketSize.choices
    )
    return Result(found["baskets"], support=found["households"], parts=parts)


@indicator(
    "baskets_member_part",
    theme=Theme.ACCESS,
    name=gettext_lazy("Members' part of the baskets"),
    definition=gettext_lazy(
        "What the households paid of the price of the baskets they collected in the period, in euros; the rest "
        "was paid by the co-financing agreements. Read from the distribution lines. Not counted: baskets not "
        "collected."
    ),
    unit=Unit.CENTS,
    modules=(Module.BASKETS,),
)
def baskets_member_part(scope: Scope) -> Result:
    found = _baskets(scope)
    return Result(
        found["member"],
        support=found["households"],
        parts=(
            Part("price", _("full price of the baskets"), found["price"], found["households"]),
            Part(
                "funded", _("paid by the co-financing"), found["price"] - found["member"], found["households"]
            ),
        ),
    )


@indicator(
    "baskets_member_share",
    theme=Theme.ACCESS,
    name=gettext_lazy("Members' share of the baskets' price"),
    definition=gettext_lazy(
        "The members' part divided by the full price of the baskets collected in the period, in percent. Not "
        "counted: baskets not collected. Not measured when no basket was collected in the period."
    ),
    unit=Unit.PERCENT,
    modules=(Module.BASKETS,),
)
def baskets_member_share(scope: Scope) -> Result:
    found = _baskets(scope)
    share = percent(found["member"], found["price"])
    if share is None:
        return Result.not_measured(_("Not measured: no basket was collected in this period."))
    return Result(share, support=found["households"], ratio=(found["member"], found["price"]))


def _orders(scope: Scope) -> QuerySet[Order]:
    return between(
        Order.objects.filter(cycle__group__territory=scope.territory).exclude(status=OrderStatus.CANCELLED),
        "cycle__delivery_date",
        scope,
    )


@indicator(
    "orders_by_tier",
    theme=Theme.ACCESS,
    name=gettext_lazy("Buying-group orders, by tier"),
    definition=gettext_lazy(
        "The orders placed in the buying groups' cycles delivered during the period, by the share of the price "
        "the household paid (its solidarity tier). Read from the orders. Not counted: cancelled orders."
    ),
    unit=Unit.COUNT,
    modules=(Module.ORDERS,),
)
def orders_by_tier(scope: Scope) -> Result:
    rows = list(
        _orders(scope)
        .order_by()
        .values("tier_percent")
        .annotate(n=Count("pk"), households=Count("household", distinct=True))
        .order_by("tier_percent")
    )
    parts = tuple(
        Part(
            str(row["tier_percent"]),
            _("paying %(percent)s %% of the price") % {"percent": row["tier_percent"]},
            row["n"],
            row["households"],
        )
        for row in rows
    )
    households = _orders(scope).aggregate(n=Count("household", distinct=True))["n"]
    return Result(sum(row["n"] for row in rows), support=households, parts=parts)


@indicator(
    "orders_solidarity",
    theme=Theme.ACCESS,
    name=gettext_lazy("Solidarity received in the buying groups"),
    definition=gettext_lazy(
        "What the households of the tiers below the full price did not pay of their orders delivered during "
        "the period, in euros: what the solidarity pot, fed by the higher tiers and the funders, paid for them. "
        "Read from the closed cycles' orders. Not counted: cycles not closed yet, orders cancelled."
    ),
    unit=Unit.CENTS,
    modules=(Module.ORDERS,),
)
def orders_solidarity(scope: Scope) -> Result:
    found = (
        _orders(scope)
        .filter(due_cents__isnull=False, tier_percent__lt=100)
        .aggregate(full=Sum("full_cents"), due=Sum("due_cents"), households=Count("household", distinct=True))
    )
    full, due = int(found["full"] or 0), int(found["due"] or 0)
    return Result(
        full - due,
        support=found["households"],
        parts=(
            Part("full", _("full price"), full, found["households"]),
            Part("paid", _("paid by the households"), due, found["households"]),
        ),
    )
