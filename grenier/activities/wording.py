"""Counts said in words with the right plural ("1 enfant", "2 enfants", "0 enfant" in French), for pages, e-mails
and the programme alike."""

from __future__ import annotations

from django.utils.translation import ngettext


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
