"""E-mails of the activities: a place freed for someone on the waiting list (or freed, but their food credit could
not pay it), a session's price changed for the households registered, and the reminder the day before.

Plain text in the installation's language, sent once the transaction that decided them commits
(``transaction.on_commit``), so a rolled-back write sends nothing. Recipient: the household's e-mail, else the
person who registered it (a member's own login, the social worker, the organiser who registered a class).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from grenier.activities.models import Registration
from grenier.activities.wording import persons_text, price_text
from grenier.core.money import format_cents
from grenier.fund.payments import credit_balance


def recipients(registration: Registration) -> list[str]:
    household = registration.household
    if household is not None and household.email:
        return [household.email]
    by = registration.registered_by
    return [by.email] if by is not None and by.is_active and by.email else []


def _session_lines(registration: Registration) -> list[str]:
    session = registration.session
    base = getattr(settings, "GRENIER_BASE_URL", "").rstrip("/")
    link = base + reverse("activities_session", args=[session.territory.slug, session.pk])
    lines = [
        _("%(title)s, %(day)s from %(start)s to %(end)s.")
        % {
            "title": session.activity.title,
            "day": date_format(session.date, "l j F Y"),
            "start": time_format(session.starts_at, "H:i"),
            "end": time_format(session.ends_at, "H:i"),
        },
        _("Where: %(where)s") % {"where": session.where},
        _("For %(persons)s.") % {"persons": persons_text(registration.adults, registration.children)},
    ]
    if session.accessibility:
        lines.append(_("Access: %(notes)s") % {"notes": session.accessibility})
    lines.append(_("The session: %(link)s") % {"link": link})
    return lines


def _send(registration: Registration, subject: str, first: str) -> int:
    to = recipients(registration)
    if not to:
        return 0
    body = "\n\n".join([first, *_session_lines(registration)])
    return send_mail(subject, body, None, to)


def _registration(registration_id: int) -> Registration:
    return Registration.objects.select_related(
        "session__activity", "session__territory", "household", "registered_by"
    ).get(pk=registration_id)


def place_freed(registration_id: int) -> int:
    registration = _registration(registration_id)
    return _send(
        registration,
        _("A place is yours: %(title)s") % {"title": registration.session.activity.title},
        _("A place freed up and you were next on the waiting list: you are registered."),
    )


def place_unpaid(registration_id: int) -> int:
    """A place freed up for a waiting household whose food credit does not cover its part: it stays waiting, the next
    in line got the place."""
    registration = _registration(registration_id)
    left = credit_balance(registration.household) if registration.household is not None else 0
    return _send(
        registration,
        _("A place freed up, not enough food credit: %(title)s")
        % {"title": registration.session.activity.title},
        _(
            "A place freed up and you were next on the waiting list, but your household's food credit "
            "(%(left)s) does not cover the price of this registration (%(price)s), so the place was offered to the "
            "next household in line. You keep your rank on the waiting list: once your credit covers the price, "
            "the next place freed is yours."
        )
        % {"left": format_cents(left), "price": format_cents(registration.price_cents)},
    )


def price_changed(registration_id: int, before: str, part_before_cents: int) -> int:
    """The session's price changed while this household holds a place or waits for one: what it was (``before``,
    in words, and its part), what it is, and until when it may cancel, once per change."""
    registration = _registration(registration_id)
    session = registration.session
    base = getattr(settings, "GRENIER_BASE_URL", "").rstrip("/")
    deadline = timezone.localtime(session.registration_deadline)
    return _send(
        registration,
        _("Price changed: %(title)s") % {"title": session.activity.title},
        "\n\n".join(
            [
                _(
                    "The organiser changed the price of this session, for which your household is registered: it "
                    "was %(before)s, it is now %(after)s. Your part: %(old)s before, %(new)s now."
                )
                % {
                    "before": before,
                    "after": price_text(session),
                    "old": format_cents(part_before_cents),
                    "new": format_cents(registration.price_cents),
                },
                _(
                    "If it no longer suits you, cancel your registration before %(deadline)s, from your "
                    "registrations: %(link)s"
                )
                % {
                    "deadline": date_format(deadline, "l j F Y, H:i"),
                    "link": base + reverse("activities_mine", args=[session.territory.slug]),
                },
            ]
        ),
    )


def reminder(registration_id: int) -> int:
    registration = _registration(registration_id)
    return _send(
        registration,
        _("Tomorrow: %(title)s") % {"title": registration.session.activity.title},
        _("A reminder: you are registered for tomorrow. If you cannot come, tell the organiser."),
    )
