"""``grenier waste campaigns|report``: an operator reads every kitchen's campaign; ``--as`` reads as that person, so a
kitchen manager never reads another kitchen's weighings there either."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from .conftest import Kitchens, weigh


def _run(*args: str) -> str:
    out = StringIO()
    call_command("waste", *args, "--territory", "vallee", stdout=out)
    return out.getvalue()


def test_the_report_as_text_and_csv(kitchens: Kitchens) -> None:
    weigh(
        kitchens.autumn, date(2026, 11, 16), 300, preparation=4_000, unserved=9_000, plate=21_000, bread=1_500
    )
    weigh(
        kitchens.autumn, date(2026, 11, 17), 320, preparation=3_200, unserved=6_400, plate=19_200, bread=1_280
    )
    text = _run("report", "--campaign", str(kitchens.autumn.pk))
    assert "Automne, avant" in text and "620 meals" in text
    assert "105,8\u00a0g" in text  # 65,580 g for 620 meals, in the default language
    assert "ADEME" in text
    csv_text = _run("report", "--campaign", str(kitchens.autumn.pk), "--format", "csv")
    assert len(csv_text.splitlines()) == 3 and csv_text.splitlines()[1].startswith("16/11/2026;")
    listing = _run("campaigns")
    assert "Automne, avant" in listing and "1 campaigns." in listing


def test_a_kitchen_reads_only_its_own(kitchens: Kitchens) -> None:
    weigh(kitchens.autumn, date(2026, 11, 16), 300, plate=20_000)
    assert "Automne, avant" in _run(
        "report", "--campaign", str(kitchens.autumn.pk), "--as", "kitchen@test.grenier"
    )
    with pytest.raises(CommandError, match="No campaign"):
        _run("report", "--campaign", str(kitchens.autumn.pk), "--as", "kitchen2@test.grenier")
    assert "0 campaigns." in _run("campaigns", "--as", "kitchen2@test.grenier")
    with pytest.raises(CommandError):
        _run("campaigns", "--as", "member@test.grenier")  # a role with no part in biowaste
    with pytest.raises(CommandError, match="No campaign"):
        _run("report", "--campaign", "999999")
