"""Template filters shared by every module: money, card numbers, role and event labels."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from grenier.core.cards import format_card_number
from grenier.core.models import Role
from grenier.core.money import format_cents

register = template.Library()


@register.filter
def cents(value: int | None) -> str:
    return "—" if value is None else format_cents(value)


@register.filter
def card(value: str) -> str:
    return format_card_number(value)


@register.filter
def role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return value


_EVENT_LABELS = {
    "household.join": N_("A household joined"),
    "household.leave": N_("A household left"),
    "role.grant": N_("A role was granted"),
    "role.revoke": N_("A role was withdrawn"),
    "token.create": N_("An API token was created"),
    "token.revoke": N_("An API token was revoked"),
}


@register.filter
def event_label(value: str) -> str:
    label = _EVENT_LABELS.get(value)
    return _(label) if label else value
