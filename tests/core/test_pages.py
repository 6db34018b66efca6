"""Every page, for every kind of person: who gets it, who is refused (403), who is told it does not exist (404)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grenier.core.models import Household

from ..conftest import Cast

ROLES = ["coordinator", "committee", "member", "cashier", "producer", "kitchen", "social_worker", "funder"]
EVERYONE = [*ROLES, "outsider", "nobody"]


def _pages(cast: Cast) -> dict[str, tuple[str, set[str], set[str]]]:
    """url, who gets a 200, who gets a 403 (everybody else with no role gets 404)."""
    slug = cast.territory.slug
    own, other = cast.household.pk, cast.other_household.pk
    return {
        "territory_home": (reverse("territory_home", args=[slug]), set(ROLES), set()),
        "household_list": (
            reverse("household_list", args=[slug]),
            {"coordinator"},
            set(ROLES) - {"coordinator"},
        ),
        "household_create": (
            reverse("household_create", args=[slug]),
            {"coordinator"},
            set(ROLES) - {"coordinator"},
        ),
        "household_detail_own": (
            reverse("household_detail", args=[slug, own]),
            {"coordinator", "member"},
            set(),
        ),
        "household_detail_other": (reverse("household_detail", args=[slug, other]), {"coordinator"}, set()),
        "household_leave_own": (
            reverse("household_leave", args=[slug, own]),
            {"coordinator", "member"},
            set(),
        ),
        "household_leave_other": (reverse("household_leave", args=[slug, other]), {"coordinator"}, set()),
        "my_household": (reverse("my_household", args=[slug]), {"member"}, set(ROLES) - {"member"}),
    }


PAGE_NAMES = [
    "territory_home",
    "household_list",
    "household_create",
    "household_detail_own",
    "household_detail_other",
    "household_leave_own",
    "household_leave_other",
    "my_household",
]


@pytest.mark.parametrize("page", PAGE_NAMES)
@pytest.mark.parametrize("who", EVERYONE)
def test_page_access(cast: Cast, login: Callable[..., Client], page: str, who: str) -> None:
    url, allowed, forbidden = _pages(cast)[page]
    response = login(cast[who]).get(url)
    expected = 200 if who in allowed else 403 if who in forbidden else 404
    assert response.status_code == expected, f"{who} on {page}"


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_anonymous_visitors_are_sent_to_log_in(cast: Cast, client: Client, page: str) -> None:
    url = _pages(cast)[page][0]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_home_page_sends_a_person_to_their_territory(cast: Cast, login: Callable[..., Client]) -> None:
    response = login(cast["cashier"]).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("territory_home", args=["vallee"])


def test_a_person_without_any_role_is_told_so(cast: Cast, login: Callable[..., Client]) -> None:
    response = login(cast["nobody"]).get("/")
    assert response.status_code == 200
    assert "aucun rôle" in response.content.decode() or "no role" in response.content.decode()


def test_the_territory_switcher_only_knows_my_territories(cast: Cast, login: Callable[..., Client]) -> None:
    client = login(cast["outsider"])
    assert client.post(reverse("switch_territory"), {"territory": "vallee"}).status_code == 404
    response = client.post(reverse("switch_territory"), {"territory": "ailleurs"})
    assert response["Location"] == reverse("territory_home", args=["ailleurs"])


def test_a_person_with_two_territories_can_switch(cast: Cast, login: Callable[..., Client]) -> None:
    from grenier.core import services
    from grenier.core.models import Role

    coordinator = cast["coordinator"]
    services.role_grant(user=coordinator, territory=cast.elsewhere, role=Role.FUNDER)
    client = login(coordinator)
    page = client.get(reverse("territory_home", args=["vallee"])).content.decode()
    assert 'name="territory"' in page and "Ailleurs" in page
    client.post(reverse("switch_territory"), {"territory": "ailleurs"})
    assert client.get("/")["Location"] == reverse("territory_home", args=["ailleurs"])


def test_a_page_writes_the_current_territory_only_when_it_changes(
    cast: Cast, login: Callable[..., Client]
) -> None:
    """The territory a person was last in is kept in the session; saved at every page, it was a database write
    (and SQLite's write lock) for every page anyone opened."""
    from grenier.core import services
    from grenier.core.models import Role

    coordinator = cast["coordinator"]
    services.role_grant(user=coordinator, territory=cast.elsewhere, role=Role.FUNDER)
    client = login(coordinator)

    def session_writes(slug: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("territory_home", args=[slug])).status_code == 200
        return sum('"django_session"' in q["sql"] and not q["sql"].startswith("SELECT") for q in captured)

    assert session_writes("vallee") == 1  # the first page in a territory records it
    assert session_writes("vallee") == 0
    assert session_writes("vallee") == 0
    assert session_writes("ailleurs") == 1  # another territory's page: recorded
    assert client.get("/")["Location"] == reverse("territory_home", args=["ailleurs"])
    assert session_writes("vallee") == 1
    assert client.get("/")["Location"] == reverse("territory_home", args=["vallee"])


@pytest.mark.parametrize("who", ["committee", "funder", "cashier", "producer", "kitchen", "social_worker"])
def test_home_pages_show_no_household_personal_data(
    cast: Cast, login: Callable[..., Client], who: str
) -> None:
    page = login(cast[who]).get(reverse("territory_home", args=["vallee"])).content.decode()
    assert "Martin-Test" not in page and "Voisin-Test" not in page
    assert cast.household.card_number[:4] + " " not in page


@pytest.mark.parametrize("who", ["committee", "funder", "coordinator"])
def test_aggregated_figures_are_shown_to_who_may_read_them(
    cast: Cast, login: Callable[..., Client], who: str
) -> None:
    response = login(cast[who]).get(reverse("territory_home", args=["vallee"]))
    assert response.context["figures"].households_active == 2
    assert response.context["figures"].persons == 3


def test_navigation_fits_the_role(cast: Cast, login: Callable[..., Client]) -> None:
    coordinator_page = (
        login(cast["coordinator"]).get(reverse("territory_home", args=["vallee"])).content.decode()
    )
    member_page = login(cast["member"]).get(reverse("territory_home", args=["vallee"])).content.decode()
    households_link = f'href="{reverse("household_list", args=["vallee"])}"'
    my_link = f'href="{reverse("my_household", args=["vallee"])}"'
    assert households_link in coordinator_page and my_link not in coordinator_page
    assert my_link in member_page and households_link not in member_page


def test_a_coordinator_adds_a_household_through_the_form(cast: Cast, login: Callable[..., Client]) -> None:
    client = login(cast["coordinator"])
    form = {
        "name": "Foyer Formulaire",
        "email": "",
        "phone": "",
        "monthly_resources": "1 234,50",
        "joined_on": "2026-01-15",
        "idempotency_key": "form-key-0001",
        "persons-TOTAL_FORMS": "3",
        "persons-INITIAL_FORMS": "0",
        "persons-0-first_name": "Zoé",
        "persons-0-birth_date": "1991-04-02",
        "persons-1-first_name": "Nil",
        "persons-1-birth_date": "2021-08-09",
        "persons-2-first_name": "",
        "persons-2-birth_date": "",
    }
    url = reverse("household_create", args=["vallee"])
    response = client.post(url, form)
    household = Household.objects.get(name="Foyer Formulaire")
    assert response.status_code == 302
    assert household.monthly_resources_cents == 123450
    assert household.persons.count() == 2
    client.post(url, form)  # the same form sent twice (a double click, a reload)
    assert Household.objects.filter(name="Foyer Formulaire").count() == 1
    listing = client.get(reverse("household_list", args=["vallee"]) + "?q=Formulaire").content.decode()
    assert "Foyer Formulaire" in listing


def test_the_form_explains_what_is_wrong(cast: Cast, login: Callable[..., Client]) -> None:
    client = login(cast["coordinator"])
    response = client.post(
        reverse("household_create", args=["vallee"]),
        {
            "name": "",
            "monthly_resources": "beaucoup",
            "joined_on": "2026-01-15",
            "persons-TOTAL_FORMS": "1",
            "persons-INITIAL_FORMS": "0",
            "persons-0-first_name": "",
            "persons-0-birth_date": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"name", "monthly_resources"}
    page = response.content.decode()
    assert 'aria-invalid="true"' in page


def test_a_form_with_no_person_is_refused(cast: Cast, login: Callable[..., Client]) -> None:
    client = login(cast["coordinator"])
    response = client.post(
        reverse("household_create", args=["vallee"]),
        {
            "name": "Foyer Vide",
            "joined_on": "2026-01-15",
            "persons-TOTAL_FORMS": "1",
            "persons-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not Household.objects.filter(name="Foyer Vide").exists()
    assert response.context["form"].non_field_errors()


def test_a_member_leaves_and_is_logged_out(cast: Cast, login: Callable[..., Client]) -> None:
    client = login(cast["member"])
    url = reverse("household_leave", args=["vallee", cast.household.pk])
    refused = client.post(url, {"on": "2026-11-01"})  # without the confirmation box
    assert refused.status_code == 200
    cast.household.refresh_from_db()
    assert cast.household.left_on is None
    response = client.post(url, {"on": cast.household.joined_on.isoformat(), "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    cast.household.refresh_from_db()
    assert cast.household.left_on is not None and cast.household.email == ""
    assert client.get(reverse("territory_home", args=["vallee"])).status_code == 302  # logged out


def test_french_by_default_and_english_on_request(cast: Cast, login: Callable[..., Client]) -> None:
    client = login(cast["coordinator"])
    url = reverse("territory_home", args=["vallee"])
    assert 'lang="fr"' in client.get(url).content.decode()
    assert "Foyers" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": url})
    page = client.get(url).content.decode()
    assert 'lang="en"' in page and "Households" in page


def test_login_by_email_any_case(cast: Cast, client: Client) -> None:
    from ..conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "Coordinator@Test.Grenier ", "password": PASSWORD})
    assert response.status_code == 302
    client.logout()
    bad = client.post(reverse("login"), {"username": "coordinator@test.grenier", "password": "wrong"})
    assert bad.status_code == 200 and not bad.wsgi_request.user.is_authenticated


def test_password_reset_sends_a_link(cast: Cast, client: Client, mailoutbox: list) -> None:
    response = client.post(reverse("password_reset"), {"email": "coordinator@test.grenier"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
    client.post(reverse("password_reset"), {"email": "unknown@test.grenier"})
    assert len(mailoutbox) == 1  # nobody learns whether an address has an account


def test_pages_load_nothing_from_another_site(cast: Cast, login: Callable[..., Client]) -> None:
    import re

    client = login(cast["coordinator"])
    for url in [
        reverse("territory_home", args=["vallee"]),
        reverse("household_create", args=["vallee"]),
        "/api/v1/docs",
    ]:
        page = client.get(url).content.decode()
        external = re.findall(r'(?:src|href)="(https?:)?//[^"]+"', page)
        assert external == [], url
