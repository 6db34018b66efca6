"""The cooperation map's exports: the actors, cooperations and resources as CSV (one table) or XLSX (the three as
sheets of one workbook), and the network for researchers as GEXF 1.3 (Gephi, with the levels' history as spells)
or GraphML. A person's contact is exported only when asked for by someone who may see it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.db.models import Prefetch
from openpyxl import Workbook
from openpyxl.styles import Font

from grenier.core.models import Territory
from grenier.network.models import Actor, Cooperation, CooperationStatus, LevelChange, Resource

Cell = str | int | Decimal | date | None

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


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    rows: list[list[Cell]]


def _actor_rows(territory: Territory, contacts: bool) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for a in Actor.objects.filter(territory=territory).order_by("id"):
        row: list[Cell] = [
            a.pk,
            a.name,
            a.kind,
            a.scale,
            a.address,
            a.latitude,
            a.longitude,
            a.linked_to,
            a.joined_on,
            a.left_on,
        ]
        rows.append(row + ([a.contact_name, a.contact_phone, a.contact_email] if contacts else []))
    return rows


def _cooperation_rows(territory: Territory) -> list[list[Cell]]:
    return [
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
            c.ends_on,
            " ".join(str(a.pk) for a in c.actors.all()),
            " ".join(f"{ch.on.isoformat()}:{ch.level_to}" for ch in c.changes.all()),
        ]
        for c in _cooperations(territory)
    ]


def _resource_rows(territory: Territory) -> list[list[Cell]]:
    return [
        [r.pk, r.actor.name, r.kind, r.name, "yes" if r.shareable else "no", r.terms]
        for r in Resource.objects.filter(actor__territory=territory).select_related("actor").order_by("id")
    ]


TABLES = ("actors", "cooperations", "resources")


def table(territory: Territory, what: str, *, contacts: bool = False) -> Table:
    """``actors``, ``cooperations`` or ``resources``: their columns and rows (a person's contact only when
    ``contacts``)."""
    if what == "actors":
        return Table(
            what, ACTOR_COLUMNS + (CONTACT_COLUMNS if contacts else []), _actor_rows(territory, contacts)
        )
    if what == "cooperations":
        return Table(what, COOPERATION_COLUMNS, _cooperation_rows(territory))
    if what == "resources":
        return Table(what, RESOURCE_COLUMNS, _resource_rows(territory))
    raise ValueError(what)


def export_csv(territory: Territory, what: str, *, contacts: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    found = table(territory, what, contacts=contacts)
    writer.writerow(found.columns)
    writer.writerows([["" if cell is None else cell for cell in row] for row in found.rows])
    return out.getvalue()


def export_xlsx(territory: Territory, *, contacts: bool = False) -> bytes:
    """One workbook, a sheet per table, a bold header row frozen; dates and coordinates as the spreadsheet's own
    dates and numbers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for what in TABLES:
        found = table(territory, what, contacts=contacts)
        sheet = workbook.create_sheet(what)
        sheet.append(found.columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in found.rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
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


@dataclass(frozen=True)
class Export:
    content_type: str
    write: Callable[[Territory, str, bool], bytes]


EXPORTS: dict[str, Export] = {
    "csv": Export(
        "text/csv; charset=utf-8", lambda t, what, contacts: export_csv(t, what, contacts=contacts).encode()
    ),
    "xlsx": Export(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda t, _what, contacts: export_xlsx(t, contacts=contacts),
    ),
    "gexf": Export("application/gexf+xml; charset=utf-8", lambda t, _what, _contacts: export_gexf(t)),
    "graphml": Export(
        "application/graphml+xml; charset=utf-8", lambda t, _what, _contacts: export_graphml(t)
    ),
}
"""Each format: its media type and how it is written from (territory, table for CSV, with contacts)."""
