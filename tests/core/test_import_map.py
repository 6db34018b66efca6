"""The map is checked: every import from one of grenier's apps into another is an arrow that docs/ARCHITECTURE.md
allows (its table of arrows between apps, read here), no listed arrow is unused, and the apps' imports make no cycle.

Read with ``ast`` over ``grenier/<app>/**/*.py``, imports written anywhere in a module (a function's own imports
too), relative ones resolved. Not read: migrations (Django writes them) and each app's ``demo.py`` (the demo tells one
story across apps and runs only from ``grenier demo``); the project package's own modules (``grenier/urls.py``,
``api.py``, ``cli.py``, ``settings.py``) sit above the apps and mount them all."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "grenier"
MAP = ROOT / "docs" / "ARCHITECTURE.md"
TABLE_HEADER = "| from | to | through | why |"
TO_REMOVE = "to remove"


@dataclass(frozen=True)
class Arrow:
    """One allowed arrow: ``source`` may import ``target`` (only its modules ``through``, or any if empty)."""

    source: str
    target: str
    through: frozenset[str]
    why: str

    @property
    def to_remove(self) -> bool:
        return self.why.lower().startswith(TO_REMOVE)


@dataclass(frozen=True)
class Import:
    source: str  # the importing app
    target: str  # the imported app
    module: str  # the imported app's module (its first name under the app, e.g. "models")
    where: str  # file:line

    def allowed_by(self, arrow: Arrow) -> bool:
        return (
            arrow.source == self.source
            and arrow.target == self.target
            and (not arrow.through or self.module in arrow.through)
        )


def apps() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/apps.py")}


def read_map(text: str) -> list[Arrow]:
    """The arrows of the map's table: ``| from | to | through | why |``, one row per source and target, several
    targets separated by commas; ``through`` is ``any`` or the target's modules; a why starting with "to remove"
    marks an arrow tolerated until it is removed."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == TABLE_HEADER)
    except StopIteration:
        raise AssertionError(f"docs/ARCHITECTURE.md has no table headed {TABLE_HEADER!r}") from None
    arrows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        assert len(cells) == 4, f"a row of the import map has four cells: {line!r}"
        source, targets, through, why = cells
        modules = frozenset() if through == "any" else frozenset(m.strip(" `") for m in through.split(","))
        for target in targets.split(","):
            arrows.append(Arrow(source, target.strip(" `"), modules, why))
    return arrows


def _absolute(node: ast.ImportFrom, module_path: tuple[str, ...]) -> str:
    """The module a ``from … import`` names, relative ones resolved against the importing module's package."""
    if not node.level:
        return node.module or ""
    base = module_path[: len(module_path) - node.level]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(source: str, module_path: tuple[str, ...], known: set[str], where: str) -> list[Import]:
    """The imports of another of ``known`` apps in one module's text (``module_path``: its dotted name, split,
    ``__init__`` counting as the package's own name plus ``__init__``)."""
    app = module_path[1]
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module_path)
            # ``from grenier.fund import services`` imports the module services; ``from grenier import fund``, the app
            names = [f"{base}.{a.name}" if base.count(".") < 2 else base for a in node.names]
        for name in names:
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "grenier" and parts[1] in known and parts[1] != app:
                module = parts[2] if len(parts) > 2 else ""
                found.append(Import(app, parts[1], module, f"{where}:{node.lineno}"))
    return found


def all_imports() -> list[Import]:
    known = apps()
    found = []
    for app in sorted(known):
        for path in sorted((PACKAGE / app).rglob("*.py")):
            relative = path.relative_to(PACKAGE)
            if "migrations" in relative.parts or path.name == "demo.py":
                continue
            module_path = ("grenier", *relative.with_suffix("").parts)
            found += imports_of(path.read_text(), module_path, known, str(path.relative_to(ROOT)))
    return found


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Each cycle of the graph once, as the path that closes it (``[a, b, a]``)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                loop = [*path[path.index(nxt) :], nxt]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    found.append(loop)
            else:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


@pytest.fixture(scope="module")
def arrows() -> list[Arrow]:
    return read_map(MAP.read_text())


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return all_imports()


def test_the_map_names_only_apps_that_exist(arrows: list[Arrow]) -> None:
    known = apps()
    assert known >= {"core", "ledger", "fund", "governance", "supply", "baskets", "orders"}
    assert {a.source for a in arrows} | {a.target for a in arrows} <= known


def test_every_import_between_apps_is_an_arrow_of_the_map(arrows: list[Arrow], imports: list[Import]) -> None:
    refused = [i for i in imports if not any(i.allowed_by(a) for a in arrows)]
    assert not refused, "imports the map (docs/ARCHITECTURE.md) does not allow:\n" + "\n".join(
        f"  {i.where}: {i.source} -> {i.target}.{i.module}" for i in refused
    )


def test_every_arrow_of_the_map_is_in_the_code(arrows: list[Arrow], imports: list[Import]) -> None:
    unused = [a for a in arrows if not any(i.allowed_by(a) for i in imports)]
    assert not unused, (
        "arrows of the map no code draws (remove them from docs/ARCHITECTURE.md): "
        + ", ".join(f"{a.source} -> {a.target}" for a in unused)
    )


def test_the_apps_import_each_other_without_a_cycle(arrows: list[Arrow], imports: list[Import]) -> None:
    assert not cycles({(i.source, i.target) for i in imports})
    assert not cycles({(a.source, a.target) for a in arrows})


def test_an_arrow_to_remove_says_why_it_is_still_there(arrows: list[Arrow]) -> None:
    # tolerated, not allowed: the map says what draws it, so whoever removes it knows where to look
    for arrow in arrows:
        if arrow.to_remove:
            assert len(arrow.why) > len(TO_REMOVE) + 10, (
                f"{arrow.source} -> {arrow.target}: say what draws it"
            )


# --- the checker itself: it finds what it must ------------------------------------------------------------------

KNOWN = {"core", "ledger", "fund", "governance", "supply"}
SAMPLE_MAP = f"""Some prose.

{TABLE_HEADER}
|---|---|---|---|
| ledger | core | any | |
| fund | core, ledger | any | money |
| supply | governance | `kinds` | registers its kinds |
| governance | fund | views | to remove: a page reads the fund's rules |

After the table.
"""


def test_the_map_is_read_from_its_table() -> None:
    arrows = read_map(SAMPLE_MAP)
    assert [(a.source, a.target, sorted(a.through), a.to_remove) for a in arrows] == [
        ("ledger", "core", [], False),
        ("fund", "core", [], False),
        ("fund", "ledger", [], False),
        ("supply", "governance", ["kinds"], False),
        ("governance", "fund", ["views"], True),
    ]
    with pytest.raises(AssertionError, match="no table"):
        read_map("no table here")


@pytest.mark.parametrize(
    ("source", "module_path", "expected"),
    [
        ("from grenier.fund.models import Store", ("grenier", "governance", "views"), [("fund", "models")]),
        ("from grenier.fund import services", ("grenier", "governance", "views"), [("fund", "services")]),
        ("import grenier.ledger.services", ("grenier", "fund", "services"), [("ledger", "services")]),
        ("from grenier import fund", ("grenier", "supply", "views"), [("fund", "")]),
        (
            "def f():\n    from grenier.fund.models import Store",
            ("grenier", "supply", "views"),
            [("fund", "models")],
        ),
        ("from ...fund.models import Store", ("grenier", "supply", "services", "plan"), [("fund", "models")]),
        ("from ..core import money", ("grenier", "supply", "views"), [("core", "money")]),
        ("from . import models", ("grenier", "supply", "views"), []),
        ("from grenier.supply.models import Producer", ("grenier", "supply", "views"), []),
        ("from grenier.settings import DEBUG", ("grenier", "supply", "views"), []),
    ],
)
def test_an_import_is_found_with_the_app_and_module_it_names(
    source: str, module_path: tuple[str, ...], expected: list[tuple[str, str]]
) -> None:
    found = imports_of(source, module_path, KNOWN, "x.py")
    assert [(i.target, i.module) for i in found] == expected


def test_an_arrow_allows_only_its_modules() -> None:
    arrows = read_map(SAMPLE_MAP)
    kinds = Import("supply", "governance", "kinds", "x.py:1")
    views = Import("supply", "governance", "views", "x.py:1")
    backwards = Import("core", "ledger", "models", "x.py:1")
    assert any(kinds.allowed_by(a) for a in arrows)
    assert not any(views.allowed_by(a) for a in arrows)
    assert not any(backwards.allowed_by(a) for a in arrows)


def test_a_cycle_is_found() -> None:
    assert cycles({("fund", "ledger"), ("ledger", "core")}) == []
    assert cycles({("fund", "governance"), ("governance", "fund"), ("fund", "core")}) == [
        ["fund", "governance", "fund"]
    ]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a")}) == [["a", "b", "c", "a"]]
