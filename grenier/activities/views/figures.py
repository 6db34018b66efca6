"""The activities' figures page: sessions held, who came and hours of volunteering, by kind, organiser and month,
for a year or one of its months; a coordinator reads the territory's, an organiser those of their own activities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

from grenier.activities import figures
from grenier.activities.models import ActivityKind
from grenier.activities.views.common import organiser_page, render_page
from grenier.core.models import Territory
from grenier.core.months import last_of_month

FIRST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    """What the figures are asked for, each part checked (anything else falls back to the whole current year)."""

    year: int
    month: int | None
    kind_id: int | None
    organiser: str | None

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        return last_of_month(self.start) if self.month else date(self.year, 12, 31)


def _int(raw: str | None, low: int, high: int) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


def period_of(query: QueryDict | dict[str, str], territory: Territory, organisers: dict[str, str]) -> Period:
    """The period and filters asked in ``query`` (the page's or the API's), those that do not exist dropped."""
    today = timezone.localdate()
    kind_id = _int(query.get("kind"), 1, 2**31 - 1)
    if kind_id is not None and not ActivityKind.objects.filter(territory=territory, pk=kind_id).exists():
        kind_id = None
    organiser = query.get("organiser") or None
    return Period(
        year=_int(query.get("year"), FIRST_YEAR, today.year + 1) or today.year,
        month=_int(query.get("month"), 1, 12),
        kind_id=kind_id,
        organiser=organiser if organiser in organisers else None,
    )


@organiser_page
def figures_page(request: HttpRequest, territory: Territory) -> HttpResponse:
    activities, everything = figures.readable(request.user, territory)
    organisers = figures.organisers_of(activities)
    period = period_of(request.GET, territory, organisers)
    found = figures.figures(
        territory=territory,
        start=period.start,
        end=period.end,
        activities=activities,
        kind_id=period.kind_id,
        organiser=period.organiser,
        with_distributions=everything,
    )
    today = timezone.localdate()
    return render_page(
        request,
        territory,
        "figures.html",
        figures=found,
        period=period,
        everything=everything,
        years=list(range(today.year + 1, today.year - 6, -1)),
        months=[(m, date(2000, m, 1)) for m in range(1, 13)],
        kinds=list(ActivityKind.objects.filter(territory=territory).order_by("id")),
        organisers=organisers,
    )
