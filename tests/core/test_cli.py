"""The ``grenier`` command: the demo territory (twice, adding nothing) and API tokens."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from grenier.core import demo, services
from grenier.core.models import ApiToken, Household, HouseholdPerson, Role, Territory, TerritoryRole, User
from grenier.supply import demo as supply_demo

from ..conftest import Cast

# People named in the seed documents (../shared/seeds): none may appear in the demo.
SEED_PEOPLE = [
    "Gallouet",
    "Paturel",
    "Bonnin",
    "Exposito",
    "Capucine",
    "Dominique",
    "Didier",
    "Nadia",
    "Odette",
    "Monique",
]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_demo_loads_once_and_again_adds_nothing(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        supply_demo, "WEEKS", 3
    )  # the supply history's length is tested in tests/supply/test_demo.py
    out, _err = run("demo", "--no-serve", "--households", "40")
    assert "grenier-demo" in out
    for login in demo.LOGINS:
        assert login.email in out
    counts = (
        Household.objects.count(),
        HouseholdPerson.objects.count(),
        User.objects.count(),
        TerritoryRole.objects.count(),
    )
    run("demo", "--no-serve", "--households", "40")
    assert (
        Household.objects.count(),
        HouseholdPerson.objects.count(),
        User.objects.count(),
        TerritoryRole.objects.count(),
    ) == counts
    territory = Territory.objects.get(slug="demo")
    for login in demo.LOGINS:
        user = User.objects.get(email=login.email)
        assert user.check_password(demo.DEMO_PASSWORD)
        assert TerritoryRole.objects.filter(user=user, territory=territory, role=login.role).exists()


def test_the_full_demo_has_the_shape_the_seeds_describe(db: None) -> None:
    territory = demo.build(log=lambda _line: None)
    roles = dict.fromkeys(Role, 0)
    for role in TerritoryRole.objects.filter(territory=territory).values_list("role", flat=True):
        roles[Role(role)] += 1
    assert roles[Role.PRODUCER] == 6 and roles[Role.KITCHEN] == 2 and roles[Role.CASHIER] == 5
    assert roles[Role.SOCIAL_WORKER] == 3 and roles[Role.FUNDER] == 3 and roles[Role.COMMITTEE] == 15
    households = Household.objects.filter(territory=territory)
    assert 440 <= households.count() <= 470
    sizes = [h.persons.count() for h in households.prefetch_related("persons")]
    assert sizes.count(1) > 0.2 * len(sizes) and max(sizes) >= 5
    assert households.filter(left_on__isnull=False).exists()  # some have left, as people do
    resources = sorted(h.monthly_resources_cents or 0 for h in households.filter(left_on__isnull=True))
    assert 60_000 <= resources[len(resources) // 2] <= 250_000  # a median of modest means
    names = " ".join(
        [*User.objects.values_list("display_name", flat=True), *households.values_list("name", flat=True)]
    )
    names += " ".join(HouseholdPerson.objects.values_list("first_name", flat=True))
    for real_person in SEED_PEOPLE:
        assert real_person not in names


def test_token_create_prints_a_key_once_and_revoke_stops_it(cast: Cast) -> None:
    out, err = run(
        "token", "create", "--user", "cashier@test.grenier", "--territory", "vallee", "--name", "caisse 1"
    )
    key = out.strip()
    assert re.fullmatch(r"grn_[A-Za-z0-9_-]{40,}", key)
    assert "only once" in err
    token = ApiToken.objects.get(user=cast["cashier"])
    assert token.name == "caisse 1" and key not in token.key_hash
    assert services.token_authenticate(key) is not None
    listing, _ = run("token", "list", "--user", "cashier@test.grenier")
    assert token.prefix in listing and key not in listing
    run("token", "revoke", str(token.pk))
    assert services.token_authenticate(key) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "ghost@test.grenier", "--territory", "vallee"], "No active user"),
        (["--user", "cashier@test.grenier", "--territory", "nowhere"], "No territory"),
        (["--user", "outsider@test.grenier", "--territory", "vallee"], "no role|aucun rôle"),
    ],
)
def test_token_create_explains_bad_input(cast: Cast, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("token", "create", *args)
