"""How a basket's price is split between the member and the co-financing agreements. Pure functions, no database.

The rule, in one place:

1. **The member's part** is the price times the member's share (the territory's cap, or a lower share set by the
   referral), **rounded down** to the cent: it can never exceed the cap.
2. **The rest** (price minus the member's part) is paid by the agreements in priority order. First pass: each
   agreement takes its nominal part — a share of the price rounded down to the cent, or its fixed amount per
   basket — limited by what remains of the rest and by what remains of its budget.
3. **What is left after the first pass** (the cents the rounding down left over, the part of an agreement whose
   budget ran out, or shares that do not add up to the rest) is taken in a second pass by the agreements in the
   same priority order, each up to what remains of its budget: so the last cent goes to the first agreement by
   priority, and when a budget runs out the next agreement pays.
4. **What nobody covers** is ``short``: the basket is given all the same; the garden carries it and the coordinator
   is warned beforehand by the budget forecast.

So ``member + sum(parts) + short == price`` always: no cent is lost or invented.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BP = 10_000


@dataclass(frozen=True)
class Funding:
    """An agreement as the split sees it: its nominal part (a share in basis points, or an amount) and its room."""

    key: int
    share_bp: int | None
    amount_cents: int | None
    room_cents: int  # what is left of its budget


@dataclass(frozen=True)
class Split:
    price_cents: int
    member_cents: int
    parts: tuple[tuple[int, int], ...]  # (agreement key, cents), only the ones that pay, in priority order
    short_cents: int

    @property
    def funded_cents(self) -> int:
        return sum(cents for _key, cents in self.parts)


def member_part(price_cents: int, share_bp: int) -> int:
    """The member's part: ``share_bp`` of the price, rounded down (so never above the cap it comes from)."""
    return price_cents * max(0, min(share_bp, BP)) // BP


def split_price(price_cents: int, member_share_bp: int, fundings: Sequence[Funding]) -> Split:
    """Split ``price_cents``: the member's part, each agreement's part (``fundings`` in priority order), the short.

    See the module's docstring for the rule.
    """
    if price_cents < 0:
        raise ValueError("A price is not negative.")
    member = member_part(price_cents, member_share_bp)
    rest = price_cents - member
    taken: dict[int, int] = {}
    rooms = {f.key: max(f.room_cents, 0) for f in fundings}
    for funding in fundings:  # first pass: nominal parts
        nominal = (
            price_cents * min(funding.share_bp, BP) // BP
            if funding.share_bp is not None
            else max(funding.amount_cents or 0, 0)
        )
        take = min(nominal, rest, rooms[funding.key])
        if take > 0:
            taken[funding.key] = taken.get(funding.key, 0) + take
            rooms[funding.key] -= take
            rest -= take
    for funding in fundings:  # second pass: the leftover, first agreement by priority first
        if rest <= 0:
            break
        take = min(rest, rooms[funding.key])
        if take > 0:
            taken[funding.key] = taken.get(funding.key, 0) + take
            rooms[funding.key] -= take
            rest -= take
    parts = tuple((f.key, taken[f.key]) for f in fundings if taken.get(f.key))
    return Split(price_cents=price_cents, member_cents=member, parts=parts, short_cents=rest)
