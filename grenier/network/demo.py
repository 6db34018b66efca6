"""The Vallée's cooperation map for the demo: the structures the demo already has (stores, funders, farms, kitchens,
gardens, buying groups, the common fund and the platform) put on the map from Grenier, plus the food-aid
associations, a social centre, a CCAS, the town hall, schools, a care home and a CPIE-like facilitating third party
(invented names); their resources; about thirty cooperations at every level over two years, whose levels rose and
fell; a few bookings. Dates count back from today, so the story holds on any day. Built once: a second run adds
only the rows Grenier knows that are new."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from grenier.core.models import Territory, User
from grenier.network import services
from grenier.network.models import (
    Actor,
    ActorKind,
    Builtin,
    Cooperation,
    CooperationStatus,
    DocumentKind,
    Resource,
    Scale,
)

Log = Callable[[str], None]

# name, kind, scale, address, latitude, longitude, days on the map
TYPED = [
    (
        "Les Restos de la Vallée",
        ActorKind.FOOD_AID,
        Scale.NON_PROFIT,
        "12 rue des Tanneurs",
        43.6102,
        3.8751,
        900,
    ),
    (
        "Secours solidaire du Pont",
        ActorKind.FOOD_AID,
        Scale.NON_PROFIT,
        "3 place du Pont",
        43.6061,
        3.8803,
        800,
    ),
    (
        "Banque alimentaire des Garrigues",
        ActorKind.FOOD_AID,
        Scale.NON_PROFIT,
        "ZA des Près",
        43.5982,
        3.8912,
        760,
    ),
    (
        "Épicerie sociale La Passerelle",
        ActorKind.FOOD_AID,
        Scale.SOCIAL_ECONOMY,
        "8 av. de la Gare",
        43.6144,
        3.869,
        500,
    ),
    (
        "Centre social Les Arcades",
        ActorKind.SOCIAL_CENTRE,
        Scale.NON_PROFIT,
        "1 allée des Arcades",
        43.612,
        3.872,
        900,
    ),
    ("CCAS de la Vallée", ActorKind.CCAS, Scale.PUBLIC, "Hôtel de ville", 43.6089, 3.8772, 900),
    ("Mairie de la Vallée", ActorKind.TOWN_HALL, Scale.PUBLIC, "Hôtel de ville", 43.6088, 3.8768, 900),
    (
        "École élémentaire du Moulin",
        ActorKind.SCHOOL,
        Scale.PUBLIC,
        "5 chemin du Moulin",
        43.6035,
        3.8702,
        600,
    ),
    ("Collège des Garrigues", ActorKind.SCHOOL, Scale.PUBLIC, "Route de Saint-Clair", 43.6001, 3.8841, 300),
    ("EHPAD Les Tilleuls", ActorKind.EHPAD, Scale.PUBLIC, "14 rue des Tilleuls", 43.6163, 3.8799, 650),
    ("CPIE des Garrigues", ActorKind.THIRD_PARTY, Scale.NON_PROFIT, "Mas de la Source", 43.5954, 3.8633, 720),
    (
        "Association Cuisine et Partage",
        ActorKind.ASSOCIATION,
        Scale.NON_PROFIT,
        "22 rue Haute",
        43.6111,
        3.8812,
        420,
    ),
    (
        "Collectif des habitants du Plateau",
        ActorKind.COLLECTIVE,
        Scale.INFORMAL,
        "Quartier du Plateau",
        43.6182,
        3.8701,
        200,
    ),
    (
        "Groupe d'entraide mutuelle L'Envol",
        ActorKind.ASSOCIATION,
        Scale.NON_PROFIT,
        "9 rue du Four",
        43.6077,
        3.8733,
        380,
    ),
    (
        "Laboratoire Territoires et Solidarités",
        ActorKind.RESEARCH,
        Scale.PUBLIC,
        "Campus universitaire",
        43.6312,
        3.8612,
        540,
    ),
]

# owner, kind, name, shareable, terms
RESOURCES = [
    (
        "Banque alimentaire des Garrigues",
        "cold_room",
        "Chambre froide de 20 m³",
        True,
        "Prêt gratuit, nettoyage au retour",
    ),
    (
        "Banque alimentaire des Garrigues",
        "vehicle",
        "Camion frigorifique",
        True,
        "Avec un chauffeur bénévole, carburant à la charge de l'emprunteur",
    ),
    (
        "Centre social Les Arcades",
        "kitchen",
        "Cuisine pédagogique",
        True,
        "Le mardi et le jeudi, sur réservation",
    ),
    (
        "Centre social Les Arcades",
        "premises",
        "Grande salle (60 places)",
        True,
        "Gratuit pour les associations de la Vallée",
    ),
    (
        "Mairie de la Vallée",
        "land",
        "Parcelle des Aubépines (2 000 m²)",
        True,
        "Convention d'occupation annuelle",
    ),
    ("Mairie de la Vallée", "vehicle", "Minibus communal", True, "Les week-ends, hors vacances scolaires"),
    (
        "CPIE des Garrigues",
        "skills",
        "Animation de démarches participatives",
        True,
        "Deux demi-journées par trimestre",
    ),
    (
        "Les Restos de la Vallée",
        "volunteers",
        "Équipe de bénévoles logistique",
        True,
        "Sur demande, une semaine à l'avance",
    ),
    ("Association Cuisine et Partage", "tools", "Matériel de cuisine collective", True, "Caution de 100 €"),
    ("EHPAD Les Tilleuls", "kitchen", "Cuisine de production", False, ""),
]

# title, sort, actors (names, or a link: "store", "funder", "farm", "kitchen", "garden", "group", "fund", "platform"),
# themes, people, [(days ago, level, why)], days ago it ended (or None)
COOPERATIONS: list[
    tuple[str, str, list[str], list[str], list[str], list[tuple[int, int, str]], int | None]
] = [
    (
        "Distribution alimentaire commune du samedi",
        "proximity",
        ["Les Restos de la Vallée", "Secours solidaire du Pont", "Centre social Les Arcades"],
        ["social_action"],
        ["welcomed", "volunteers"],
        [
            (700, 2, "Prêt de bénévoles"),
            (420, 3, "Salle et bénévoles mis en commun"),
            (90, 4, "Une distribution commune chaque samedi"),
        ],
        None,
    ),
    (
        "Chambre froide partagée",
        "proximity",
        ["Banque alimentaire des Garrigues", "Épicerie sociale La Passerelle"],
        ["food_system", "social_action"],
        ["professionals"],
        [(500, 2, "Dépannage ponctuel"), (200, 3, "Convention de mutualisation")],
        None,
    ),
    (
        "Cuisine pédagogique ouverte aux associations",
        "theme",
        ["Centre social Les Arcades", "Association Cuisine et Partage", "Groupe d'entraide mutuelle L'Envol"],
        ["food_system", "social_action"],
        ["residents", "welcomed"],
        [(380, 1, "Envie de cuisiner ensemble"), (250, 3, "Cuisine partagée deux jours par semaine")],
        None,
    ),
    (
        "Légumerie intercommunale",
        "scale",
        ["platform", "kitchen", "farm", "Mairie de la Vallée"],
        ["food_system"],
        ["farmers", "professionals"],
        [(600, 1, "Étude d'opportunité"), (300, 4, "Projet commun déposé"), (60, 5, "Légumerie en service")],
        None,
    ),
    (
        "Jardin partagé des Aubépines",
        "proximity",
        ["garden", "Mairie de la Vallée", "Collectif des habitants du Plateau"],
        ["food_system"],
        ["residents"],
        [
            (540, 1, "Premières réunions"),
            (330, 3, "Parcelle mise à disposition"),
            (100, 4, "Jardin cultivé ensemble"),
        ],
        None,
    ),
    (
        "Repas partagés du mois",
        "people",
        ["Collectif des habitants du Plateau", "Association Cuisine et Partage"],
        ["social_action"],
        ["residents", "volunteers"],
        [(190, 2, "Échange de recettes et de services")],
        None,
    ),
    (
        "Démarche participative de la Vallée",
        "theme",
        ["CPIE des Garrigues", "Centre social Les Arcades", "CCAS de la Vallée", "Les Restos de la Vallée"],
        ["food_system", "social_action"],
        ["professionals", "residents"],
        [
            (720, 1, "Constat partagé"),
            (400, 2, "Ateliers animés par le CPIE"),
            (150, 4, "Diagnostic commun publié"),
        ],
        None,
    ),
    (
        "Orientation des familles vers la caisse commune",
        "scale",
        ["CCAS de la Vallée", "fund"],
        ["social_action"],
        ["welcomed", "professionals"],
        [(650, 2, "Orientations ponctuelles"), (260, 3, "Permanence commune au CCAS")],
        None,
    ),
    (
        "Soutien municipal à la caisse commune",
        "scale",
        ["Mairie de la Vallée", "fund"],
        ["food_system", "social_action"],
        ["residents"],
        [(680, 3, "Subvention de lancement")],
        None,
    ),
    (
        "Produits locaux à la cantine du Moulin",
        "proximity",
        ["École élémentaire du Moulin", "farm"],
        ["food_system"],
        ["farmers"],
        [(450, 2, "Livraisons d'appoint"), (180, 3, "Commandes groupées avec la plateforme")],
        None,
    ),
    (
        "Ateliers goût au collège",
        "theme",
        ["Collège des Garrigues", "CPIE des Garrigues"],
        ["food_system"],
        ["professionals"],
        [(250, 2, "Intervention du CPIE")],
        None,
    ),
    (
        "Repas des aînés avec les producteurs",
        "people",
        ["EHPAD Les Tilleuls", "farm"],
        ["food_system"],
        ["farmers", "welcomed"],
        [(600, 2, "Visites à la ferme"), (300, 1, "Visites suspendues")],
        None,
    ),
    (
        "Recherche-action sur les coopérations",
        "theme",
        ["Laboratoire Territoires et Solidarités", "CPIE des Garrigues", "Centre social Les Arcades"],
        ["food_system", "social_action"],
        ["professionals"],
        [(540, 2, "Entretiens et restitutions"), (200, 3, "Moyens d'enquête partagés")],
        None,
    ),
    (
        "Collecte anti-gaspillage des invendus",
        "theme",
        ["Banque alimentaire des Garrigues", "store", "Les Restos de la Vallée"],
        ["food_system", "social_action"],
        ["volunteers"],
        [(500, 2, "Ramasse hebdomadaire"), (210, 3, "Camion partagé")],
        None,
    ),
    (
        "Groupement d'achat et épicerie sociale",
        "people",
        ["group", "Épicerie sociale La Passerelle"],
        ["food_system", "social_action"],
        ["residents"],
        [(360, 1, "Rencontre"), (120, 2, "Commandes communes de produits secs")],
        None,
    ),
    (
        "Minibus pour les marchés de producteurs",
        "proximity",
        ["Mairie de la Vallée", "Centre social Les Arcades"],
        ["social_action"],
        ["residents"],
        [(400, 2, "Prêt du minibus le samedi")],
        45,
    ),
    (
        "Colis d'urgence du CCAS",
        "scale",
        ["CCAS de la Vallée", "Secours solidaire du Pont"],
        ["social_action"],
        ["welcomed"],
        [(700, 3, "Stock commun de colis"), (330, 2, "Chacun son stock, échanges ponctuels")],
        None,
    ),
    (
        "Fête des récoltes",
        "proximity",
        ["garden", "Collectif des habitants du Plateau", "Centre social Les Arcades", "farm"],
        ["food_system"],
        ["residents", "farmers"],
        [(420, 4, "Une fête organisée ensemble")],
        300,
    ),
    (
        "Formation des bénévoles à l'hygiène",
        "theme",
        ["Banque alimentaire des Garrigues", "Les Restos de la Vallée", "Secours solidaire du Pont"],
        ["social_action"],
        ["volunteers"],
        [(240, 2, "Formation mutualisée")],
        None,
    ),
    (
        "Paniers solidaires de l'EHPAD",
        "people",
        ["EHPAD Les Tilleuls", "garden"],
        ["food_system", "social_action"],
        ["welcomed"],
        [(140, 1, "Envie de paniers pour les familles des résidents")],
        None,
    ),
    (
        "Permanence alimentation au centre social",
        "proximity",
        ["Centre social Les Arcades", "fund", "CCAS de la Vallée"],
        ["social_action"],
        ["welcomed", "professionals"],
        [(310, 2, "Permanence mensuelle"), (80, 3, "Locaux et agents partagés")],
        None,
    ),
    (
        "Cantine du collège et producteurs",
        "scale",
        ["Collège des Garrigues", "platform"],
        ["food_system"],
        ["farmers", "professionals"],
        [(280, 1, "Intérêt du gestionnaire"), (40, 2, "Premières commandes")],
        None,
    ),
    (
        "Épicerie sociale et caisse commune",
        "scale",
        ["Épicerie sociale La Passerelle", "fund"],
        ["food_system", "social_action"],
        ["residents"],
        [(480, 2, "Paiements en crédit alimentaire")],
        None,
    ),
    (
        "Cuisine du GEM avec les jardiniers",
        "people",
        ["Groupe d'entraide mutuelle L'Envol", "garden"],
        ["food_system", "social_action"],
        ["welcomed", "volunteers"],
        [(160, 2, "Ateliers cuisine avec les légumes du jardin")],
        None,
    ),
    (
        "Projet de tiers-lieu nourricier",
        "theme",
        [
            "CPIE des Garrigues",
            "Mairie de la Vallée",
            "Centre social Les Arcades",
            "Association Cuisine et Partage",
            "Collectif des habitants du Plateau",
        ],
        ["food_system", "social_action"],
        ["residents", "professionals", "volunteers"],
        [(200, 1, "Groupe projet constitué"), (30, 4, "Lieu trouvé, action commune lancée")],
        None,
    ),
    (
        "Échange de semences",
        "proximity",
        ["garden", "CPIE des Garrigues"],
        ["food_system"],
        ["residents"],
        [(650, 2, "Bourse aux semences")],
        400,
    ),
]


def _links(territory: Territory) -> dict[str, Actor]:
    """One actor per link kind, the first of each, for the story."""
    found: dict[str, Actor] = {}
    for link in ("store", "funder", "producer", "kitchen", "garden", "group"):
        actor = Actor.objects.filter(territory=territory, **{f"{link}__isnull": False}).order_by("id").first()
        if actor is not None:
            found["farm" if link == "producer" else link] = actor
    for builtin in Builtin:
        found[builtin.value] = services.builtin_actor(territory=territory, builtin=builtin, by=None)
    return found


def extend(territory: Territory, log: Log) -> None:
    today = timezone.localdate()
    coordinator = (
        User.objects.filter(territory_roles__territory=territory, territory_roles__role="coordinator")
        .order_by("id")
        .first()
    )
    added = services.actors_from_grenier(territory=territory, by=None)
    if added:  # the rows Grenier knew were there before the map: on it for as long as the story
        Actor.objects.filter(pk__in=[a.pk for a in added]).update(joined_on=today - timedelta(days=730))
    named = {a.name: a for a in Actor.objects.filter(territory=territory)}
    for name, kind, scale, address, lat, lon, days in TYPED:
        if name not in named:
            named[name] = services.actor_create(
                territory=territory,
                fields=services.ActorFields(
                    name=name,
                    kind=kind,
                    scale=scale,
                    address=address,
                    latitude=Decimal(str(lat)),
                    longitude=Decimal(str(lon)),
                ),
                by=coordinator,
                idempotency_key=f"demo-actor-{name}"[:100],
                joined_on=today - timedelta(days=days),
            )
    if Cooperation.objects.filter(territory=territory, idempotency_key__startswith="demo-").exists():
        log("    the map's story is already told")
        return
    links = _links(territory)
    for owner, resource_kind, name, shareable, terms in RESOURCES:
        services.resource_create(
            owner=named[owner],
            kind=resource_kind,
            name=name,
            shareable=shareable,
            terms=terms,
            by=coordinator,
            idempotency_key=f"demo-resource-{name}"[:100],
        )
    for index, (title, sort, members, themes, people, steps, ended) in enumerate(COOPERATIONS):
        actors = [links.get(m) or named[m] for m in members]
        first_days, first_level, first_why = steps[0]
        cooperation = services.cooperation_create(
            territory=territory,
            fields=services.CooperationFields(
                title=title,
                sort=sort,
                level=first_level,
                actors=actors,
                starts_on=today - timedelta(days=first_days),
                themes=themes,
                people=people,
            ),
            by=coordinator,
            idempotency_key=f"demo-cooperation-{index}",
            reason=first_why,
        )
        for number, (days, level, why) in enumerate(steps[1:], start=1):
            services.cooperation_level_set(
                cooperation=cooperation,
                level=level,
                reason=why,
                on=today - timedelta(days=days),
                by=coordinator,
                idempotency_key=f"demo-level-{index}-{number}",
            )
        if ended is not None:
            services.cooperation_end(
                cooperation=cooperation, by=coordinator, on=today - timedelta(days=ended)
            )
    proposed = services.cooperations_from_grenier(territory=territory, by=None)
    for cooperation in proposed[: max(len(proposed) - 2, 0)]:  # two left for the coordinator to confirm
        if coordinator is not None:
            services.cooperation_confirm(cooperation=cooperation, by=coordinator)
    _bookings(territory, named, coordinator)
    _letters(territory, coordinator)
    log(
        f"    {Actor.objects.filter(territory=territory).count()} actors, "
        f"{Cooperation.objects.filter(territory=territory, status=CooperationStatus.CONFIRMED).count()} cooperations"
    )


def _bookings(territory: Territory, named: dict[str, Actor], by: User | None) -> None:
    rng = random.Random(1717)  # noqa: S311 - demo data
    today = timezone.localdate()
    room = Resource.objects.get(actor=named["Centre social Les Arcades"], name="Grande salle (60 places)")
    truck = Resource.objects.get(actor=named["Banque alimentaire des Garrigues"], name="Camion frigorifique")
    asks = [
        (room, "CPIE des Garrigues", 7, 7, True),
        (room, "Association Cuisine et Partage", 14, 14, None),
        (truck, "Les Restos de la Vallée", 3, 4, True),
        (truck, "Épicerie sociale La Passerelle", 10, 10, False),
        (room, "Collectif des habitants du Plateau", 21 + rng.randint(0, 3), 22 + rng.randint(3, 5), None),
    ]
    for index, (resource, requester, start, end, decision) in enumerate(asks):
        booking = services.booking_request(
            resource=resource,
            requester=named[requester],
            starts_on=today + timedelta(days=start),
            ends_on=today + timedelta(days=end),
            by=by,
            idempotency_key=f"demo-booking-{index}",
            note="Pour une journée d'animation" if resource == room else "",
        )
        if decision is not None and by is not None:
            services.booking_decide(
                booking=booking,
                accept=decision,
                by=by,
                reason="" if decision else "Camion en révision ce jour-là",
            )


def _letter(cooperation: Cooperation) -> bytes:
    """A one-page letter of commitment signed by the cooperation's structures (no person named), as a PDF whose
    bytes do not depend on the day it is made: the demo is built twice the same."""
    out = io.BytesIO()
    page = Canvas(out, pagesize=A4, invariant=1)
    page.setTitle(f"Lettre d'engagement · {cooperation.title}")
    page.setFont("Helvetica-Bold", 16)
    page.drawString(60, 780, "Lettre d'engagement")
    page.setFont("Helvetica", 12)
    page.drawString(60, 750, cooperation.title)
    lines = [
        "Les structures ci-dessous s'engagent à faire vivre ensemble cette coopération,",
        f"depuis le {cooperation.starts_on.strftime('%d/%m/%Y')}, et à en rendre compte au comité citoyen.",
        "",
        *[f"· {actor.name}" for actor in cooperation.actors.order_by("name")],
    ]
    for number, line in enumerate(lines):
        page.drawString(60, 710 - 18 * number, line)
    page.showPage()
    page.save()
    return out.getvalue()


def _letters(territory: Territory, by: User | None) -> None:
    """The signed letter of commitment of each cooperation at level 4 or 5."""
    for cooperation in Cooperation.objects.filter(
        territory=territory, idempotency_key__startswith="demo-", level__gte=4
    ).order_by("id"):
        services.document_add(
            cooperation=cooperation,
            title=f"Lettre d'engagement · {cooperation.title}"[:200],
            kind=DocumentKind.COMMITMENT,
            data=_letter(cooperation),
            by=by,
        )
