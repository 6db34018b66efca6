"""``grenier baskets distribute|statement|forecast``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from grenier.baskets.models import DistributionLine

from .conftest import Baskets


def _run(*args: str) -> str:
    out = StringIO()
    call_command("baskets", *args, stdout=out)
    return out.getvalue()


def test_distribute_twice_adds_nothing_and_the_statement_adds_up(baskets: Baskets) -> None:
    day = baskets.thursday.isoformat()
    first = _run("distribute", "--date", day, "--territory", "vallee")
    assert "1 new baskets" in first and DistributionLine.objects.count() == 1
    _run("distribute", "--date", day, "--territory", "vallee")
    assert DistributionLine.objects.count() == 1
    text = _run(
        "statement",
        "--funder",
        str(baskets.department.pk),
        "--from",
        day,
        "--to",
        day,
        "--territory",
        "vallee",
    )
    assert "1 baskets" in text and "7,50" in text
    rows = _run(
        "statement",
        "--csv",
        "--funder",
        str(baskets.foundation.pk),
        "--from",
        day,
        "--to",
        day,
        "--territory",
        "vallee",
    ).splitlines()
    assert len(rows) == 2 and rows[1].split(";")[-2:] == ["1", "3,00"]  # one table, euros
    dues = _run(
        "statement",
        "--csv",
        "--part",
        "agreements",
        "--funder",
        str(baskets.foundation.pk),
        "--from",
        day,
        "--to",
        day,
        "--territory",
        "vallee",
    ).splitlines()
    assert len(dues) == 2 and all(len(row.split(";")) == 9 for row in dues)
    assert dues[1].split(";")[2:4] == ["1", "3,00"]
    assert "Jardin des Test" in _run("forecast", "--territory", "vallee")


def test_bad_arguments_are_refused(baskets: Baskets) -> None:
    with pytest.raises(CommandError):
        _run("distribute", "--date", "tomorrow", "--territory", "vallee")
    with pytest.raises(CommandError):
        _run(
            "statement",
            "--funder",
            "999999",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--territory",
            "vallee",
        )
    with pytest.raises(CommandError):
        _run("distribute", "--date", "2026-01-01", "--territory", "nowhere")
