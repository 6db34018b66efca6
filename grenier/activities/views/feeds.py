"""Calendar feeds (iCalendar): a territory's public one, a person's at their secret address (no login: calendar
apps cannot log in), and the person's buttons to make, renew or stop that address on their registrations page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grenier.activities import feeds, services
from grenier.activities.models import Session
from grenier.activities.views.common import registrant_page
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.core.models import Territory


def _territory(slug: str) -> Territory:
    territory = Territory.objects.filter(slug=slug).first()
    if territory is None:
        raise NotFound(_("This territory does not exist."))
    return territory


def _ics(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _link(request: HttpRequest) -> feeds.Link:
    def link(session: Session) -> str:
        return request.build_absolute_uri(
            reverse("activities_session", args=[session.territory.slug, session.pk])
        )

    return link


@require_GET
def territory_feed(request: HttpRequest, slug: str) -> HttpResponse:
    territory = _territory(slug)
    body = feeds.territory_calendar(territory, timezone.localdate(), _link(request))
    return _ics(body, f"{territory.slug}-activites.ics")


@require_GET
def person_feed(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    territory = _territory(slug)
    feed = feeds.feed_for_token(territory, token)
    if feed is None:
        raise NotFound(_("This calendar address does not work any more: copy the new one from Grenier."))
    response = _ics(feeds.person_calendar(feed, timezone.localdate(), _link(request)), "grenier.ics")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@registrant_page
@require_POST
def feed_renew(request: HttpRequest, territory: Territory) -> HttpResponse:
    services.calendar_feed_renew(user=user_of(request), territory=territory)
    messages.success(
        request, _("Your calendar address is ready. Any earlier address stopped working: copy this one.")
    )
    return redirect(reverse("activities_mine", args=[territory.slug]) + "#calendar-feed")


@registrant_page
@require_POST
def feed_stop(request: HttpRequest, territory: Territory) -> HttpResponse:
    services.calendar_feed_stop(user=user_of(request), territory=territory)
    messages.success(request, _("Your calendar address no longer works."))
    return redirect(reverse("activities_mine", args=[territory.slug]) + "#calendar-feed")
