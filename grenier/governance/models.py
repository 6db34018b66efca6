"""Bodies, memberships, proposals, ballots and decisions.

Secret ballots (docs/decisions/0002-secret-ballots.md): who took part is a ``Participation`` row; what was chosen
exists only as three counts per proposal, sealed in one ``SecretTally`` row under a key the database never holds
and rewritten whole at every ballot. No row holds one person's choice, so neither a query nor the order of rows,
their transaction ids, the write-ahead log or a backup links a person to a choice. The voter changes their choice
with a receipt only they hold (a cookie, or what the API returned): their own choice, sealed, of which the database
keeps only a hash.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Territory, User


class BodyKind(models.TextChoices):
    COMMITTEE = "committee", _("Citizen committee")
    GROWERS = "growers", _("Growers' regulation meeting")
    ASSEMBLY = "assembly", _("General assembly")
    COMMISSION = "commission", _("Thematic commission")
    FOLLOW_UP = "follow_up", _("Follow-up committee")


class Body(models.Model):
    """A body that decides: any number per territory and per kind (commissions beside the citizen committee), each
    with its own members and votes; its name tells it apart in its territory."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="bodies")
    kind = models.CharField(_("kind"), max_length=20, choices=BodyKind.choices)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        constraints = [models.UniqueConstraint(fields=["territory", "name"], name="one_body_per_name")]

    def __str__(self) -> str:
        return self.name


class BodyMembership(models.Model):
    """A person belongs to a body from ``joined_at``; ``left_at`` set when they leave. Joining again is a new row."""

    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["body", "user"], condition=Q(left_at__isnull=True), name="one_open_membership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.body_id}"


class Majority(models.TextChoices):
    SIMPLE = "simple", _("simple majority of votes cast")
    TWO_THIRDS = "two_thirds", _("two thirds of votes cast")
    UNANIMITY = "unanimity", _("unanimity of votes cast")


class Choice(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstention")


class Proposal(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="proposals")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="proposals")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    kind = models.CharField(_("kind"), max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    opens_at = models.DateTimeField(_("voting opens"))
    closes_at = models.DateTimeField(_("voting closes"))
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (% of members taking part)"), default=0)
    majority = models.CharField(
        _("majority"), max_length=12, choices=Majority.choices, default=Majority.SIMPLE
    )
    secret = models.BooleanField(_("secret ballot"), default=True)
    effective_month = models.DateField(_("takes effect from (month)"), null=True, blank=True)
    electorate = models.PositiveIntegerField(
        default=0
    )  # members of the body when voting opened, fixed at close
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    notified_open_at = models.DateTimeField(null=True, blank=True)
    notified_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "idempotency_key"], name="proposal_idempotency"),
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="proposal_window"),
            models.CheckConstraint(condition=Q(quorum_percent__lte=100), name="proposal_quorum_percent"),
        ]

    def __str__(self) -> str:
        return self.title


class Ballot(models.Model):
    """A public ballot: the voter's name is shown with their choice."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    cast_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter"], name="one_ballot_per_voter")]

    def __str__(self) -> str:
        return f"ballot {self.pk} on {self.proposal_id}"


class Participation(models.Model):
    """A secret vote's attendance list: who took part, never what they chose. ``receipt_hash`` is the SHA-256 of
    the receipt this voter holds now (empty for a ballot cast before receipts were sealed, see
    ``ConvertedReceipt``): a receipt changes only its own voter's choice, once."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="participations")
    voter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    receipt_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "voter"], name="one_participation_per_voter")
        ]

    def __str__(self) -> str:
        return f"participation {self.pk} in {self.proposal_id}"


class SecretTally(models.Model):
    """A secret vote's choices, and nothing else: the numbers for, against and abstention, sealed (``secrecy.py``)
    under a key derived from ``SECRET_KEY``, rewritten whole with a fresh nonce at every ballot. Always the same
    length; unreadable without the server's key."""

    proposal = models.OneToOneField(
        Proposal, on_delete=models.PROTECT, primary_key=True, related_name="secret_tally"
    )
    sealed = models.CharField(max_length=128)

    def __str__(self) -> str:
        return f"secret tally of {self.proposal_id}"


class ConvertedReceipt(models.Model):
    """A receipt handed out before the counts were sealed (migration 0003), still usable once to change that
    ballot until the close: its choice sealed under a key derived from the receipt itself, found by a hash of it.
    No voter, no order (the migration wrote them shuffled); deleted when used and at the close."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="+")
    lookup = models.CharField(max_length=64)
    sealed = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "lookup"], name="one_converted_receipt_per_lookup")
        ]

    def __str__(self) -> str:
        return f"converted receipt on {self.proposal_id}"


class EffectStatus(models.TextChoices):
    NONE = "none", _("no effect")
    PENDING = "pending", _("waiting for its month")
    APPLIED = "applied", _("applied")
    FAILED = "failed", _("failed")


class Decision(models.Model):
    """The result of a closed proposal, written once. Only the effect's state moves afterwards."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    closed_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    electorate = models.PositiveIntegerField()
    participants = models.PositiveIntegerField()
    votes_for = models.PositiveIntegerField()
    votes_against = models.PositiveIntegerField()
    abstentions = models.PositiveIntegerField()
    quorum_met = models.BooleanField()
    adopted = models.BooleanField()
    reason = models.CharField(max_length=30)  # adopted | quorum_not_met | majority_not_reached | no_votes
    effect_status = models.CharField(max_length=8, choices=EffectStatus.choices)
    effect_applied_at = models.DateTimeField(null=True, blank=True)
    effect_error = models.TextField(blank=True)
    effect_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-closed_at", "-id"]

    def __str__(self) -> str:
        return f"decision on {self.proposal_id}"
