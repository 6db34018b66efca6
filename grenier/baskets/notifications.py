"""E-mails of the baskets: the coordinators are told when the budgets will not cover a coming week.

Plain text in the installation's language, sent only once the transaction that generated the week commits
(``transaction.on_commit``). Recipients: the garden's own coordinators, else every coordinator of the territory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grenier.core.models import Role, User
from grenier.core.money import format_cents

if TYPE_CHECKING:
    from grenier.baskets.models import Garden
    from grenier.baskets.selectors import Forecast


def coordinator_emails(garden: Garden) -> list[str]:
    people = list(garden.coordinators.filter(is_active=True))
    if not people:
        people = list(
            User.objects.filter(
                is_active=True,
                territory_roles__territory=garden.territory,
                territory_roles__role=Role.COORDINATOR,
            )
        )
    return sorted({person.email for person in people if person.email})


def budget_running_short(garden: Garden, forecast: Forecast) -> list[str]:
    """Mail the garden's coordinators that the week of ``forecast.first_short`` will not be covered in full."""
    to = coordinator_emails(garden)
    first = forecast.first_short
    if not to or first is None:
        return []
    base = getattr(settings, "GRENIER_BASE_URL", "").rstrip("/")
    link = base + reverse("baskets_garden", args=[garden.territory.slug, garden.pk])
    subject = _("%(garden)s: co-financing budgets run short from the week of %(date)s") % {
        "garden": garden.name,
        "date": date_format(first, "j F Y"),
    }
    body = "\n\n".join(
        [
            _(
                "At the current subscriptions, the co-financing agreements of %(garden)s will not cover the "
                "baskets of the week of %(date)s in full."
            )
            % {"garden": garden.name, "date": date_format(first, "j F Y")},
            _("Not covered by the end of the season: %(amount)s.")
            % {"amount": format_cents(forecast.short_cents)},
            _("See the forecast and the agreements: %(link)s") % {"link": link},
        ]
    )
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=True)
    )
    return to
