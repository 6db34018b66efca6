"""The two written rules: tier prices rounded half up once per order; totals rounded down to whole cases, the
newest lines trimmed first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grenier.orders.rules import case_round, tier_amount


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


def test_cases_round_down_and_trim_the_newest_lines_first() -> None:
    assert case_round([4, 3, 2], 6) == [4, 2, 0]  # 9 → 6: the newest loses its 2, then the one before 1
    assert case_round([6, 6], 6) == [6, 6]  # already whole cases
    assert case_round([2, 1], 6) == [0, 0]  # less than a case: nothing is bought
    assert case_round([5, 5, 5], 1) == [5, 5, 5]


@given(st.lists(st.integers(0, 40), max_size=20), st.integers(1, 24))
def test_case_rounding_keeps_whole_cases_and_never_adds(quantities: list[int], case: int) -> None:
    final = case_round(quantities, case)
    assert sum(final) % case == 0
    assert sum(quantities) - case < sum(final) <= sum(quantities)
    assert all(0 <= f <= q for f, q in zip(final, quantities, strict=True))
    trimmed = [i for i, (f, q) in enumerate(zip(final, quantities, strict=True)) if f < q]
    if trimmed:  # every line after the first trimmed one lost everything: the oldest keep theirs
        assert all(final[i] == 0 for i in range(trimmed[0] + 1, len(final)))
