"""The two written rules: tier prices rounded half up once per order; totals rounded to the nearest whole case
(never above the stock), the newest lines trimmed first or the missing units shared from the oldest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grenier.orders.rules import case_round, case_target, tier_amount


def test_tier_amounts_round_half_up_to_the_cent() -> None:
    assert tier_amount(1_000, 70) == 700
    assert tier_amount(1_001, 70) == 701  # 700.7
    assert tier_amount(1_005, 130) == 1_307  # 1306.5: halves go up
    assert tier_amount(1_005, 70) == 704  # 703.5
    assert tier_amount(1_003, 70) == 702  # 702.1
    assert tier_amount(999, 100) == 999
    assert tier_amount(0, 130) == 0


@given(st.integers(0, 10_000_000), st.integers(1, 300))
def test_a_tier_amount_is_within_half_a_cent_of_the_exact_share(full: int, percent: int) -> None:
    exact = full * percent / 100
    assert abs(tier_amount(full, percent) - exact) <= 0.5


def test_cases_round_to_the_nearest_case_trimming_the_newest_or_sharing_from_the_oldest() -> None:
    assert case_round([4, 3, 2], 6) == [5, 4, 3]  # 9 → 12 (3 beyond a case is half): 3 more, oldest first
    assert case_round([6, 6], 6) == [6, 6]  # already whole cases
    assert case_round([1, 1], 6) == [0, 0]  # less than half a case: nothing is bought
    assert case_round([5, 5, 5], 1) == [5, 5, 5]
    assert case_round([4, 3], 10) == [6, 4]  # 7 of 10 → 10
    assert case_round([4, 4], 6) == [4, 2]  # 8 → 6 (2 beyond a case < half): the newest loses 2


def test_the_rule_of_the_qa_cycles_no_longer_wipes_a_product() -> None:
    # olive oil 3 of 6, honey 6 of 12, flour 7 of 10, apricots 3 of 5: at least half a case → one whole case
    assert sum(case_round([1, 2], 6)) == 6
    assert sum(case_round([2, 2, 2], 12)) == 12
    assert sum(case_round([3, 4], 10)) == 10
    assert sum(case_round([2, 1], 5)) == 5
    assert case_round([1, 1, 1], 10) == [0, 0, 0]  # 3 of 10: dropped, as the order form and the preview say


def test_rounding_up_shares_the_missing_units_from_the_oldest_line_on() -> None:
    assert case_round([2, 2, 2], 10) == [4, 3, 3]  # 6 → 10: 4 missing, one at a time from the oldest
    assert case_round([3, 0, 1], 6) == [4, 0, 2]  # a line at 0 gets nothing
    assert (
        case_target(9, 6) == 12
        and case_target(8, 6) == 6
        and case_target(3, 6) == 6
        and case_target(2, 6) == 0
    )


def test_rounding_never_goes_above_the_producers_stock() -> None:
    assert case_target(9, 6, limit=10) == 6  # 12 would pass the stock of 10: rounded down
    assert case_round([5, 4], 6, limit=10) == [5, 1]
    assert case_target(9, 6, limit=12) == 12


@given(st.lists(st.integers(0, 40), max_size=20), st.integers(1, 24), st.none() | st.integers(0, 400))
def test_case_rounding_goes_to_the_nearest_whole_case_and_spreads_the_change(
    quantities: list[int], case: int, limit: int | None
) -> None:
    final = case_round(quantities, case, limit)
    total, rounded = sum(quantities), sum(final)
    assert rounded % case == 0 and abs(rounded - total) < case
    assert limit is None or rounded <= max(limit, total - total % case)
    if 2 * (total % case) >= case and (limit is None or total - total % case + case <= limit):
        assert rounded > total  # at least half a case beyond the last whole one: never dropped
    elif total % case:
        assert rounded < total
    if rounded >= total:  # the missing units shared: no line loses, none gains more than its share, 0 stays 0
        buyers = sum(1 for q in quantities if q)
        assert all(
            q <= f <= q + -(-(rounded - total) // max(buyers, 1))
            for f, q in zip(final, quantities, strict=True)
        )
        assert all(f == 0 for f, q in zip(final, quantities, strict=True) if q == 0)
    else:  # trimmed from the newest lines first: the oldest keep theirs
        assert all(0 <= f <= q for f, q in zip(final, quantities, strict=True))
        trimmed = [i for i, (f, q) in enumerate(zip(final, quantities, strict=True)) if f < q]
        assert all(final[i] == 0 for i in range(trimmed[0] + 1, len(final)))
