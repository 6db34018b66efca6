"""Pages of governance: open votes, a proposal and its ballot, a new proposal, the decision log, the bodies.

Every page resolves the territory and checks the permission through ``territory_page``; proposing and voting depend
on membership of a body, which the services check. A secret ballot's receipt goes to a cookie on the voter's
device only: never into the session, which is a database row linked to the person.
"""

from __future__ import annotations

import csv
import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.months import shift_month
from grenier.core.pages import error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.governance import forms, kinds, selectors, services
from grenier.governance.models import Body, BodyKind, Choice, Decision, EffectStatus, Proposal

RECEIPT_MAX_AGE = 90 * 24 * 3600  # seconds: longer than any vote stays open


# --- helpers -------------------------------------------------------------------------------------------------------


def _proposal(territory: Territory, proposal_id: int) -> Proposal:
    return services.proposal_for(territory, proposal_id)


def _back(territory: Territory, proposal: Proposal) -> HttpResponse:
    return redirect("governance_proposal", territory.slug, proposal.pk)


def receipt_cookie(proposal: Proposal) -> str:
    """Named with "secret" so that Django's error reports hide its value like a password's: a receipt holds the
    voter's choice (sealed)."""
    return f"grenier_secret_receipt_{proposal.pk}"


def _old_receipt_cookie(proposal: Proposal) -> str:
    return f"grenier_receipt_{proposal.pk}"  # before migration 0003; read until those votes close


def _receipt(request: HttpRequest, proposal: Proposal) -> str | None:
    """The receipt this device holds for ``proposal``, if it is the logged-in person's: a shared phone keeps one
    cookie per vote, and someone else's receipt must never change their ballot."""
    raw = request.COOKIES.get(receipt_cookie(proposal)) or request.COOKIES.get(
        _old_receipt_cookie(proposal), ""
    )
    owner, _sep, receipt = raw.partition(":")
    if not receipt or owner != str(user_of(request).pk):
        return None
    return receipt


def _kind_label(proposal: Proposal) -> str:
    kind = kinds.REGISTRY.get(proposal.kind)
    return str(kind.label) if kind else proposal.kind


def _may_manage(request: HttpRequest, territory: Territory) -> bool:
    return permissions.can(request.user, territory, Action.GOV_MANAGE)


def _choice_label(choice: str | None) -> str:
    return str(Choice(choice).label) if choice in Choice.values else ""


def _why(decision: Decision, proposal: Proposal) -> str:
    """Why the proposal is adopted or rejected, in words."""
    majority = proposal.get_majority_display()
    if decision.reason == "adopted":
        return _("The majority needed (%(majority)s) is reached.") % {"majority": majority}
    if decision.reason == "quorum_not_met":
        return _("Too few members took part: a quorum of %(q)s %% was needed.") % {
            "q": proposal.quorum_percent
        }
    if decision.reason == "majority_not_reached":
        return _("The majority needed (%(majority)s) is not reached.") % {"majority": majority}
    if decision.reason == "no_votes":
        return _("Nobody voted for or against: there were only abstentions.")
    return decision.reason


def _verdict(decision: Decision) -> str:
    return _("Adopted") if decision.adopted else _("Rejected")


def _quorum_words(proposal: Proposal, electorate: int) -> str:
    if not proposal.quorum_percent:
        return _("No quorum: the result counts however many members take part.")
    needed = max(math.ceil(proposal.quorum_percent * electorate / 100), 1)
    return _("At least %(q)s %% of the members must take part: %(n)s of %(total)s.") % {
        "q": proposal.quorum_percent,
        "n": needed,
        "total": electorate,
    }


def _preview(proposal: Proposal) -> list[str]:
    try:
        return services.preview(proposal)
    except (GrenierError, ObjectDoesNotExist, ValidationError):
        return []


# --- open votes ----------------------------------------------------------------------------------------------------


@territory_page(Action.GOV_READ, nav="governance")
def proposals(request: HttpRequest, territory: Territory) -> HttpResponse:
    user = user_of(request)
    rows = []
    for proposal in selectors.proposals_open(territory):
        my_vote = selectors.my_vote(proposal, user)
        rows.append(
            {
                "proposal": proposal,
                "participation": services.participation(proposal),
                "electorate": services.electorate_at(proposal.body, proposal.opens_at),
                "may_vote": services.may_vote(proposal, user),
                "my_vote": my_vote,
                "my_choice": "" if proposal.secret else _choice_label(my_vote),
                "has_receipt": proposal.secret and _receipt(request, proposal) is not None,
            }
        )
    return render(
        request,
        "governance/proposals.html",
        {
            "territory": territory,
            "open_rows": rows,
            "upcoming": list(selectors.proposals_upcoming(territory)),
            "due": list(selectors.proposals_due(territory).order_by("closes_at")),
            "may_manage": _may_manage(request, territory),
            "may_propose": bool(selectors.bodies_of(user, territory)),
            "recent": list(selectors.decision_log(territory)[:3]),
            "choices": Choice.choices,
        },
    )


# --- a proposal ----------------------------------------------------------------------------------------------------


@territory_page(Action.GOV_READ, nav="governance")
def proposal(request: HttpRequest, territory: Territory, proposal_id: int) -> HttpResponse:
    proposal = _proposal(territory, proposal_id)
    user = user_of(request)
    state = services.state(proposal)
    decision = Decision.objects.filter(proposal=proposal).first() if state == "closed" else None
    electorate = decision.electorate if decision else services.electorate_at(proposal.body, proposal.opens_at)
    my_vote = selectors.my_vote(proposal, user)
    kind = kinds.REGISTRY.get(proposal.kind)
    context: dict[str, Any] = {
        "territory": territory,
        "proposal": proposal,
        "state": state,
        "kind_label": _kind_label(proposal),
        "preview": _preview(proposal),
        "electorate": electorate,
        "participation": decision.participants if decision else services.participation(proposal),
        "quorum_words": _quorum_words(proposal, electorate),
        "my_vote": my_vote,
        "my_choice": "" if proposal.secret else _choice_label(my_vote),
        "has_receipt": proposal.secret and _receipt(request, proposal) is not None,
        "may_vote": state == "open" and services.may_vote(proposal, user),
        "is_member": services.is_member(proposal.body, user),
        "may_manage": _may_manage(request, territory),
        "public_ballots": [
            (ballot.voter.get_full_name(), _choice_label(ballot.choice))
            for ballot in selectors.public_ballots(proposal)
        ],
        "decision": decision,
        "reason": _why(decision, proposal) if decision else "",
        "choices": Choice.choices,
    }
    if kind is not None and kind.panel is not None and state != "closed":
        context["panel"] = kind.panel(proposal)
    return render(request, "governance/proposal.html", context)


@territory_page(Action.GOV_READ, nav="governance")
@sensitive_post_parameters("choice")  # an error report never shows what was chosen, nor the receipt
@require_POST
@sensitive_variables("result")
def vote(request: HttpRequest, territory: Territory, proposal_id: int) -> HttpResponse:
    proposal = _proposal(territory, proposal_id)
    voter = user_of(request)
    try:
        result = services.ballot_cast(
            proposal=proposal,
            voter=voter,
            choice=request.POST.get("choice", ""),
            receipt=_receipt(request, proposal) if proposal.secret else None,
        )
    except GrenierError as exc:
        messages.error(request, exc.detail)
        return _back(territory, proposal)
    # Never the choice of a secret vote in a message: messages may be kept in the session.
    if proposal.secret:
        messages.success(
            request, _("Your vote is changed.") if result.changed else _("Your vote is recorded.")
        )
    else:
        done = (
            _("Your vote is changed: %(choice)s.")
            if result.changed
            else _("Your vote is recorded: %(choice)s.")
        )
        messages.success(request, done % {"choice": _choice_label(result.choice)})
    response = _back(territory, proposal)
    if proposal.secret and result.receipt:
        # On this device only, tied to this person: the database keeps a hash of the receipt and nothing else.
        # Every ballot gives a new receipt (it holds the choice, sealed): the cookie follows.
        response.set_cookie(
            receipt_cookie(proposal),
            f"{voter.pk}:{result.receipt}",
            max_age=RECEIPT_MAX_AGE,
            path=reverse("governance_proposals", args=[territory.slug]),
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        if _old_receipt_cookie(proposal) in request.COOKIES:
            response.delete_cookie(
                _old_receipt_cookie(proposal), path=reverse("governance_proposals", args=[territory.slug])
            )
    return response


@territory_page(Action.GOV_MANAGE, nav="governance")
@require_POST
def close(request: HttpRequest, territory: Territory, proposal_id: int) -> HttpResponse:
    proposal = _proposal(territory, proposal_id)
    try:
        decision = services.proposal_close(proposal=proposal, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{_verdict(decision)} — {_why(decision, proposal)}")
    return _back(territory, proposal)


@territory_page(Action.GOV_MANAGE, nav="governance")
@require_POST
def retry(request: HttpRequest, territory: Territory, proposal_id: int) -> HttpResponse:
    proposal = _proposal(territory, proposal_id)
    decision = Decision.objects.filter(proposal=proposal).first()
    if decision is None:
        raise Http404(_("This proposal has no decision yet."))
    try:
        decision = services.effect_retry(decision=decision, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, exc.detail)
    else:
        if decision.effect_status == EffectStatus.APPLIED:
            messages.success(
                request, _("The decision is applied: %(summary)s") % {"summary": decision.effect_summary}
            )
        else:
            messages.error(request, _("It failed again: %(error)s") % {"error": decision.effect_error})
    return _back(territory, proposal)


# --- a new proposal ------------------------------------------------------------------------------------------------


@territory_page(Action.GOV_READ, nav="governance")
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    user = user_of(request)
    order = list(BodyKind)
    bodies = sorted(selectors.bodies_of(user, territory), key=lambda body: order.index(BodyKind(body.kind)))
    if not bodies:
        return render(request, "governance/not_a_member.html", {"territory": territory}, status=403)
    now = timezone.localtime().replace(second=0, microsecond=0)
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "opens_at": now,
        "closes_at": now + timedelta(days=7),
        "effective_month": f"{shift_month(today.replace(day=1), 1):%Y-%m}",
        "kind": "motion",
        "secret": True,
    }
    form = forms.ProposalForm(
        request.POST or None,
        initial=initial,
        territory=territory,
        bodies=[(body.pk, body.name) for body in bodies],
        today=today,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        body = next(b for b in bodies if b.pk == data["body"])
        try:
            created = services.proposal_create(
                body=body,
                author=user,
                title=data["title"],
                text=data["text"],
                kind=data["kind"],
                payload=form.payload,
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                quorum_percent=data["quorum_percent"],
                majority=data["majority"],
                secret=data["secret"],
                effective_month=data["effective_month"],
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, lambda name: form.field_for(data["kind"], name))
        else:
            messages.success(
                request,
                _("Your proposal is recorded. The members of %(body)s are told when voting opens.")
                % {"body": body.name},
            )
            return redirect("governance_proposal", territory.slug, created.pk)
    payload_groups = [
        {"kind": name, "label": kind.label, "fields": form.fields_of(name)}
        for name, kind in kinds.REGISTRY.items()
        if form.fields_of(name)
    ]
    return render(
        request,
        "governance/proposal_form.html",
        {
            "territory": territory,
            "form": form,
            "payload_groups": payload_groups,
            "idempotency_key": idempotency_key(request),
        },
    )


# --- the decision log ----------------------------------------------------------------------------------------------


@territory_page(Action.GOV_READ, nav="governance")
def decisions(request: HttpRequest, territory: Territory) -> HttpResponse:
    page = Paginator(selectors.decision_log(territory), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/decisions.html",
        {
            "territory": territory,
            "page": page,
            "rows": [(d, _why(d, d.proposal), _kind_label(d.proposal)) for d in page.object_list],
        },
    )


EXPORT_COLUMNS = (
    "closed_at",
    "proposal",
    "title",
    "body",
    "kind",
    "secret",
    "opens_at",
    "closes_at",
    "quorum_percent",
    "majority",
    "electorate",
    "participants",
    "votes_for",
    "votes_against",
    "abstentions",
    "quorum_met",
    "adopted",
    "reason",
    "effective_month",
    "effect_status",
    "effect_applied_at",
    "effect_summary",
)


def _export_rows(territory: Territory) -> list[dict[str, Any]]:
    """What the decision log says, counts only: no voter's or author's name."""
    rows = []
    for decision in selectors.decision_log(territory).iterator():
        proposal = decision.proposal
        rows.append(
            {
                "closed_at": timezone.localtime(decision.closed_at).isoformat(timespec="minutes"),
                "proposal": proposal.pk,
                "title": proposal.title,
                "body": proposal.body.name,
                "kind": proposal.kind,
                "secret": proposal.secret,
                "opens_at": timezone.localtime(proposal.opens_at).isoformat(timespec="minutes"),
                "closes_at": timezone.localtime(proposal.closes_at).isoformat(timespec="minutes"),
                "quorum_percent": proposal.quorum_percent,
                "majority": proposal.majority,
                "electorate": decision.electorate,
                "participants": decision.participants,
                "votes_for": decision.votes_for,
                "votes_against": decision.votes_against,
                "abstentions": decision.abstentions,
                "quorum_met": decision.quorum_met,
                "adopted": decision.adopted,
                "reason": decision.reason,
                "effective_month": f"{proposal.effective_month:%Y-%m}" if proposal.effective_month else None,
                "effect_status": decision.effect_status,
                "effect_applied_at": (
                    timezone.localtime(decision.effect_applied_at).isoformat(timespec="minutes")
                    if decision.effect_applied_at
                    else None
                ),
                "effect_summary": decision.effect_summary,
            }
        )
    return rows


def _csv_value(value: Any) -> Any:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "" if value is None else value


@territory_page(Action.GOV_READ, nav="governance")
def decisions_csv(request: HttpRequest, territory: Territory) -> HttpResponse:
    rows = _export_rows(territory)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="decisions-{territory.slug}.csv"'
    response.write("\ufeff")  # so that a spreadsheet opens the accents right
    writer = csv.writer(response, delimiter=";")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(row[column]) for column in EXPORT_COLUMNS])
    return response


@territory_page(Action.GOV_READ, nav="governance")
def decisions_json(request: HttpRequest, territory: Territory) -> HttpResponse:
    response = JsonResponse(
        _export_rows(territory), safe=False, json_dumps_params={"ensure_ascii": False, "indent": 1}
    )
    response["Content-Disposition"] = f'inline; filename="decisions-{territory.slug}.json"'
    return response


# --- bodies --------------------------------------------------------------------------------------------------------


@territory_page(Action.GOV_READ, nav="governance")
def bodies(request: HttpRequest, territory: Territory) -> HttpResponse:
    user = user_of(request)
    order = list(BodyKind)
    rows = sorted(
        Body.objects.filter(territory=territory).annotate(
            members=Count("memberships", filter=Q(memberships__left_at__isnull=True))
        ),
        key=lambda body: (order.index(BodyKind(body.kind)), body.name.casefold()),
    )
    return render(
        request,
        "governance/bodies.html",
        {
            "territory": territory,
            "bodies": [(body, services.is_member(body, user)) for body in rows],
            "may_manage": _may_manage(request, territory),
            "kinds": [(kind.value, kind.label) for kind in BodyKind],
        },
    )


def _body(territory: Territory, body_id: int) -> Body:
    body = Body.objects.filter(territory=territory, pk=body_id).first()
    if body is None:
        raise Http404(_("No body has this number here."))
    return body


@territory_page(Action.GOV_READ, nav="governance")
@require_POST
def join(request: HttpRequest, territory: Territory, body_id: int) -> HttpResponse:
    body = _body(territory, body_id)
    user = user_of(request)
    services.membership_join(body=body, user=user, actor=user)
    messages.success(
        request,
        _("You are a member of %(body)s. You vote on what opens from now on.") % {"body": body.name},
    )
    return redirect("governance_bodies", territory.slug)


@territory_page(Action.GOV_READ, nav="governance")
@require_POST
def leave(request: HttpRequest, territory: Territory, body_id: int) -> HttpResponse:
    body = _body(territory, body_id)
    user = user_of(request)
    services.membership_leave(body=body, user=user, actor=user)
    messages.success(
        request, _("You have left %(body)s. Your ballots already cast stay.") % {"body": body.name}
    )
    return redirect("governance_bodies", territory.slug)


@territory_page(Action.GOV_MANAGE, nav="governance")
@require_POST
def body_create(request: HttpRequest, territory: Territory) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in BodyKind.values:
        messages.error(request, _("Choose a kind of body."))
        return redirect("governance_bodies", territory.slug)
    try:
        body = services.body_create(
            territory=territory,
            kind=BodyKind(kind),
            name=request.POST.get("name", ""),
            actor=user_of(request),
        )
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, _("%(body)s is open: every person of the territory may join it.") % {"body": body.name}
        )
    return redirect("governance_bodies", territory.slug)
