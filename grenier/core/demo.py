"""The demo territory: fictional, shaped on the seeds' figures, never naming a real person from them.

Running it again keeps what exists and adds nothing twice: every household carries a stable idempotency key and
every person a stable e-mail. Other apps extend the demo with a ``demo.py`` module that has ``extend(territory, log)``.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from types import ModuleType

from django.apps import AppConfig, apps
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from grenier.core import services
from grenier.core.models import Role, Territory, User

DEMO_SLUG = "demo"
DEMO_NAME = "Vallée du Grenier (démo)"
DEMO_PASSWORD = "grenier-demo"  # noqa: S105 - published on purpose: the demo's shared password
DEMO_DOMAIN = "demo.grenier.test"
HOUSEHOLD_COUNT = 450

Log = Callable[[str], None]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    display_name: str


# The eight logins README lists. Names are invented; none is a person named in the seed documents.
LOGINS = [
    DemoLogin(f"coordinator@{DEMO_DOMAIN}", Role.COORDINATOR, "Hélène Vidal (coordinatrice)"),
    DemoLogin(f"committee@{DEMO_DOMAIN}", Role.COMMITTEE, "Rachid Benali (comité citoyen)"),
    DemoLogin(f"member@{DEMO_DOMAIN}", Role.MEMBER, "Sandrine Lemoine (foyer membre)"),
    DemoLogin(f"cashier@{DEMO_DOMAIN}", Role.CASHIER, "Julien Roux (épicerie La Fourmilière)"),
    DemoLogin(f"producer@{DEMO_DOMAIN}", Role.PRODUCER, "Agathe Marchand (maraîchère)"),
    DemoLogin(f"kitchen@{DEMO_DOMAIN}", Role.KITCHEN, "Thierry Fabre (cuisine de la cité scolaire)"),
    DemoLogin(f"social@{DEMO_DOMAIN}", Role.SOCIAL_WORKER, "Inès Haddad (travailleuse sociale)"),
    DemoLogin(f"funder@{DEMO_DOMAIN}", Role.FUNDER, "Paul Girard (fondation partenaire)"),
    DemoLogin(f"school@{DEMO_DOMAIN}", Role.SCHOOL, "Anne Lefort (enseignante, école des Sources)"),
]

# The grouping of the demo: a network holding the Vallée and a second, smaller territory; its coordinator reads the
# roll-up of both territories' indicators and holds no role in either.
SECOND_SLUG = "coteaux"
SECOND_NAME = "Coteaux de l'Orb (démo)"
SECOND_HOUSEHOLDS = 40
GROUPING_SLUG = "reseau-demo"
GROUPING_NAME = "Réseau des caisses alimentaires (démo)"
GROUPING_LOGIN = (f"network@{DEMO_DOMAIN}", "Claire Dumont (coordinatrice du réseau)")
SECOND_LOGINS: list[tuple[str, Role, str]] = [
    (f"coordinator-coteaux@{DEMO_DOMAIN}", Role.COORDINATOR, "Marc Olivier (coordinateur des Coteaux)"),
    (f"committee-coteaux@{DEMO_DOMAIN}", Role.COMMITTEE, "Yasmina Orsoni (comité des Coteaux)"),
]

# The rest of the cast, with the sizes the issue asks for.
EXTRA_PEOPLE: list[tuple[str, Role, str]] = [
    (f"coordinatrice-2@{DEMO_DOMAIN}", Role.COORDINATOR, "Léa Perrin"),
    *[
        (f"comite-{i}@{DEMO_DOMAIN}", Role.COMMITTEE, name)
        for i, name in enumerate(
            [
                "Jeanne Aubert",
                "Karim Mansouri",
                "Odile Carré",
                "Mamadou Diallo",
                "Sylvie Renard",
                "Yasmine Amrani",
                "Bernard Leclerc",
                "Fatou Ndiaye",
                "Gérard Collet",
                "Aurélie Brun",
                "Samir Khelifi",
                "Martine Roy",
                "Nicolas Faure",
                "Chantal Morel",
            ],
            start=2,
        )
    ],
    *[
        (f"epicerie-{i}@{DEMO_DOMAIN}", Role.CASHIER, name)
        for i, name in enumerate(
            [
                "Céline Masson (Biocoop du Canal)",
                "Hugo Lambert (marché paysan)",
                "Nora Belkacem (épicerie sociale)",
                "Franck Giraud (boulangerie Le Fournil)",
            ],
            start=2,
        )
    ],
    *[
        (f"maraicher-{i}@{DEMO_DOMAIN}", Role.PRODUCER, name)
        for i, name in enumerate(
            [
                "Baptiste Rey (Les Jardins du Ruisseau)",
                "Manon Lefort (Ferme de la Combe)",
                "Elias Garnier (Le Potager Haut)",
                "Louise Berger (Maraîchage des Prés)",
                "Antoine Caron (Ferme du Moulin)",
            ],
            start=2,
        )
    ],
    (f"cuisine-ehpad@{DEMO_DOMAIN}", Role.KITCHEN, "Véronique Blanc (EHPAD Les Tilleuls)"),
    *[
        (f"social-{i}@{DEMO_DOMAIN}", Role.SOCIAL_WORKER, name)
        for i, name in enumerate(
            [
                "Amandine Dupuis (CCAS)",
                "Olivier Henry (centre social)",
            ],
            start=2,
        )
    ],
    *[
        (f"financeur-{i}@{DEMO_DOMAIN}", Role.FUNDER, name)
        for i, name in enumerate(
            [
                "Sophie Marty (conseil départemental)",
                "Laurent Picard (caisse d'allocations)",
            ],
            start=2,
        )
    ],
]

# Household size shares for low-income households (INSEE-like: many single people and single parents).
SIZE_WEIGHTS = {1: 34, 2: 22, 3: 16, 4: 14, 5: 8, 6: 4, 7: 2}
SURNAMES = [
    "Arnaud",
    "Barbier",
    "Baron",
    "Bertin",
    "Besson",
    "Blanchard",
    "Bonnet",
    "Boyer",
    "Bouvier",
    "Charpentier",
    "Chevalier",
    "Clément",
    "Colin",
    "Cordier",
    "Da Silva",
    "Delmas",
    "Deschamps",
    "Durand",
    "Espinasse",
    "Ferrand",
    "Fleury",
    "Fontaine",
    "Garcia",
    "Gauthier",
    "Gilles",
    "Guerin",
    "Guillot",
    "Hamidi",
    "Hoarau",
    "Jacob",
    "Joly",
    "Julien",
    "Lacroix",
    "Laine",
    "Lamy",
    "Langlois",
    "Laurent",
    "Lebrun",
    "Leroux",
    "Lopez",
    "Lucas",
    "Mallet",
    "Marchal",
    "Mercier",
    "Meyer",
    "Michaud",
    "Moulin",
    "Muller",
    "Nguyen",
    "Noel",
    "Ollivier",
    "Pages",
    "Pereira",
    "Philippe",
    "Pichon",
    "Poulain",
    "Prevost",
    "Rey",
    "Riviere",
    "Robin",
    "Roche",
    "Rolland",
    "Rousseau",
    "Sanchez",
    "Schmitt",
    "Simon",
    "Tessier",
    "Tran",
    "Vasseur",
    "Vincent",
    "Weber",
    "Yilmaz",
    "Ziani",
    "Benoit",
    "Camara",
    "Diop",
    "Traore",
    "Ortiz",
    "Santos",
    "Kaya",
    "Bouzid",
    "Aubry",
    "Carpentier",
    "Huet",
    "Perret",
]
FIRST_NAMES = [
    "Léa",
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Chloé",
    "Inès",
    "Lina",
    "Sarah",
    "Zoé",
    "Aïcha",
    "Fatima",
    "Amel",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Gabriel",
    "Jules",
    "Adam",
    "Rayan",
    "Youssef",
    "Moussa",
    "Enzo",
    "Noah",
    "Mathis",
    "Anaïs",
    "Julie",
    "Élodie",
    "Sophie",
    "Nathalie",
    "Isabelle",
    "Patrick",
    "Thomas",
    "Kevin",
    "Sébastien",
    "Mehdi",
    "Bilal",
    "Océane",
    "Manon",
    "Camille",
    "Mélanie",
    "Stéphane",
    "Christophe",
    "Hamza",
    "Salomé",
    "Lilou",
]


def _birth_date(rng: random.Random, today: date, *, child: bool) -> date:
    age_days = rng.randint(200, 13 * 365) if child else rng.randint(19 * 365, 82 * 365)
    return today - timedelta(days=age_days)


def _household_persons(rng: random.Random, size: int, today: date) -> list[services.PersonInput]:
    adults = 1 if size == 1 else (1 if rng.random() < 0.35 else 2)  # a third are single-parent families
    adults = min(adults + (1 if size >= 6 and rng.random() < 0.4 else 0), size)
    persons = []
    for index in range(size):
        child = index >= adults
        persons.append(
            services.PersonInput(
                first_name=rng.choice(FIRST_NAMES), birth_date=_birth_date(rng, today, child=child)
            )
        )
    return persons


def _monthly_resources_cents(rng: random.Random, persons: list[services.PersonInput], today: date) -> int:
    """Resources per consumption unit skewed low (most participants live on minima or low wages)."""
    from grenier.core.models import HouseholdPerson, consumption_units

    units = consumption_units(
        [HouseholdPerson(first_name=p.first_name, birth_date=p.birth_date) for p in persons], today
    )
    per_unit_euros = min(max(rng.lognormvariate(6.95, 0.38), 450), 2600)  # median ≈ 1 040 € per unit
    return int(per_unit_euros * float(units)) * 100


def build(log: Log = print, *, household_count: int = HOUSEHOLD_COUNT) -> Territory:
    """Create or complete the demo territory, then let every app extend it."""
    rng = random.Random(20261124)  # same cast every time
    today = timezone.localdate()
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: the demo's people share it
    with transaction.atomic():
        territory = services.territory_create(slug=DEMO_SLUG, name=DEMO_NAME)
        people: dict[str, User] = {}
        for login in LOGINS:
            people[login.email] = _person(
                territory, login.email, login.display_name, login.role, password_hash
            )
        for email, role, name in EXTRA_PEOPLE:
            people[email] = _person(territory, email, name, role, password_hash)
        log(f"  {len(people)} people with roles")

        member = people[f"member@{DEMO_DOMAIN}"]
        services.household_join(
            territory=territory,
            name="Foyer Lemoine",
            email=f"member@{DEMO_DOMAIN}",
            persons=[
                services.PersonInput("Sandrine", date(1986, 3, 14)),
                services.PersonInput("Noé", date(2014, 9, 2)),
                services.PersonInput("Lily", date(2018, 5, 21)),
            ],
            monthly_resources_cents=148_000,
            joined_on=today - timedelta(days=300),
            user=member,
            actor=None,
            idempotency_key="demo-household-member",
        )
        # About half of the committee lives in food precarity and is a member household too (as in Montpellier).
        committee_members = [email for email, role, _name in EXTRA_PEOPLE if role == Role.COMMITTEE][:7]
        for index, email in enumerate(committee_members):
            user = people[email]
            size = rng.choice([1, 1, 2, 3, 4])
            persons = _household_persons(rng, size, today)
            persons[0] = services.PersonInput(user.display_name.split()[0], persons[0].birth_date)
            services.household_join(
                territory=territory,
                name=f"Foyer {user.display_name.split()[-1]}",
                persons=persons,
                monthly_resources_cents=_monthly_resources_cents(rng, persons, today),
                joined_on=today - timedelta(days=rng.randint(200, 700)),
                user=user,
                actor=None,
                idempotency_key=f"demo-household-committee-{index}",
            )

    sizes = list(SIZE_WEIGHTS)
    weights = list(SIZE_WEIGHTS.values())
    batch = 50
    for start in range(0, household_count, batch):
        with transaction.atomic():
            for index in range(start, min(start + batch, household_count)):
                size = rng.choices(sizes, weights)[0]
                persons = _household_persons(rng, size, today)
                surname = rng.choice(SURNAMES)
                joined_on = today - timedelta(days=int(rng.triangular(0, 1000, 150)))
                key = f"demo-household-{index:04d}"
                household = services.household_join(
                    territory=territory,
                    name=f"Foyer {surname}",
                    email="" if rng.random() < 0.3 else f"foyer{index:04d}@{DEMO_DOMAIN}",
                    phone=""
                    if rng.random() < 0.2
                    else f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                    persons=persons,
                    monthly_resources_cents=_monthly_resources_cents(rng, persons, today),
                    joined_on=joined_on,
                    actor=None,
                    idempotency_key=key,
                )
                # A few households left along the way: leaving is free (and their data is erased). The day is
                # drawn on every run, so that a second run draws the next households exactly as the first did
                # (their keys' requests must be the same).
                if index % 37 == 5:
                    leave_on = min(today, joined_on + timedelta(days=rng.randint(30, 400)))
                    if household.left_on is None:
                        services.household_leave(household=household, actor=None, on=leave_on)
        log(f"  households {min(start + batch, household_count)}/{household_count}")

    for app_config, module in _demo_modules():
        log(f"  {app_config.verbose_name}…")
        module.extend(territory, log)
    _second_territory(territory, log, rng, password_hash)
    return territory


def _second_territory(vallee: Territory, log: Log, rng: random.Random, password_hash: str) -> Territory:
    """A second, small territory and the network grouping it with the Vallée. Its households: generated as the
    Vallée's, and one household whose person is the same account as a Vallée household's (a committee member
    whose family lives on both sides), so the network counts it once. The apps that give it a story do so in their
    ``extend_second(territory, log)`` (the fund's months, a committee)."""
    from grenier.core import groupings

    today = timezone.localdate()
    with transaction.atomic():
        second = services.territory_create(slug=SECOND_SLUG, name=SECOND_NAME)
        for email, role, name in SECOND_LOGINS:
            _person(second, email, name, role, password_hash)
        for index in range(SECOND_HOUSEHOLDS):
            persons = _household_persons(
                rng, rng.choices(list(SIZE_WEIGHTS), list(SIZE_WEIGHTS.values()))[0], today
            )
            services.household_join(
                territory=second,
                name=f"Foyer {rng.choice(SURNAMES)}",
                persons=persons,
                monthly_resources_cents=_monthly_resources_cents(rng, persons, today),
                joined_on=today - timedelta(days=rng.randint(200, 500)),
                actor=None,
                idempotency_key=f"demo-coteaux-household-{index:03d}",
            )
        shared = User.objects.get(email=f"comite-2@{DEMO_DOMAIN}")  # in a Vallée household too
        services.household_join(
            territory=second,
            name=f"Foyer {shared.display_name.split()[-1]}",
            persons=[services.PersonInput(shared.display_name.split()[0], date(1979, 6, 3))],
            monthly_resources_cents=95_000,
            joined_on=today - timedelta(days=250),
            user=shared,
            actor=None,
            idempotency_key="demo-coteaux-household-shared",
        )
        grouping = groupings.grouping_create(
            slug=GROUPING_SLUG, name=GROUPING_NAME, territories=[vallee, second]
        )
        email, name = GROUPING_LOGIN
        coordinator = User.objects.filter(email=email).first()
        if coordinator is None:
            coordinator = User.objects.create(email=email, display_name=name, password=password_hash)
        groupings.grouping_coordinator_grant(grouping=grouping, user=coordinator)
    log(f"  {SECOND_NAME}: {SECOND_HOUSEHOLDS + 1} households; {GROUPING_NAME} holds both territories")
    for _app_config, module in _demo_modules():
        if hasattr(module, "extend_second"):
            module.extend_second(second, log)
    return second


def _demo_modules() -> Iterator[tuple[AppConfig, ModuleType]]:
    """Each app's ``demo`` module but core's, in the order of ``INSTALLED_APPS``."""
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("grenier.") or app_config.name == "grenier.core":
            continue
        try:
            module = importlib.import_module(f"{app_config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_config.name}.demo":
                raise
            continue
        yield app_config, module


def _person(territory: Territory, email: str, display_name: str, role: Role, password_hash: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create(email=email, display_name=display_name, password=password_hash)
    services.role_grant(user=user, territory=territory, role=role)
    return user
