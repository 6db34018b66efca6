"""The public calendar of a territory's upcoming sessions: what, where, when, places left, who may come. No login,
no person named: anyone the territory tells about its workshops can read it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities import selectors
from grenier.activities.models import Session
from grenier.core.errors import NotFound
from grenier.core.models import Territory

CALENDAR_LENGTH = 60  # sessions on the page: about two months of a busy territory


def calendar(request: HttpRequest, slug: str) -> HttpResponse:
    territory = Territory.objects.filter(slug=slug).first()
    if territory is None:
        raise NotFound(_("This territory does not exist."))
    sessions = list(
        selectors.upcoming(Session.objects.filter(territory=territory), timezone.localdate())[
            :CALENDAR_LENGTH
        ]
    )
    return render(
        request,
        "activities/calendar.html",
        {"calendar_territory": territory, "sessions": sessions, "now": timezone.now()},
    )
