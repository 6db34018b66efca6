"""Reads of the cooperation map: cooperations as they stood on a day (their level then, from their history), the
filters of the map page, the graph and its layout (computed here, drawn by the server as SVG), how the territory
moved in a year, and the exports (CSV, GEXF, GraphML)."""

from __future__ import annotations

import csv
import io
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree as ET

from django.db.models import Prefetch

from grenier.core.models import Territory
from grenier.network.models import Actor, Cooperation, CooperationStatus, Level, LevelChange, Resource

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


# --- exports ---------------------------------------------------------------------------------------------------------

ACTOR_COLUMNS = [
    "id",
    "name",
    "kind",
    "scale",
    "address",
    "latitude",
    "longitude",
    "linked_to",
    "joined_on",
    "left_on",
]
CONTACT_COLUMNS = ["contact_name", "contact_phone", "contact_email"]
COOPERATION_COLUMNS = [
    "id",
    "title",
    "sort",
    "level",
    "status",
    "themes",
    "scale",
    "people",
    "starts_on",
    "ends_on",
    "actors",
    "history",
]
RESOURCE_COLUMNS = ["id", "actor", "kind", "name", "shareable", "terms"]


def _cooperations(territory: Territory) -> list[Cooperation]:
    return list(
        Cooperation.objects.filter(territory=territory)
        .prefetch_related(Prefetch("changes", queryset=LevelChange.objects.order_by("on", "id")), "actors")
        .order_by("id")
    )


def export_csv(territory: Territory, what: str, *, contacts: bool = False) -> str:
    """``actors``, ``cooperations`` or ``resources`` as CSV (a person's contact only when ``contacts``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    if what == "actors":
        writer.writerow(ACTOR_COLUMNS + (CONTACT_COLUMNS if contacts else []))
        for a in Actor.objects.filter(territory=territory).order_by("id"):
            row = [
                a.pk,
                a.name,
                a.kind,
                a.scale,
                a.address,
                a.latitude or "",
                a.longitude or "",
                a.linked_to,
                a.joined_on,
                a.left_on or "",
            ]
            writer.writerow(row + ([a.contact_name, a.contact_phone, a.contact_email] if contacts else []))
    elif what == "cooperations":
        writer.writerow(COOPERATION_COLUMNS)
        for c in _cooperations(territory):
            history = " ".join(f"{ch.on.isoformat()}:{ch.level_to}" for ch in c.changes.all())
            writer.writerow(
                [
                    c.pk,
                    c.title,
                    c.sort,
                    c.level,
                    c.status,
                    " ".join(c.themes or []),
                    c.scale,
                    " ".join(c.people or []),
                    c.starts_on,
                    c.ends_on or "",
                    " ".join(str(a.pk) for a in c.actors.all()),
                    history,
                ]
            )
    elif what == "resources":
        writer.writerow(RESOURCE_COLUMNS)
        for r in Resource.objects.filter(actor__territory=territory).select_related("actor").order_by("id"):
            writer.writerow([r.pk, r.actor.name, r.kind, r.name, "yes" if r.shareable else "no", r.terms])
    else:
        raise ValueError(what)
    return out.getvalue()


def _edges(territory: Territory) -> list[tuple[str, int, int, Cooperation]]:
    """One edge per pair of actors of each cooperation, named ``c<cooperation>-<a>-<b>``."""
    found = []
    for c in _cooperations(territory):
        if c.status != CooperationStatus.CONFIRMED:
            continue
        ids = sorted(a.pk for a in c.actors.all())
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                found.append((f"c{c.pk}-{a}-{b}", a, b, c))
    return found


def export_gexf(territory: Territory) -> bytes:
    """The network as GEXF 1.3 for Gephi: actors as nodes (kind, scale), each cooperation's pairs as edges with
    their level (weight) and dates; the level's history as a dynamic attribute (spells), so Gephi's timeline plays
    the territory's years."""
    ns = "http://gexf.net/1.3"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}gexf", version="1.3")
    meta = ET.SubElement(root, f"{{{ns}}}meta")
    ET.SubElement(meta, f"{{{ns}}}creator").text = "Grenier"
    ET.SubElement(meta, f"{{{ns}}}description").text = f"Cooperation map of {territory.name}"
    graph_el = ET.SubElement(
        root, f"{{{ns}}}graph", defaultedgetype="undirected", mode="dynamic", timeformat="date"
    )
    node_attrs = ET.SubElement(graph_el, f"{{{ns}}}attributes", {"class": "node", "mode": "static"})
    for index, name in enumerate(("kind", "scale")):
        ET.SubElement(node_attrs, f"{{{ns}}}attribute", id=str(index), title=name, type="string")
    edge_static = ET.SubElement(graph_el, f"{{{ns}}}attributes", {"class": "edge", "mode": "static"})
    for index, name in enumerate(("cooperation", "sort", "themes")):
        ET.SubElement(edge_static, f"{{{ns}}}attribute", id=str(index), title=name, type="string")
    edge_dynamic = ET.SubElement(graph_el, f"{{{ns}}}attributes", {"class": "edge", "mode": "dynamic"})
    ET.SubElement(edge_dynamic, f"{{{ns}}}attribute", id="3", title="level", type="integer")
    nodes_el = ET.SubElement(graph_el, f"{{{ns}}}nodes")
    for a in Actor.objects.filter(territory=territory).order_by("id"):
        node = ET.SubElement(
            nodes_el, f"{{{ns}}}node", id=str(a.pk), label=a.name, start=a.joined_on.isoformat()
        )
        values = ET.SubElement(node, f"{{{ns}}}attvalues")
        ET.SubElement(values, f"{{{ns}}}attvalue", {"for": "0", "value": a.kind})
        ET.SubElement(values, f"{{{ns}}}attvalue", {"for": "1", "value": a.scale})
    edges_el = ET.SubElement(graph_el, f"{{{ns}}}edges")
    for edge_id, a_id, b_id, c in _edges(territory):
        attributes = {
            "id": edge_id,
            "source": str(a_id),
            "target": str(b_id),
            "weight": str(c.level),
            "label": c.title,
            "start": c.starts_on.isoformat(),
        }
        if c.ends_on:
            attributes["end"] = c.ends_on.isoformat()
        edge = ET.SubElement(edges_el, f"{{{ns}}}edge", attributes)
        values = ET.SubElement(edge, f"{{{ns}}}attvalues")
        ET.SubElement(values, f"{{{ns}}}attvalue", {"for": "0", "value": str(c.pk)})
        ET.SubElement(values, f"{{{ns}}}attvalue", {"for": "1", "value": c.sort})
        ET.SubElement(values, f"{{{ns}}}attvalue", {"for": "2", "value": " ".join(c.themes or [])})
        changes = list(c.changes.all())
        for index, change in enumerate(changes):
            spell = {"for": "3", "value": str(change.level_to), "start": change.on.isoformat()}
            following = changes[index + 1].on if index + 1 < len(changes) else c.ends_on
            if following:
                spell["end"] = following.isoformat()
            ET.SubElement(values, f"{{{ns}}}attvalue", spell)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_graphml(territory: Territory) -> bytes:
    """The network as GraphML: actors as nodes, each cooperation's pairs as edges with level, sort, dates and the
    level's history (``YYYY-MM-DD:level`` separated by spaces)."""
    ns = "http://graphml.graphdrawing.org/xmlns"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}graphml")
    keys = [
        ("name", "node", "string"),
        ("kind", "node", "string"),
        ("scale", "node", "string"),
        ("cooperation", "edge", "int"),
        ("title", "edge", "string"),
        ("sort", "edge", "string"),
        ("level", "edge", "int"),
        ("start", "edge", "string"),
        ("end", "edge", "string"),
        ("history", "edge", "string"),
    ]
    for name, owner, kind in keys:
        ET.SubElement(
            root,
            f"{{{ns}}}key",
            {"id": f"{owner[0]}_{name}", "for": owner, "attr.name": name, "attr.type": kind},
        )
    graph_el = ET.SubElement(root, f"{{{ns}}}graph", id=territory.slug, edgedefault="undirected")

    def data(parent: ET.Element, key: str, value: object) -> None:
        ET.SubElement(parent, f"{{{ns}}}data", key=key).text = str(value)

    for a in Actor.objects.filter(territory=territory).order_by("id"):
        node = ET.SubElement(graph_el, f"{{{ns}}}node", id=f"a{a.pk}")
        data(node, "n_name", a.name)
        data(node, "n_kind", a.kind)
        data(node, "n_scale", a.scale)
    for edge_id, a_id, b_id, c in _edges(territory):
        edge = ET.SubElement(graph_el, f"{{{ns}}}edge", id=edge_id, source=f"a{a_id}", target=f"a{b_id}")
        data(edge, "e_cooperation", c.pk)
        data(edge, "e_title", c.title)
        data(edge, "e_sort", c.sort)
        data(edge, "e_level", c.level)
        data(edge, "e_start", c.starts_on.isoformat())
        data(edge, "e_end", c.ends_on.isoformat() if c.ends_on else "")
        data(edge, "e_history", " ".join(f"{ch.on.isoformat()}:{ch.level_to}" for ch in c.changes.all()))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def by_kind(actors: list[Actor]) -> dict[str, list[Actor]]:
    grouped: dict[str, list[Actor]] = defaultdict(list)
    for actor in actors:
        grouped[actor.get_kind_display()].append(actor)
    return dict(sorted(grouped.items()))
