"""The split of a basket's price: the member's part never above its cap, the whole always exactly the price."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grenier.baskets.split import BP, Funding, member_part, split_price

fundings = st.lists(
    st.builds(
        Funding,
        key=st.integers(min_value=1, max_value=10**6),
        share_bp=st.one_of(st.none(), st.integers(min_value=1, max_value=BP)),
        amount_cents=st.integers(min_value=1, max_value=50_000),
        room_cents=st.integers(min_value=0, max_value=200_000),
    ),
    max_size=5,
    unique_by=lambda f: f.key,
)


@given(
    price=st.integers(min_value=0, max_value=1_000_000),
    cap=st.integers(min_value=0, max_value=BP),
    agreements=fundings,
)
def test_the_split_sums_exactly_to_the_price_and_respects_caps_and_budgets(
    price: int, cap: int, agreements: list[Funding]
) -> None:
    split = split_price(price, cap, agreements)
    assert split.member_cents + split.funded_cents + split.short_cents == price
    assert split.member_cents * BP <= price * cap  # never above the cap
    assert split.member_cents == member_part(price, cap)
    rooms = {f.key: f.room_cents for f in agreements}
    assert all(0 < cents <= rooms[key] for key, cents in split.parts)
    assert split.short_cents >= 0
    # short only when every budget is spent
    if split.short_cents:
        taken = dict(split.parts)
        assert all(taken.get(f.key, 0) == f.room_cents for f in agreements)


def test_the_rounding_cent_goes_to_the_first_agreement() -> None:
    # 9,99 €: the member 30 % = 2,997 → 2,99 €; A 50 % = 4,995 → 4,99; B 20 % = 1,998 → 1,99; the two cents
    # the rounding left over go to A, first by priority.
    split = split_price(999, 3_000, [Funding(1, 5_000, None, 10_000), Funding(2, 2_000, None, 10_000)])
    assert split.member_cents == 299
    assert dict(split.parts) == {1: 501, 2: 199}
    assert split.short_cents == 0


def test_an_exhausted_budget_passes_to_the_next_agreement() -> None:
    split = split_price(1_500, 3_000, [Funding(1, 5_000, None, 300), Funding(2, 2_000, None, 10_000)])
    assert split.member_cents == 450
    assert dict(split.parts) == {1: 300, 2: 750}
    assert split.short_cents == 0


def test_nobody_left_to_pay_is_short() -> None:
    split = split_price(1_500, 3_000, [Funding(1, 5_000, None, 100), Funding(2, None, 300, 200)])
    assert dict(split.parts) == {1: 100, 2: 200}
    assert split.short_cents == 1_500 - 450 - 300


def test_a_lower_part_set_by_a_referral_is_kept() -> None:
    split = split_price(2_000, 1_000, [Funding(1, None, 2_000, 10_000)])
    assert split.member_cents == 200
    assert dict(split.parts) == {1: 1_800}
