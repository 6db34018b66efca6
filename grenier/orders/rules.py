"""The two written rules of buying groups, as pure functions (tested on their own).

* **Tier price**: a household pays ``round_half_up(full * percent / 100)`` of its order, rounded once on the
  order's total (not line by line), to the cent, halves upward. The producers get the full price; the pot carries
  ``tier - full`` (positive: the household adds to the pot; negative: it takes from it).
* **Cases**: when a cycle rounds to the producer's case size, each product's total is rounded *down* to whole cases
  (a group never buys what nobody ordered); the missing units are trimmed from the latest orders first — the
  household that changed its line last loses units first, whole lines if needed — so earlier orders are kept whole.
"""

from __future__ import annotations

from collections.abc import Sequence


def tier_amount(full_cents: int, percent: int) -> int:
    """What a household at ``percent`` % pays for an order whose full price is ``full_cents`` (halves upward)."""
    if full_cents < 0 or percent < 0:
        raise ValueError("amounts and percentages are not negative")
    return (full_cents * percent + 50) // 100


def case_round(quantities: Sequence[int], case_size: int) -> list[int]:
    """The final quantities of one product's lines, given oldest first: the total rounded down to whole cases, the
    units missing from the case taken from the newest lines first."""
    if case_size < 1:
        raise ValueError("a case holds at least one unit")
    total = sum(quantities)
    excess = total % case_size
    final = list(quantities)
    for index in range(len(final) - 1, -1, -1):
        if excess == 0:
            break
        trimmed = min(final[index], excess)
        final[index] -= trimmed
        excess -= trimmed
    return final
