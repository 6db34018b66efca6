"""Long lists come a phone page at a time (issue 13, item 11): ``core.pages.PAGE_SIZE`` rows, "page x of y", the
filters kept, and any page number answered (never a 500)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.test import Client
from django.urls import reverse

from grenier.core import services
from grenier.core.pages import PAGE_SIZE

from ..conftest import Cast


def test_the_households_list_shows_a_phone_page_at_a_time(cast: Cast, login: Callable[..., Client]) -> None:
    for n in range(PAGE_SIZE + 3):
        services.household_join(
            territory=cast.territory,
            name=f"Foyer Liste {n:02d}",
            persons=[services.PersonInput("Lou", date(1980, 1, 1))],
            actor=None,
        )
    client = login(cast["coordinator"])
    url = reverse("household_list", args=[cast.territory.slug])
    total = len(cast.territory.households.filter(left_on__isnull=True))
    first, second = client.get(url), client.get(url, {"page": 2})
    assert len(first.context["page"].object_list) == PAGE_SIZE
    assert len(second.context["page"].object_list) == total - PAGE_SIZE
    shown = {h.pk for page in (first, second) for h in page.context["page"].object_list}
    assert len(shown) == total  # nobody on two pages, nobody left out
    assert 'rel="next"' in first.content.decode() and 'rel="next"' not in second.content.decode()
    searched = client.get(url, {"q": "Liste", "page": "2"})
    assert "q=Liste" in searched.content.decode()  # the filter carries over to the other pages
    for bad in ("0", "-1", "999", "nonsense", "1e9"):
        assert client.get(url, {"page": bad}).status_code == 200
