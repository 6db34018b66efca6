"""The national figures a kitchen compares its own with, each with its source. Read from ADEME's publications on
food waste in collective catering (restauration collective) and from the law's target; kept here as figures, so a
page, the API and the report show the same ones."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Reference:
    label: Promise
    low_g: int  # grams per person and meal; low == high for a single figure
    high_g: int
    source: str  # as published (French titles are kept as they are)

    @property
    def is_range(self) -> bool:
        return self.low_g != self.high_g


REFERENCES = (
    Reference(
        label=_(
            "Collective catering (schools, collèges, lycées, hospitals, nursing homes), by kind of place"
        ),
        low_g=100,
        high_g=170,
        source=(
            "ADEME, analyse des pesées de plus de 850 restaurants collectifs, publiée le 16 octobre 2018 "
            "(Journée nationale de lutte contre le gaspillage alimentaire)"
        ),
    ),
    Reference(
        label=_("Catering outside the home, per guest and meal (32 g at home)"),
        low_g=130,
        high_g=130,
        source=(
            "ADEME, « Pertes et gaspillages alimentaires : l'état des lieux et leur gestion par étapes de la "
            "chaîne alimentaire », mai 2016"
        ),
    ),
)

AVERAGE_CUT = _(
    "Schools and collèges that acted cut their waste by 20 % on average (ADEME, « Bilan de l'opération 1000 "
    "écoles et collèges contre le gaspillage alimentaire », 2018)."
)
TARGET = _(
    "The law's target: halve food waste in collective catering by 2025 from its 2015 level (Code de "
    "l'environnement, article L541-1)."
)
