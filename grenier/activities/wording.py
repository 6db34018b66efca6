"""Counts said in words with the right plural ("1 enfant", "2 enfants", "0 enfant" in French), for pages, e-mails
and the programme alike."""

from __future__ import annotations

from django.utils.translation import gettext, ngettext

from grenier.activities.models import Audience, PaidIn, Session
from grenier.core.money import format_cents


def adults_text(adults: int) -> str:
    return ngettext("%(count)s adult", "%(count)s adults", adults) % {"count": adults}


def children_text(children: int) -> str:
    return ngettext("%(count)s child", "%(count)s children", children) % {"count": children}


def persons_text(adults: int, children: int) -> str:
    """ "2 adults, 1 child"; the children left out when there are none ("1 adult")."""
    if not children:
        return adults_text(adults)
    if not adults:
        return children_text(children)
    return f"{adults_text(adults)}, {children_text(children)}"


def places_left_text(left: int) -> str:
    """ "7 places left", "1 place left", or that the session is full and new registrations wait."""
    if left <= 0:
        return gettext("Full: new registrations go on the waiting list.")
    return ngettext("%(count)s place left", "%(count)s places left", left) % {"count": left}


def audience_text(session: Session) -> str:
    """Who may come, as the session's card says it."""
    if session.audience == Audience.GARDEN:
        return gettext("For the members of %(garden)s") % {"garden": session.audience_garden}
    if session.audience == Audience.GROUP:
        return gettext("For the members of %(group)s") % {"group": session.audience_group}
    if session.audience == Audience.SCHOOL:
        return gettext("For school classes")
    return gettext("Open to every member household")


def price_per_person_text(session: Session) -> str:
    """ "3,00 € per adult, 1,00 € per child", "3,00 € per person", "3,00 € per adult, free for children" (a priced
    session)."""
    adult, child = format_cents(session.price_adult_cents), format_cents(session.price_child_cents)
    if session.price_child_cents == 0:
        return gettext("%(adult)s per adult, free for children") % {"adult": adult}
    if session.price_adult_cents == session.price_child_cents:
        return gettext("%(price)s per person") % {"price": adult}
    if session.price_adult_cents == 0:
        return gettext("free for adults, %(child)s per child") % {"child": child}
    return gettext("%(adult)s per adult, %(child)s per child") % {"adult": adult, "child": child}


def price_text(session: Session) -> str:
    """The price as a programme, a calendar or a session's card says it in a few words: "free", or "3,00 € per
    adult, 1,00 € per child, in food credit" ("…, in euros")."""
    if session.paid_in == PaidIn.FREE:
        return gettext("free")
    if session.paid_in == PaidIn.CREDIT:
        return gettext("%(price)s, in food credit") % {"price": price_per_person_text(session)}
    return gettext("%(price)s, in euros") % {"price": price_per_person_text(session)}
