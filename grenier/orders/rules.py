"""The two written rules of buying groups, as pure functions (tested on their own).

* **Tier price**: a household pays ``round_half_up(full * percent / 100)`` of its order, rounded once on the
  order's total (not line by line), to the cent, halves upward. The producers get the full price; the pot carries
  ``tier - full`` (positive: the household adds to the pot; negative: it takes from it).
* **Cases**: when a cycle rounds to the producer's case size, each product's total goes to the *nearest* whole
  number of cases: the units beyond the last whole case are kept when they make at least half a case, dropped when
  they make less. So a product is never dropped entirely once the group ordered at least half a case of it.

  - Rounding **up** (at least half a case beyond the last whole one, and the producer's stock allows the extra
    case): the units missing to complete the case are shared among the households that ordered the product, one
    unit at a time, the oldest order first (each pays them at its tier, like the rest of its order). No household
    gets more than ``ceil(missing / households)`` extra units.
  - Rounding **down** (less than half a case beyond the last whole one, or the stock does not reach the next
    case): the units beyond the last whole case are trimmed from the latest orders first — the household that
    changed its line last loses units first, whole lines if needed — so earlier orders are kept whole.

  The same function computes what the coordinator sees before the close, the pot's projection and the close.
"""

from __future__ import annotations

from collections.abc import Sequence


def tier_amount(full_cents: int, percent: int) -> int:
    """What a household at ``percent`` % pays for an order whose full price is ``full_cents`` (halves upward)."""
    if full_cents < 0 or percent < 0:
        raise ValueError("amounts and percentages are not negative")
    return (full_cents * percent + 50) // 100


def case_target(total: int, case_size: int, limit: int | None = None) -> int:
    """The quantity the group buys of a product ordered ``total`` times: the nearest whole number of cases (halves
    up), never above ``limit`` (the producer's stock), rounded down when the next case would pass it."""
    if case_size < 1:
        raise ValueError("a case holds at least one unit")
    if total < 0:
        raise ValueError("quantities are not negative")
    lower = total - total % case_size
    if lower == total:
        return total
    upper = lower + case_size
    if 2 * (total - lower) >= case_size and (limit is None or upper <= limit):
        return upper
    return lower


def case_round(quantities: Sequence[int], case_size: int, limit: int | None = None) -> list[int]:
    """The final quantities of one product's lines, given oldest first: the total rounded to the nearest whole
    case (``case_target``); the missing units shared from the oldest line on, or the extra units taken from the
    newest lines first."""
    if any(q < 0 for q in quantities):
        raise ValueError("quantities are not negative")
    total = sum(quantities)
    target = case_target(total, case_size, limit)
    final = list(quantities)
    if target > total:
        ordering = [index for index, quantity in enumerate(final) if quantity > 0]
        missing = target - total
        while missing:
            for index in ordering:
                if missing == 0:
                    break
                final[index] += 1
                missing -= 1
        return final
    excess = total - target
    for index in range(len(final) - 1, -1, -1):
        if excess == 0:
            break
        trimmed = min(final[index], excess)
        final[index] -= trimmed
        excess -= trimmed
    return final
