"""E-mails of governance: a vote opens, closes tomorrow, is closed. Sent once each (a dated flag on the proposal),
to the body's members of now, after the transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.governance.bodies import members_now
from grenier.governance.models import Decision, Proposal


def _link(proposal: Proposal) -> str:
    base = getattr(settings, "GRENIER_BASE_URL", "").rstrip("/")
    return base + reverse("governance_proposal", args=[proposal.territory.slug, proposal.pk])


def _send(proposal: Proposal, subject: str, body: str) -> None:
    recipients = [user.email for user in members_now(proposal.body) if user.email]
    if not recipients:
        return
    sender = settings.DEFAULT_FROM_EMAIL
    messages = [(subject, body, sender, [email]) for email in recipients]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def notify_open(proposal: Proposal) -> None:
    with transaction.atomic():
        if not Proposal.objects.filter(pk=proposal.pk, notified_open_at__isnull=True).update(
            notified_open_at=timezone.now()
        ):
            return
        _send(
            proposal,
            _("Vote open: %(title)s") % {"title": proposal.title},
            _("A vote is open in %(body)s until %(when)s: %(title)s\n\nRead it and vote: %(link)s\n")
            % {
                "body": proposal.body.name,
                "when": f"{timezone.localtime(proposal.closes_at):%d/%m/%Y %H:%M}",
                "title": proposal.title,
                "link": _link(proposal),
            },
        )


def notify_reminder(proposal: Proposal) -> None:
    with transaction.atomic():
        if not Proposal.objects.filter(pk=proposal.pk, notified_reminder_at__isnull=True).update(
            notified_reminder_at=timezone.now()
        ):
            return
        _send(
            proposal,
            _("Vote closes tomorrow: %(title)s") % {"title": proposal.title},
            _("The vote on “%(title)s” closes on %(when)s.\n\n%(link)s\n")
            % {
                "title": proposal.title,
                "when": f"{timezone.localtime(proposal.closes_at):%d/%m/%Y %H:%M}",
                "link": _link(proposal),
            },
        )


def notify_closed(proposal: Proposal, decision: Decision) -> None:
    result = _("adopted") if decision.adopted else _("rejected")
    _send(
        proposal,
        _("Vote closed: %(title)s — %(result)s") % {"title": proposal.title, "result": result},
        _(
            "“%(title)s” is %(result)s: %(for)s for, %(against)s against, %(abstentions)s, "
            "%(participants)s of %(electorate)s members took part.\n\n%(link)s\n"
        )
        % {
            "title": proposal.title,
            "result": result,
            "for": decision.votes_for,
            "against": decision.votes_against,
            # French says "0 abstention", "1 abstention", "2 abstentions"
            "abstentions": ngettext("%(count)s abstention", "%(count)s abstentions", decision.abstentions)
            % {"count": decision.abstentions},
            "participants": decision.participants,
            "electorate": decision.electorate,
            "link": _link(proposal),
        },
    )
