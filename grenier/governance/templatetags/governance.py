"""What the governance pages' shared parts ask: whether the person may put a proposal to a vote here."""

from __future__ import annotations

from typing import Any

from django import template

from grenier.governance.models import BodyMembership

register = template.Library()


@register.simple_tag(takes_context=True)
def may_propose(context: dict[str, Any], territory: Any) -> bool:
    """Proposing is for the members of one of the territory's bodies (``proposal_new`` refuses anyone else): the
    "Propose" tab is shown only to them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return BodyMembership.objects.filter(body__territory=territory, user=user, left_at__isnull=True).exists()
