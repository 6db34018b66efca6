"""Every write of governance: proposals, ballots, closing, effects (bodies and memberships in ``bodies.py``,
e-mails in ``notifications.py``, both reached through here too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from grenier.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.governance import kinds, notifications, secrecy
from grenier.governance.bodies import (  # noqa: F401 - callers use them through services
    body_create,
    body_ensure,
    electorate_at,
    is_member,
    members_at,
    members_now,
    membership_join,
    membership_leave,
)
from grenier.governance.models import (
    Ballot,
    Body,
    Choice,
    ConvertedReceipt,
    Decision,
    EffectStatus,
    Majority,
    Participation,
    Proposal,
)

REMINDER_BEFORE = timedelta(days=1)


# --- proposals -----------------------------------------------------------------------------------------------------


def proposal_create(
    *,
    body: Body,
    author: User,
    title: str,
    text: str,
    kind: str,
    payload: dict[str, Any],
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int,
    majority: Majority,
    secret: bool,
    effective_month: date | None,
    idempotency_key: str,
) -> Proposal:
    """A member of ``body`` puts a proposal to it. The same key again returns the first proposal; with another
    proposal it is refused (``KeyReused``)."""
    territory = body.territory
    request = {
        "body": body,
        "author": author,
        "title": title.strip(),
        "text": text,
        "kind": kind,
        "payload": payload,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "quorum_percent": quorum_percent,
        "majority": majority,
        "secret": secret,
        "effective_month": effective_month,
    }
    existing = Proposal.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if not is_member(body, author):
        raise Forbidden(_("Only a member of this body may put a proposal to it."))
    kind_ = kinds.get(kind)
    errors = _proposal_errors(kind_, title, opens_at, closes_at, quorum_percent, effective_month)
    if errors:
        raise InvalidInput(_("The proposal is not complete."), errors=errors)
    parsed = kinds.parse(kind_, territory, payload)
    with transaction.atomic():
        # A savepoint: the same key racing in fails on the unique index here, not the whole transaction.
        try:
            with transaction.atomic():
                proposal = Proposal.objects.create(
                    territory=territory,
                    body=body,
                    author=author,
                    title=title.strip()[:200],
                    text=text,
                    kind=kind,
                    payload=parsed.model_dump(mode="json"),
                    opens_at=opens_at,
                    closes_at=closes_at,
                    quorum_percent=quorum_percent,
                    majority=majority,
                    secret=secret,
                    effective_month=effective_month.replace(day=1) if effective_month else None,
                    idempotency_key=idempotency_key,
                    request_fingerprint=fingerprint(**request),
                )
        except IntegrityError:
            won = Proposal.objects.get(territory=territory, idempotency_key=idempotency_key)
            return replayed(won, key=idempotency_key, **request)
        if secret:  # sealed zeros now, so that every ballot, the first included, rewrites the same row
            secrecy.counts_write(proposal, [0, 0, 0])
        audit(
            territory=territory, actor=author, action="governance.propose", subject=f"proposal:{proposal.pk}"
        )
    if proposal.opens_at <= timezone.now():
        notifications.notify_open(proposal)
    return proposal


def _proposal_errors(
    kind: kinds.Kind,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int,
    effective_month: date | None,
) -> dict[str, list[str]]:
    """What is wrong with a proposal's title, dates, quorum and month, field by field (nothing: an empty dict)."""
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("A proposal needs a title.")]
    if closes_at <= opens_at:
        errors["closes_at"] = [_("Voting closes after it opens.")]
    elif closes_at <= timezone.now():
        errors["closes_at"] = [_("Voting must close in the future.")]
    if not 0 <= quorum_percent <= 100:
        errors["quorum_percent"] = [_("Between 0 and 100.")]
    if kind.needs_month:
        if effective_month is None:
            errors["effective_month"] = [_("Say from which month the new rule applies.")]
        elif effective_month.replace(day=1) < timezone.localtime(closes_at).date().replace(day=1):
            errors["effective_month"] = [
                _("The rule can only apply from the month the vote closes or later.")
            ]
    return errors


def preview(proposal: Proposal) -> list[str]:
    kind = kinds.get(proposal.kind)
    payload = kind.payload.model_validate(proposal.payload)
    return kind.preview(proposal.territory, payload, proposal.effective_month)


def state(proposal: Proposal, now: datetime | None = None) -> str:
    """``upcoming``, ``open``, ``due`` (voting over, result not computed yet) or ``closed``."""
    if Decision.objects.filter(proposal=proposal).exists():
        return "closed"
    moment = now or timezone.now()
    if moment < proposal.opens_at:
        return "upcoming"
    if moment < proposal.closes_at:
        return "open"
    return "due"


# --- ballots -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BallotResult:
    choice: str
    changed: bool
    receipt: str | None  # secret votes: what lets this voter change their choice; shown once, never stored


def may_vote(proposal: Proposal, user: User) -> bool:
    """Members of the body when voting opened, who still are."""
    return is_member(proposal.body, user, proposal.opens_at) and is_member(proposal.body, user)


@sensitive_variables("choice", "receipt")
def ballot_cast(
    *, proposal: Proposal, voter: User, choice: str, receipt: str | None = None, now: datetime | None = None
) -> BallotResult:
    """Cast or change a ballot while the vote is open. One per member (database constraints)."""
    if choice not in Choice.values:
        raise InvalidInput(_("Choose for, against or abstention."), errors={"choice": [_("Unknown choice.")]})
    if state(proposal, now) != "open":
        raise Conflict(_("This vote is not open."))
    if not may_vote(proposal, voter):
        raise Forbidden(_("Only the members of the body when the vote opened may vote."))
    if proposal.secret:
        return _secret_cast(proposal, voter, choice, receipt, now or timezone.now())
    with transaction.atomic():
        ballot = Ballot.objects.select_for_update().filter(proposal=proposal, voter=voter).first()
        if ballot is None:
            try:
                with transaction.atomic():
                    Ballot.objects.create(proposal=proposal, voter=voter, choice=choice)
            except IntegrityError as exc:  # two first votes at once from the same person
                raise Conflict(_("Your vote was just recorded; reload the page.")) from exc
            audit(
                territory=proposal.territory,
                actor=voter,
                action="governance.vote",
                subject=f"proposal:{proposal.pk}",
            )
            return BallotResult(choice, changed=False, receipt=None)
        if ballot.choice != choice:
            ballot.choice = choice
            ballot.changed_at = timezone.now()
            ballot.save(update_fields=["choice", "changed_at"])
        return BallotResult(choice, changed=True, receipt=None)


@sensitive_variables()  # an error report never shows this frame's choice or receipt
def _secret_cast(
    proposal: Proposal, voter: User, choice: str, receipt: str | None, moment: datetime
) -> BallotResult:
    """A first ballot adds the voter to the attendance list and one to a sealed count; a change opens the voter's
    receipt (their previous choice), moves one count from it, and gives a new receipt. Both rewrite the same rows
    with values of the same length whatever the choice: nothing stored, logged or sent to the database says what
    it was (docs/decisions/0002-secret-ballots.md)."""
    with transaction.atomic():
        # The race: two ballots of one vote reading the same sealed counts, each adding its own, one lost. The
        # proposal's row lock makes them — and the close, which takes the same lock — go one at a time.
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if Decision.objects.filter(proposal=locked).exists() or moment >= locked.closes_at:
            raise Conflict(_("This vote is not open."))
        took_part = Participation.objects.filter(proposal=locked, voter=voter).first()
        counts = secrecy.counts_of(locked)
        if took_part is not None and not receipt:
            raise Forbidden(
                _(
                    "You have voted already. A secret vote can be changed only from the device you voted "
                    "on (nobody, not even Grenier, knows which ballot is yours)."
                )
            )
        if took_part is not None:
            counts[secrecy.previous_choice(locked, voter, took_part, receipt or "")] -= 1
        counts[secrecy.CHOICES.index(choice)] += 1
        new_receipt = secrecy.receipt_make(locked.pk, voter.pk, choice)
        if took_part is None:
            try:
                with transaction.atomic():
                    Participation.objects.create(
                        proposal=locked, voter=voter, receipt_hash=secrecy.receipt_hash(new_receipt)
                    )
            except IntegrityError as exc:  # the lock is a no-op on SQLite, whose writers queue anyway
                raise Conflict(_("Your vote was just recorded; reload the page.")) from exc
        else:
            Participation.objects.filter(pk=took_part.pk).update(
                receipt_hash=secrecy.receipt_hash(new_receipt)
            )
        secrecy.counts_write(locked, counts)
        if took_part is None:
            audit(
                territory=locked.territory,
                actor=voter,
                action="governance.vote",
                subject=f"proposal:{locked.pk}",
            )
        return BallotResult(choice, changed=took_part is not None, receipt=new_receipt)


@dataclass(frozen=True)
class Tally:
    participants: int
    votes_for: int
    votes_against: int
    abstentions: int


def tally(proposal: Proposal) -> Tally:
    if proposal.secret:
        votes_for, votes_against, abstentions = secrecy.counts_of(proposal)
        participants = Participation.objects.filter(proposal=proposal).count()
        return Tally(participants, votes_for, votes_against, abstentions)
    rows = Ballot.objects.filter(proposal=proposal)
    counts = {row["choice"]: row["n"] for row in rows.values("choice").annotate(n=Count("pk"))}
    return Tally(
        participants=sum(counts.values()),
        votes_for=counts.get(Choice.FOR, 0),
        votes_against=counts.get(Choice.AGAINST, 0),
        abstentions=counts.get(Choice.ABSTAIN, 0),
    )


def participation(proposal: Proposal) -> int:
    """How many have voted so far — never what they chose, while a secret vote is open."""
    if proposal.secret:
        return Participation.objects.filter(proposal=proposal).count()
    return Ballot.objects.filter(proposal=proposal).count()


# --- closing and effects -------------------------------------------------------------------------------------------


def outcome(*, electorate: int, quorum_percent: int, majority: str, counts: Tally) -> tuple[bool, bool, str]:
    """(quorum met, adopted, reason). Majorities count the votes cast for or against; abstentions count only
    towards the quorum. A tie is not a majority."""
    quorum_met = counts.participants * 100 >= quorum_percent * electorate and counts.participants > 0
    if not quorum_met:
        return False, False, "quorum_not_met"
    cast = counts.votes_for + counts.votes_against
    if cast == 0:
        return True, False, "no_votes"
    if majority == Majority.TWO_THIRDS:
        adopted = counts.votes_for * 3 >= cast * 2
    elif majority == Majority.UNANIMITY:
        adopted = counts.votes_against == 0
    else:
        adopted = counts.votes_for * 2 > cast
    return True, adopted, "adopted" if adopted else "majority_not_reached"


@dataclass(frozen=True)
class Result:
    electorate: int
    counts: Tally
    quorum_met: bool
    adopted: bool
    reason: str


def result_of(proposal: Proposal) -> Result:
    """The result as it stands: electorate at the opening, counts, quorum, majority. Written once by the close."""
    electorate = electorate_at(proposal.body, proposal.opens_at)
    counts = tally(proposal)
    quorum_met, adopted, reason = outcome(
        electorate=electorate,
        quorum_percent=proposal.quorum_percent,
        majority=proposal.majority,
        counts=counts,
    )
    return Result(electorate, counts, quorum_met, adopted, reason)


def proposal_close(*, proposal: Proposal, actor: User | None, now: datetime | None = None) -> Decision:
    """Compute the result once voting is over and write the decision; closing again returns it unchanged."""
    moment = now or timezone.now()
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        existing = Decision.objects.filter(proposal=locked).first()
        if existing is not None:
            return existing
        if moment < locked.closes_at:
            raise Conflict(
                _("Voting is open until %(when)s.")
                % {"when": f"{timezone.localtime(locked.closes_at):%d/%m/%Y %H:%M}"}
            )
        result = result_of(locked)
        electorate, counts = result.electorate, result.counts
        quorum_met, adopted, reason = result.quorum_met, result.adopted, result.reason
        has_effect = adopted and locked.kind != "motion"
        decision = Decision.objects.create(
            proposal=locked,
            closed_at=moment,
            closed_by=actor,
            electorate=electorate,
            participants=counts.participants,
            votes_for=counts.votes_for,
            votes_against=counts.votes_against,
            abstentions=counts.abstentions,
            quorum_met=quorum_met,
            adopted=adopted,
            reason=reason,
            effect_status=EffectStatus.PENDING if has_effect else EffectStatus.NONE,
        )
        Proposal.objects.filter(pk=locked.pk).update(electorate=electorate)
        ConvertedReceipt.objects.filter(proposal=locked).delete()  # nothing to change any more
        audit(
            territory=locked.territory,
            actor=actor,
            action="governance.close",
            subject=f"proposal:{locked.pk}",
        )
        notifications.notify_closed(locked, decision)
    if has_effect and _effect_due(locked, moment):
        effect_apply(decision=decision, now=moment)
        decision.refresh_from_db()
    return decision


def _effect_due(proposal: Proposal, moment: datetime) -> bool:
    """Rules are versioned by month, so they are recorded at the close and apply from their month by themselves;
    other effects wait for their month when one is given."""
    if kinds.get(proposal.kind).needs_month or proposal.effective_month is None:
        return True
    return proposal.effective_month <= timezone.localtime(moment).date().replace(day=1)


def effect_apply(*, decision: Decision, now: datetime | None = None) -> Decision:
    """Apply an adopted decision's effect, exactly once: the decision row is locked and its state checked in the
    transaction that applies it. A failure is recorded on the decision, never silent."""
    proposal = decision.proposal
    try:
        with transaction.atomic():
            locked = (
                Decision.objects.select_for_update().select_related("proposal__territory").get(pk=decision.pk)
            )
            if locked.effect_status != EffectStatus.PENDING:
                return locked
            kind = kinds.get(proposal.kind)
            payload = kind.payload.model_validate(proposal.payload)
            decided_by = _("Decision %(n)s — %(title)s") % {"n": locked.pk, "title": proposal.title}
            summary = kind.apply(proposal.territory, payload, proposal.effective_month, decided_by[:200])
            locked.effect_status = EffectStatus.APPLIED
            locked.effect_applied_at = now or timezone.now()
            locked.effect_summary = summary
            locked.effect_error = ""
            locked.save(
                update_fields=["effect_status", "effect_applied_at", "effect_summary", "effect_error"]
            )
            audit(
                territory=proposal.territory,
                actor=None,
                action="governance.effect",
                subject=f"proposal:{proposal.pk}",
            )
            return locked
    except Exception as exc:
        detail = getattr(exc, "detail", None) or f"{type(exc).__name__}: {exc}"
        Decision.objects.filter(pk=decision.pk, effect_status=EffectStatus.PENDING).update(
            effect_status=EffectStatus.FAILED, effect_error=str(detail)[:2000]
        )
        return Decision.objects.get(pk=decision.pk)


def effect_retry(*, decision: Decision, actor: User | None) -> Decision:
    """A coordinator tries a failed effect again (once what made it fail is fixed)."""
    with transaction.atomic():
        if not Decision.objects.filter(pk=decision.pk, effect_status=EffectStatus.FAILED).update(
            effect_status=EffectStatus.PENDING
        ):
            raise Conflict(_("Only a failed effect can be tried again."))
        audit(
            territory=decision.proposal.territory,
            actor=actor,
            action="governance.effect.retry",
            subject=f"proposal:{decision.proposal_id}",
        )
    return effect_apply(decision=decision)


@dataclass
class DueSummary:
    opened_notified: int = 0
    reminded: int = 0
    closed: int = 0
    effects_applied: int = 0
    effects_failed: int = 0


def close_due(*, territory: Territory | None = None, now: datetime | None = None) -> DueSummary:
    """What cron runs: tell members about opened votes and votes closing tomorrow, close what is due, apply the
    effects whose month has come. Safe to run as often as wanted."""
    moment = now or timezone.now()
    summary = DueSummary()
    proposals = Proposal.objects.select_related("body", "territory")
    if territory is not None:
        proposals = proposals.filter(territory=territory)
    for proposal in proposals.filter(
        opens_at__lte=moment, notified_open_at__isnull=True, closes_at__gt=moment
    ):
        notifications.notify_open(proposal)
        summary.opened_notified += 1
    for proposal in proposals.filter(
        closes_at__gt=moment, closes_at__lte=moment + REMINDER_BEFORE, notified_reminder_at__isnull=True
    ).filter(opens_at__lte=moment):
        notifications.notify_reminder(proposal)
        summary.reminded += 1
    for proposal in proposals.filter(closes_at__lte=moment, decision__isnull=True):
        closed = proposal_close(proposal=proposal, actor=None, now=moment)
        summary.closed += 1
        # An effect due at the close is applied by proposal_close itself: count it here.
        if closed.effect_status == EffectStatus.APPLIED:
            summary.effects_applied += 1
        elif closed.effect_status == EffectStatus.FAILED:
            summary.effects_failed += 1
    pending = Decision.objects.filter(effect_status=EffectStatus.PENDING).select_related("proposal")
    if territory is not None:
        pending = pending.filter(proposal__territory=territory)
    for decision in pending:
        if not _effect_due(decision.proposal, moment):
            continue
        result = effect_apply(decision=decision, now=moment)
        if result.effect_status == EffectStatus.APPLIED:
            summary.effects_applied += 1
        elif result.effect_status == EffectStatus.FAILED:
            summary.effects_failed += 1
    return summary


def proposal_for(territory: Territory, proposal_id: int) -> Proposal:
    proposal = Proposal.objects.filter(territory=territory, pk=proposal_id).select_related("body").first()
    if proposal is None:
        raise NotFound(_("No proposal has this number here."))
    return proposal
