"""Names sorted as a French reader expects them."""

from __future__ import annotations

from grenier.core.text import sort_key


def test_vegetables_sort_in_french_order_not_by_character_code() -> None:
    names = [
        "Tomates",
        "Œufs",
        "épinards",
        "Courgettes",
        "Céleri-rave",
        "Oignons",
        "Zucchini",
        "Épinards",
        "Ail",
    ]
    assert sorted(names, key=sort_key) == [
        "Ail",
        "Céleri-rave",
        "Courgettes",
        "Épinards",
        "épinards",
        "Œufs",
        "Oignons",
        "Tomates",
        "Zucchini",
    ]
