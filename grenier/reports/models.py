"""What the reports keep: one aggregate the database writes as the other modules write, never the reports' code."""

from __future__ import annotations

from django.db import models

from grenier.core.models import Household, Territory

# Children at the end of each month of a year, packed five bits a month (month 1 in the lowest bits): a person
# who is a child all year adds one to each of the twelve fields.
CHILD_BITS = 5
CHILD_FIELD = (1 << CHILD_BITS) - 1
ALL_MONTHS_CHILD = ((1 << (CHILD_BITS * 12)) - 1) // CHILD_FIELD
ALL_MONTHS = (1 << 12) - 1


def month_bits(first: int, last: int) -> int:
    """The months ``first`` to ``last`` (1 to 12, included) as a mask: month 1 is the lowest bit."""
    return sum(1 << (month - 1) for month in range(first, last + 1))


def children_at_end_of(packed: int, month: int) -> int:
    return (packed >> (CHILD_BITS * (month - 1))) & CHILD_FIELD


class HouseholdReach(models.Model):
    """Which months of a year a territory's schemes reached a household, and what the households reached indicators
    group by, so that counting the households reached in a period is one range of rows (issue 19).

    ``fund_months``: the months the common fund gave it a month line (a monthly run of ``territory``);
    ``basket_months``: the months it collected a solidarity basket at a pickup point of one of ``territory``'s
    gardens; month 1 is the lowest bit. ``home_territory``: the household's territory as it is now (the indicators
    count a territory's own households); ``persons``: its persons now; ``children``: how many of them are children
    at the end of each month of ``year`` (``CHILD_BITS`` bits a month, born after that day ``CHILD_AGE_LIMIT`` years
    before, or undated and marked as a child); ``resources_cents``: its declared monthly resources now.

    Kept true by the database in the writing transaction, whoever writes (migration reports.0001): triggers on
    ``fund_monthline`` and ``baskets_distributionline`` add a month when a line is written or collected and work
    the key's months out again from its lines when one is moved, uncollected or deleted; triggers on
    ``core_household`` and ``core_householdperson`` move the territory, the resources and the persons of the
    household's rows. A row whose months fell to zero stays (it counts nowhere). The buying groups' memberships are
    not kept here: an open membership reaches every month to come without any write, so the indicators read the
    memberships themselves (a few rows a group)."""

    pk = models.CompositePrimaryKey("territory", "year", "household")
    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    year = models.PositiveSmallIntegerField()
    household = models.ForeignKey(
        Household, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    home_territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    fund_months = models.IntegerField(default=0)
    basket_months = models.IntegerField(default=0)
    persons = models.IntegerField(default=0)
    children = models.BigIntegerField(default=0)
    resources_cents = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["household", "year"], name="reports_reach_household")]

    def __str__(self) -> str:
        return f"{self.territory_id} {self.year} {self.household_id}: {self.fund_months} {self.basket_months}"


# The periods the tallies keep: 0 the whole year, 1 to 12 its months.
YEAR_PERIOD = 0
# A household's size in the tallies: 1 (one person or none), 2, 3 (3 or 4 persons), 5 (5 or more).
SIZE_CLASSES = (1, 2, 3, 5)
# A band tally's key for households that declared no resources.
UNDECLARED = -1


class _ReachTally(models.Model):
    """What both tallies of ``HouseholdReach`` share: the territory whose rows they count, the year, the households'
    own territory, the period (0 the whole year, 1 to 12 its months) and the count ``n``; each adds its own key."""

    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    year = models.PositiveSmallIntegerField()
    home_territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    period = models.PositiveSmallIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ReachCount(_ReachTally):
    """How many of ``HouseholdReach``'s rows the fund or the baskets reached in a period (``period`` 0: the whole
    ``year``; 1 to 12: that month), by whether the fund reached them then (``fund``, 1 or 0), whether the baskets
    did (``baskets``) and their size class (``size``: 1 for one person or none, 2, 3 for 3 or 4, 5 for 5 or more).

    Kept true by triggers on ``reports_householdreach`` in the writing transaction (migration reports.0002): a row
    inserted adds one to each of its periods, deleted takes one off, changed moves one from each period whose key
    it left to the one it joined. A key whose count fell to zero stays, at zero."""

    pk = models.CompositePrimaryKey(
        "territory", "year", "home_territory", "period", "fund", "baskets", "size"
    )
    fund = models.PositiveSmallIntegerField()
    baskets = models.PositiveSmallIntegerField()
    size = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"{self.territory_id} {self.year}/{self.period}: {self.n}"


class ReachBand(_ReachTally):
    """How many of ``HouseholdReach``'s rows the fund or the baskets reached in a period (as ``ReachCount``) by
    their declared resources per consumption unit at the period's end, in whole euros rounded up (``euros``;
    ``UNDECLARED`` when no resources are declared). A household is at most a bound of B cents, B a whole number of
    euros, exactly when its ``euros`` is at most B / 100: the bands of any scale whose bounds are whole euros are
    sums of these counts, whatever the scale in force, so a new scale changes nothing kept.

    Kept true as ``ReachCount`` is, by the same triggers."""

    pk = models.CompositePrimaryKey("territory", "year", "home_territory", "period", "euros")
    euros = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.territory_id} {self.year}/{self.period} {self.euros} €: {self.n}"


class BasketTally(models.Model):
    """The solidarity baskets a household collected in a period (``period`` 0: the whole ``year``; 1 to 12: that
    month) at the pickup points of ``territory``'s gardens, by basket size: how many (``n``), their price and the
    members' part. A period's baskets, their households (those with ``n`` above 0) and both sums, in all and by
    size, are one range of a few thousand rows, not the period's lines through their sheets, pickup points and
    gardens (35,000 lines a year at 100,000 households).

    Kept true by triggers in the writing transaction (migration reports.0003): a line collected adds its basket
    to its month and its year, a line uncollected, deleted or changed (household, sheet, day, offer, price,
    members' part) takes it off where it was and adds it where it is; an offer whose size changes moves its
    collected lines from the old size to the new one. A key whose count fell to zero stays, at zero."""

    pk = models.CompositePrimaryKey("territory", "year", "period", "size", "household")
    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    year = models.PositiveSmallIntegerField()
    period = models.PositiveSmallIntegerField()
    size = models.CharField(max_length=10)
    household = models.ForeignKey(
        Household, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    n = models.IntegerField(default=0)
    price_cents = models.BigIntegerField(default=0)
    member_cents = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.territory_id} {self.year}/{self.period} {self.size} {self.household_id}: {self.n}"
