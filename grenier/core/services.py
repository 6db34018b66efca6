"""Every write about territories, people, roles, households and API tokens. Pages, API and CLI call these."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core import bearer, permissions
from grenier.core.cards import new_card_number
from grenier.core.errors import Conflict, Forbidden, GrenierError, InvalidInput, ItemsRefused, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import (
    ApiToken,
    AuditEvent,
    GroupingRole,
    Household,
    HouseholdPerson,
    Role,
    Territory,
    TerritoryRole,
    User,
)

T = TypeVar("T")
TOKEN_PREFIX = "grn_"  # noqa: S105 - the public prefix of every key, not a secret


@dataclass(frozen=True)
class PersonInput:
    first_name: str = ""
    birth_date: date | None = None
    is_child: bool = False


@dataclass(frozen=True)
class NewHousehold:
    """The little a social worker records for a household they refer and that is not a member yet."""

    name: str
    first_name: str = ""
    persons: int = 1
    phone: str = ""
    email: str = ""

    def person_inputs(self) -> list[PersonInput]:
        """Its persons: the first one named, the others counted (at most 20)."""
        count = min(max(self.persons, 1), 20)
        return [PersonInput(self.first_name.strip())] + [PersonInput() for _index in range(count - 1)]

    def as_request(self) -> list[object]:
        """What it says, as compared when a request is sent again under the same key."""
        return [
            self.name.strip(),
            self.first_name.strip(),
            self.persons,
            self.phone.strip(),
            self.email.strip().lower(),
        ]


def all_or_none(items: Sequence[T], save: Callable[[T], object]) -> None:
    """Save every item of a list in one transaction, or none: each item is tried (in its own savepoint, so one
    refusal does not stop the others from being checked), then if any was refused everything is rolled back and
    ``ItemsRefused`` names each refusal by its index. The one way a page and the API save a list whole (the
    services' ``*_many``)."""
    refusals: dict[int, GrenierError] = {}
    with transaction.atomic():
        for index, item in enumerate(items):
            try:
                with transaction.atomic():
                    save(item)
            except GrenierError as exc:
                refusals[index] = exc
        if refusals:
            transaction.set_rollback(True)
    if refusals:
        raise ItemsRefused(refusals)


def audit(
    *, territory: Territory, actor: User | None, action: str, subject: str = "", **data: object
) -> None:
    AuditEvent.objects.create(territory=territory, actor=actor, action=action, subject=subject, data=data)


def territory_create(*, slug: str, name: str) -> Territory:
    territory, _created = Territory.objects.get_or_create(slug=slug, defaults={"name": name})
    return territory


def user_ensure(*, email: str, display_name: str = "", password: str | None = None) -> User:
    """The user with this e-mail, created if absent. The password is set only on creation."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, display_name=display_name)
    return user


def role_grant(*, user: User, territory: Territory, role: Role, actor: User | None = None) -> TerritoryRole:
    with transaction.atomic():
        grant, created = TerritoryRole.objects.get_or_create(user=user, territory=territory, role=role)
        if created:
            audit(
                territory=territory,
                actor=actor,
                action="role.grant",
                subject=f"user:{user.pk}",
                role=role.value,
            )
    permissions.forget_roles(user)
    return grant


def role_revoke(*, user: User, territory: Territory, role: Role, actor: User | None = None) -> None:
    with transaction.atomic():
        deleted, _rows = TerritoryRole.objects.filter(user=user, territory=territory, role=role).delete()
        if deleted:
            audit(
                territory=territory,
                actor=actor,
                action="role.revoke",
                subject=f"user:{user.pk}",
                role=role.value,
            )
    permissions.forget_roles(user)


def _validate_household(
    *, name: str, persons: list[PersonInput], monthly_resources_cents: int | None, joined_on: date
) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("A household needs a name.")]
    if not persons:
        errors["persons"] = [_("A household has at least one person.")]
    elif len(persons) > 20:
        errors["persons"] = [_("A household has at most 20 persons.")]
    today = timezone.localdate()
    for index, person in enumerate(persons):
        if person.birth_date and person.birth_date > today:
            errors.setdefault(f"persons.{index}.birth_date", []).append(
                _("A birth date cannot be in the future.")
            )
    if monthly_resources_cents is not None and monthly_resources_cents < 0:
        errors["monthly_resources_cents"] = [_("Resources cannot be negative.")]
    if joined_on > today:
        errors["joined_on"] = [_("A household cannot join in the future.")]
    if errors:
        raise InvalidInput(_("The household could not be recorded."), errors=errors)


def household_join(
    *,
    territory: Territory,
    name: str,
    persons: list[PersonInput],
    actor: User | None,
    email: str = "",
    phone: str = "",
    monthly_resources_cents: int | None = None,
    joined_on: date | None = None,
    user: User | None = None,
    idempotency_key: str | None = None,
    in_fund: bool = True,
) -> Household:
    """A household joins the territory. With ``user``, that person logs in as the household (role ``member``).

    It is in the common fund from the day it joins, unless ``in_fund`` is false (a household a social worker refers
    to a garden or a buying group: it is in the fund once a coordinator takes it in, see ``household_fund_join``).

    With ``idempotency_key``, sending the same request twice records one household and returns it both times;
    another request under the same key is refused (``KeyReused``).
    """
    request = {
        "name": name.strip(),
        "persons": [(p.first_name.strip(), p.birth_date, p.is_child) for p in persons],
        "email": email.strip().lower(),
        "phone": phone.strip(),
        "monthly_resources_cents": monthly_resources_cents,
        "joined_on": joined_on,
        "user": user,
    }
    if (
        not in_fund
    ):  # named only when not the default, so that earlier requests replay with the same fingerprint
        request["in_fund"] = False
    joined_on = joined_on or timezone.localdate()
    if idempotency_key:
        existing = Household.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if existing is not None:
            return replayed(existing, key=idempotency_key, **request)
    _validate_household(
        name=name, persons=persons, monthly_resources_cents=monthly_resources_cents, joined_on=joined_on
    )
    try:
        with transaction.atomic():
            household = Household.objects.create(
                territory=territory,
                name=name.strip(),
                email=email.strip().lower(),
                phone=phone.strip(),
                card_number=_unused_card_number(),
                monthly_resources_cents=monthly_resources_cents,
                joined_on=joined_on,
                fund_joined_on=joined_on if in_fund else None,
                idempotency_key=idempotency_key or None,
                request_fingerprint=fingerprint(**request) if idempotency_key else "",
            )
            HouseholdPerson.objects.bulk_create(
                HouseholdPerson(
                    household=household,
                    first_name=person.first_name.strip(),
                    birth_date=person.birth_date,
                    is_child=person.is_child,
                    user=user if index == 0 else None,
                )
                for index, person in enumerate(persons)
            )
            if user is not None:
                role_grant(user=user, territory=territory, role=Role.MEMBER, actor=actor)
            audit(
                territory=territory, actor=actor, action="household.join", subject=f"household:{household.pk}"
            )
    except IntegrityError:
        # The same key sent twice at once: the other request won the race; answer with its household.
        if idempotency_key:
            existing = Household.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
            if existing is not None:
                return replayed(existing, key=idempotency_key, **request)
        raise
    return household


def household_fund_join(*, household: Household, actor: User | None, on: date | None = None) -> Household:
    """A member household that was not in the common fund is in it from ``on`` (today): its first monthly credit
    and contribution come with the next month run. A household already in the fund stays as it is."""
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if locked.fund_joined_on is not None:
            return locked
        if locked.left_on is not None:
            raise Conflict(_("This household has left the territory."))
        locked.fund_joined_on = max(on, locked.joined_on)
        locked.save(update_fields=["fund_joined_on"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="household.fund_join",
            subject=f"household:{locked.pk}",
        )
    return locked


def _unused_card_number() -> str:
    for _attempt in range(20):
        number = new_card_number()
        if not Household.objects.filter(card_number=number).exists():
            return number
    raise Conflict("Could not find a free card number")  # 10^11 numbers: practically unreachable


def household_leave(*, household: Household, actor: User | None, on: date | None = None) -> Household:
    """The household leaves: always possible, takes effect on ``on`` (today by default), and cannot be undone.

    Its personal data (name, contact, persons' names and birth dates) is replaced by a pseudonym; the row and its
    id stay, so every amount any module recorded against it stays whole. Leaving twice changes nothing.
    """
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if locked.left_on is not None:
            return locked
        if on < locked.joined_on:
            raise InvalidInput(
                _("A household cannot leave before it joined."), errors={"on": [_("Before the join date.")]}
            )
        user_ids = set(locked.persons.exclude(user=None).values_list("user_id", flat=True))
        linked_users = list(User.objects.filter(pk__in=user_ids).select_for_update().order_by("pk"))
        for person in locked.persons.all():
            person.is_child = person.is_child_on(on)  # keep the size of the household, not the birth date
            person.first_name = ""
            person.birth_date = None
            person.user = None
            person.save(update_fields=["is_child", "first_name", "birth_date", "user"])
        locked.name = f"H-{locked.pk}"  # a pseudonym; pages show "household that left" beside it
        locked.email = ""
        locked.phone = ""
        locked.left_on = on
        locked.pseudonymised_at = timezone.now()
        locked.request_fingerprint = (
            ""  # it was made of the names above: a replay of its key is no longer checked
        )
        locked.save(
            update_fields=["name", "email", "phone", "left_on", "pseudonymised_at", "request_fingerprint"]
        )
        for user in linked_users:
            still_member = HouseholdPerson.objects.filter(
                user=user, household__territory=locked.territory, household__left_on__isnull=True
            ).exists()
            if not still_member:
                role_revoke(user=user, territory=locked.territory, role=Role.MEMBER, actor=actor)
            if not TerritoryRole.objects.filter(user=user).exists() and not user.is_superuser:
                _pseudonymise_user(user)
        audit(
            territory=locked.territory,
            actor=actor,
            action="household.leave",
            subject=f"household:{locked.pk}",
        )
    return locked


def _pseudonymise_user(user: User) -> None:
    user.email = f"left-{user.pk}-{secrets.token_hex(4)}@invalid.grenier"
    user.display_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.pseudonymised_at = timezone.now()
    user.save(update_fields=["email", "display_name", "is_active", "password", "pseudonymised_at"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user: User, territory: Territory, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user`` in ``territory``. Returns the token and its key; only a hash is kept."""
    coordinates_a_grouping_of_it = GroupingRole.objects.filter(
        user=user, grouping__territories=territory
    ).exists()
    if not permissions.roles_of(user, territory) and not coordinates_a_grouping_of_it:
        # a grouping's coordinator holds no role in its territories: the token reads the grouping's roll-up only
        raise Forbidden(_("This person holds no role in this territory."))
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        territory=territory,
        name=name,
        prefix=key[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash_key(key),
    )
    audit(territory=territory, actor=user, action="token.create", subject=f"token:{token.pk}")
    return token, key


def token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(territory=token.territory, actor=actor, action="token.revoke", subject=f"token:{token.pk}")
    return token


def token_authenticate(key: str) -> ApiToken | None:
    """The active token whose key this is, with its user and territory and the user's roles (one statement,
    ``bearer.active_token``); ``None`` otherwise."""
    if not key.startswith(TOKEN_PREFIX):
        return None
    found = bearer.active_token(_hash_key(key))
    if found is None:
        return None
    token, roles = found
    permissions.remember_roles(token.user, roles)  # read in the same statement: roles_of asks no more
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_find(*, prefix_or_id: str, user: User | None = None) -> ApiToken:
    tokens = ApiToken.objects.select_related("territory", "user")
    if user is not None:
        tokens = tokens.filter(user=user)
    token = (
        tokens.filter(pk=int(prefix_or_id)).first()
        if prefix_or_id.isdigit()
        else tokens.filter(prefix=prefix_or_id[: len(TOKEN_PREFIX) + 6]).first()
    )
    if token is None:
        raise NotFound(_("No such token."))
    return token
