"""Reads of the cooperation map: cooperations as they stood on a day (their level then, from their history), the
filters of the map page, the graph and its layout (computed here, drawn by the server as SVG), how the territory
moved in a year (the exports are ``network.exports``)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch

from grenier.core.models import Territory
from grenier.network.models import Actor, Cooperation, CooperationStatus, Level, LevelChange

# --- cooperations on a day, filtered ---------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the map page narrows to: a kind of actor, a level at least, a theme, a sort and a period (the
    cooperations active some day in it, at their level on its last day)."""

    kind: str = ""
    level: int = 0
    theme: str = ""
    sort: str = ""
    since: date | None = None
    until: date | None = None


def level_on(changes: list[LevelChange], day: date) -> int | None:
    """The level a cooperation had on ``day`` (its changes in order): the last change on or before it."""
    level = None
    for change in changes:
        if change.on <= day:
            level = change.level_to
    return level


@dataclass
class Link:
    """A cooperation as it stood on a day."""

    cooperation: Cooperation
    level: int
    actor_ids: list[int]


def links(territory: Territory, filters: Filters, today: date) -> list[Link]:
    """The confirmed cooperations matching ``filters``, each at its level on the period's last day (today)."""
    until = filters.until or today
    since = filters.since or until
    rows = (
        Cooperation.objects.filter(
            territory=territory, status=CooperationStatus.CONFIRMED, starts_on__lte=until
        )
        .exclude(ends_on__lt=since)
        .prefetch_related(
            Prefetch("changes", queryset=LevelChange.objects.order_by("on", "id")),
            Prefetch("actors", queryset=Actor.objects.only("id", "kind")),
        )
        .order_by("title", "id")
    )
    if filters.sort:
        rows = rows.filter(sort=filters.sort)
    found = []
    for row in rows:
        if filters.theme and filters.theme not in (row.themes or []):
            continue
        actors = list(row.actors.all())
        if filters.kind and not any(a.kind == filters.kind for a in actors):
            continue
        level = level_on(list(row.changes.all()), until)
        if level is None or level < filters.level:
            continue
        found.append(Link(row, level, sorted(a.pk for a in actors)))
    return found


# --- the graph -------------------------------------------------------------------------------------------------------

WIDTH = 640
HEIGHT = 480
MARGIN = 40


@dataclass
class Node:
    actor: Actor
    x: float = 0.0
    y: float = 0.0
    degree: int = 0


@dataclass
class Edge:
    """Two actors and the strongest level of the cooperations between them (a cooperation of three or more actors
    links each pair of them), with those cooperations."""

    a: Node
    b: Node
    level: int
    cooperations: list[Cooperation] = field(default_factory=list)


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int = WIDTH
    height: int = HEIGHT


def graph(territory: Territory, found: list[Link], *, kind: str = "") -> Graph:
    """The actors (of ``kind`` if given, and every actor of a link shown) and the links, laid out."""
    actors = Actor.objects.filter(territory=territory, left_on__isnull=True)
    shown = {pk for link in found for pk in link.actor_ids}
    nodes = {a.pk: Node(a) for a in actors if not kind or a.kind == kind or a.pk in shown}
    pairs: dict[tuple[int, int], Edge] = {}
    for link in found:
        ids = [pk for pk in link.actor_ids if pk in nodes]
        for i, first in enumerate(ids):
            for second in ids[i + 1 :]:
                edge = pairs.get((first, second))
                if edge is None:
                    edge = pairs[(first, second)] = Edge(nodes[first], nodes[second], link.level)
                    nodes[first].degree += 1
                    nodes[second].degree += 1
                edge.level = max(edge.level, link.level)
                edge.cooperations.append(link.cooperation)
    ordered = sorted(nodes.values(), key=lambda n: (n.actor.kind, n.actor.name, n.actor.pk))
    layout(ordered, list(pairs.values()))
    return Graph(ordered, sorted(pairs.values(), key=lambda e: e.level))


def layout(nodes: list[Node], edges: list[Edge], *, rounds: int = 120) -> None:
    """A force-directed layout (Fruchterman and Reingold): linked actors pull together, all push apart, stronger
    links pull harder. Starts from a circle in the nodes' order and a fixed seed, so the same map draws the same."""
    count = len(nodes)
    if not count:
        return
    rng = random.Random(17)  # noqa: S311 - a layout, not a secret
    width, height = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    for index, node in enumerate(nodes):
        angle = 2 * math.pi * index / count
        node.x = width / 2 + width / 2.2 * math.cos(angle) + rng.uniform(-1, 1)
        node.y = height / 2 + height / 2.2 * math.sin(angle) + rng.uniform(-1, 1)
    k = math.sqrt(width * height / count) * 0.8
    temperature = width / 8
    for _round in range(rounds):
        shift = {id(n): [0.0, 0.0] for n in nodes}
        for i, a in enumerate(nodes):
            for b in nodes[i + 1 :]:
                dx, dy = a.x - b.x, a.y - b.y
                distance = max(math.hypot(dx, dy), 0.5)
                push = k * k / distance
                shift[id(a)][0] += dx / distance * push
                shift[id(a)][1] += dy / distance * push
                shift[id(b)][0] -= dx / distance * push
                shift[id(b)][1] -= dy / distance * push
        for edge in edges:
            dx, dy = edge.a.x - edge.b.x, edge.a.y - edge.b.y
            distance = max(math.hypot(dx, dy), 0.5)
            pull = distance * distance / k * (0.6 + edge.level / 5)
            shift[id(edge.a)][0] -= dx / distance * pull
            shift[id(edge.a)][1] -= dy / distance * pull
            shift[id(edge.b)][0] += dx / distance * pull
            shift[id(edge.b)][1] += dy / distance * pull
        for node in nodes:
            sx, sy = shift[id(node)]
            # a gentle pull to the centre keeps actors without links on the drawing
            sx += (width / 2 - node.x) * 0.05 * k / 10
            sy += (height / 2 - node.y) * 0.05 * k / 10
            length = max(math.hypot(sx, sy), 0.01)
            node.x = min(width, max(0.0, node.x + sx / length * min(length, temperature)))
            node.y = min(height, max(0.0, node.y + sy / length * min(length, temperature)))
        temperature = max(temperature * 0.96, 1.0)
    for node in nodes:
        node.x = round(node.x + MARGIN, 1)
        node.y = round(node.y + MARGIN, 1)


# --- how the territory moved -----------------------------------------------------------------------------------------


@dataclass
class Moves:
    year: int
    rose: list[LevelChange]
    fell: list[LevelChange]
    new_cooperations: list[Cooperation]
    new_actors: list[Actor]
    ended: list[Cooperation]


def moves(territory: Territory, year: int) -> Moves:
    """In ``year``: the links that rose or fell a level, the cooperations begun and ended, the actors new on the
    map."""
    changes = list(
        LevelChange.objects.filter(
            cooperation__territory=territory,
            cooperation__status=CooperationStatus.CONFIRMED,
            on__year=year,
            level_from__isnull=False,
        )
        .select_related("cooperation", "recorded_by")
        .order_by("on", "id")
    )
    confirmed = Cooperation.objects.filter(territory=territory, status=CooperationStatus.CONFIRMED)
    return Moves(
        year=year,
        rose=[c for c in changes if c.level_to > (c.level_from or 0)],
        fell=[c for c in changes if c.level_to < (c.level_from or 0)],
        new_cooperations=list(confirmed.filter(starts_on__year=year).order_by("starts_on", "id")),
        new_actors=list(
            Actor.objects.filter(territory=territory, joined_on__year=year).order_by("joined_on", "id")
        ),
        ended=list(confirmed.filter(ends_on__year=year).order_by("ends_on", "id")),
    )


def level_counts(found: list[Link]) -> dict[int, int]:
    counts = dict.fromkeys(Level.values, 0)
    for link in found:
        counts[link.level] += 1
    return counts


def by_kind(actors: list[Actor]) -> dict[str, list[Actor]]:
    grouped: dict[str, list[Actor]] = defaultdict(list)
    for actor in actors:
        grouped[actor.get_kind_display()].append(actor)
    return dict(sorted(grouped.items()))
