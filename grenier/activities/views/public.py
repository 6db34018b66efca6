"""The public calendar of a territory's upcoming sessions: what, where, when, places left, who may come. No login,
no person named, as an iCalendar feed and a printable monthly programme too: anyone the territory tells about its workshops can read it."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grenier.activities import documents, selectors
from grenier.activities.feeds import webcal
from grenier.activities.models import Session
from grenier.core.errors import NotFound
from grenier.core.models import Territory

CALENDAR_LENGTH = 60  # sessions on the page: about two months of a busy territory


def _territory(slug: str) -> Territory:
    territory = Territory.objects.filter(slug=slug).first()
    if territory is None:
        raise NotFound(_("This territory does not exist."))
    return territory


def _month_link(slug: str, month: date) -> dict[str, object]:
    return {"month": month, "url": reverse("activities_programme", args=[slug, month.year, month.month])}


def calendar(request: HttpRequest, slug: str) -> HttpResponse:
    territory = _territory(slug)
    this_month = timezone.localdate().replace(day=1)
    next_month = (this_month + timedelta(days=31)).replace(day=1)
    audience = selectors.audience_asked(request.GET.get("audience"))
    sessions = list(
        selectors.upcoming(
            selectors.for_audience(Session.objects.filter(territory=territory), audience),
            timezone.localdate(),
        )[:CALENDAR_LENGTH]
    )
    return render(
        request,
        "activities/calendar.html",
        {
            "calendar_territory": territory,
            "sessions": sessions,
            "audience": audience,
            "now": timezone.now(),
            "programmes": [_month_link(slug, this_month), _month_link(slug, next_month)],
            "webcal_url": webcal(request.build_absolute_uri(reverse("activities_feed", args=[slug]))),
        },
    )


@require_GET
def programme(request: HttpRequest, slug: str, year: int, month: int) -> HttpResponse:
    """The month's programme as a PDF to print; public like the calendar."""
    territory = _territory(slug)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise NotFound(_("No programme for this month."))
    first = date(year, month, 1)
    sessions = list(selectors.month_programme(Session.objects.filter(territory=territory), first))
    pdf = documents.programme_pdf(territory, first, sessions, timezone.localdate())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="programme-{territory.slug}-{year}-{month:02d}.pdf"'
    return response
