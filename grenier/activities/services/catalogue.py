"""The activities' catalogue: the territory's kinds of activity, and activities with their organisers and the store
receiving their food credit (a coordinator's choice: pages and API ask ``access`` first)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from grenier.activities.models import STANDARD_KINDS, Activity, ActivityKind, Organiser, PaidIn
from grenier.baskets.models import Garden
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.fund.models import Store
from grenier.orders.models import BuyingGroup
from grenier.supply.models import Kitchen, Producer


def kinds_ensure(*, territory: Territory) -> list[ActivityKind]:
    """The territory's kinds, the standard ones created on first use (idempotent)."""
    existing = set(ActivityKind.objects.filter(territory=territory).values_list("code", flat=True))
    missing = [code for code in STANDARD_KINDS if code not in existing]
    if missing:
        ActivityKind.objects.bulk_create(
            [ActivityKind(territory=territory, code=code) for code in missing], ignore_conflicts=True
        )
    return list(ActivityKind.objects.filter(territory=territory).order_by("id"))


def kind_create(*, territory: Territory, name: str, actor: User | None) -> ActivityKind:
    """A coordinator's new kind (the Semaine du goût, a repair café…). The same name again is the same kind."""
    name = name.strip()
    code = slugify(name)[:40]
    if not name or not code:
        raise InvalidInput(_("Name the kind of activity."), errors={"name": [_("This field is required.")]})
    kinds_ensure(territory=territory)
    with transaction.atomic():
        kind, created = ActivityKind.objects.get_or_create(
            territory=territory, code=code, defaults={"name": name[:100]}
        )
        if created:
            audit(
                territory=territory, actor=actor, action="activities.kind.create", subject=f"kind:{kind.pk}"
            )
    return kind


@dataclass(frozen=True)
class OrganiserInput:
    """One organiser: a garden, a group, a farm, a kitchen of the territory, or an association's name."""

    garden: Garden | None = None
    group: BuyingGroup | None = None
    producer: Producer | None = None
    kitchen: Kitchen | None = None
    association: str = ""

    def as_request(self) -> list[object]:
        return [self.garden, self.group, self.producer, self.kitchen, self.association.strip()]

    def territory_ids(self) -> set[int]:
        rows = [self.garden, self.group, self.producer, self.kitchen]
        return {row.territory_id for row in rows if row is not None}


def _check_activity(
    territory: Territory, kind: ActivityKind, title: str, organisers: list[OrganiserInput]
) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("This field is required.")]
    if kind.territory_id != territory.pk:
        errors["kind"] = [_("This kind belongs to another territory.")]
    if not organisers:
        errors["organisers"] = [_("Name at least one organiser.")]
    for organiser in organisers:
        named = [value for value in organiser.as_request() if value]
        if len(named) != 1 or organiser.territory_ids() - {territory.pk}:
            errors["organisers"] = [
                _("Each organiser is one garden, group, farm, kitchen or association here.")
            ]
    if errors:
        raise InvalidInput(_("The activity could not be recorded."), errors=errors)


def _organiser_rows(activity: Activity, organisers: list[OrganiserInput]) -> list[Organiser]:
    return [
        Organiser(
            activity=activity,
            garden=organiser.garden,
            group=organiser.group,
            producer=organiser.producer,
            kitchen=organiser.kitchen,
            association=organiser.association.strip()[:200],
        )
        for organiser in organisers
    ]


def activity_create(
    *,
    territory: Territory,
    kind: ActivityKind,
    title: str,
    organisers: list[OrganiserInput],
    actor: User | None,
    idempotency_key: str,
    description: str = "",
    managers: list[User] | None = None,
    payee_store: Store | None = None,
) -> Activity:
    """An activity and its organisers (at least one), and the store receiving its sessions' food credit if one is
    chosen already (``payee_store_check``). Sent again under the same key, answers the same activity."""
    managers = managers or []
    request = {
        "kind": kind,
        "title": title.strip(),
        "description": description.strip(),
        "organisers": [organiser.as_request() for organiser in organisers],
        "managers": sorted(manager.pk for manager in managers),
    }
    if payee_store is not None:  # only then: the fingerprints recorded before payee stores stay the same
        request["payee_store"] = payee_store
    found = Activity.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    _check_activity(territory, kind, title, organisers)
    if payee_store is not None:
        payee_store_check(territory, payee_store)
    try:
        with transaction.atomic():
            activity = Activity.objects.create(
                territory=territory,
                kind=kind,
                title=title.strip()[:200],
                description=description.strip()[:4000],
                payee_store=payee_store,
                created_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            Organiser.objects.bulk_create(_organiser_rows(activity, organisers))
            activity.managers.set(managers)
            audit(
                territory=territory,
                actor=actor,
                action="activities.create",
                subject=f"activity:{activity.pk}",
            )
    except IntegrityError:
        won = Activity.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return activity


def payee_store_refused(field: str = "payee_store") -> InvalidInput:
    return InvalidInput(
        _("Choose an approved store of this territory to receive the food credit."),
        errors={field: [_("Not an approved store of this territory.")]},
    )


def payee_store_check(territory: Territory, store: Store) -> None:
    """Only an approved store of the territory receives an activity's food credit (decision 0004)."""
    if store.territory_id != territory.pk or not store.is_approved:
        raise payee_store_refused()


def activity_payee_store_set(*, activity: Activity, store: Store | None, actor: User | None) -> Activity:
    """A coordinator chooses the approved store that receives the food credit of ``activity``'s sessions (or none).
    The payments already made stay at their store (a refund goes back through it). None is refused while a session
    of the activity, not closed nor cancelled, is priced in food credit. Choosing the store it has changes
    nothing."""
    if store is not None:
        payee_store_check(activity.territory, store)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.payee_store_id == (store.pk if store is not None else None):
            return locked
        if (
            store is None
            and locked.sessions.filter(
                paid_in=PaidIn.CREDIT, closed_at__isnull=True, cancelled_at__isnull=True
            ).exists()
        ):
            raise Conflict(
                _(
                    "Sessions of this activity are priced in food credit: price them in euros (or make them free) "
                    "before taking its store away."
                ),
                errors={"payee_store": [_("Sessions are priced in food credit.")]},
            )
        before = locked.payee_store_id
        locked.payee_store = store
        locked.save(update_fields=["payee_store"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="activities.payee_store",
            subject=f"activity:{locked.pk}",
            store=store.pk if store is not None else None,
            before=before,
        )
    return locked
