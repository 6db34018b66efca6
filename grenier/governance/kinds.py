"""Kinds of proposal: what an adopted proposal changes in Grenier.

Each kind validates its payload (a typed pydantic model), shows beforehand exactly what will change (``preview``),
and applies it (``apply``), once, inside the transaction that marks the decision applied. Other apps register their
kinds with ``register`` (supply planning and baskets will add theirs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from grenier.core.errors import InvalidInput
from grenier.core.models import Role, Territory, User
from grenier.core.money import format_cents


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any  # a lazy translation
    payload: type[Payload]
    preview: Callable[[Territory, Any, date | None], list[str]]
    apply: Callable[[Territory, Any, date | None, str], str]  # returns a one-line summary of what it did
    changes_rules: bool = False  # show the fund's projection beside the current rules
    needs_month: bool = False  # takes effect from a month (rules); others apply at the close


REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    kind = REGISTRY.get(name)
    if kind is None:
        raise InvalidInput(_("Unknown kind of proposal."), errors={"kind": [_("Unknown kind of proposal.")]})
    return kind


def parse(kind: Kind, territory: Territory, raw: dict[str, Any]) -> Payload:
    """The payload checked against its kind; field errors as ``InvalidInput`` (422 in the API)."""
    try:
        payload = kind.payload.model_validate(raw or {})
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "payload"
            errors.setdefault(f"payload.{field}", []).append(_error_words(error))
        raise InvalidInput(_("The proposal's details are not valid."), errors=errors) from exc
    checker = getattr(payload, "check_in", None)
    if checker is not None:
        checker(territory)
    return payload


def _error_words(error: Any) -> str:
    """Pydantic's message in the person's language, for the errors a form or an API client can make."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("At least %(n)s.") % {"n": ctx.get("ge", ctx.get("gt", ""))}
    if kind in {"less_than_equal", "less_than"}:
        return _("At most %(n)s.") % {"n": ctx.get("le", ctx.get("lt", ""))}
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("A whole number.")
    if kind == "string_pattern_mismatch":
        return _("Not in the expected form.")
    if kind in {"too_short", "too_long"}:
        return _("Between %(min)s and %(max)s items.") % {
            "min": ctx.get("min_length", 0),
            "max": ctx.get("max_length", "…"),
        }
    if kind == "extra_forbidden":
        return _("Not expected here.")
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "")))
    return str(error.get("msg", ""))


# --- no effect -----------------------------------------------------------------------------------------------------


class MotionPayload(Payload):
    pass


register(
    Kind(
        name="motion",
        label=gettext_lazy("Motion (no automatic effect)"),
        payload=MotionPayload,
        preview=lambda territory, payload, month: [
            _("Nothing changes in Grenier: the decision is recorded.")
        ],
        apply=lambda territory, payload, month, decided_by: _("Recorded."),
    )
)


# --- points of sale ------------------------------------------------------------------------------------------------


class StorePayload(Payload):
    store_id: int
    coverage_percent: int = Field(100, ge=1, le=100)

    def check_in(self, territory: Territory) -> None:
        from grenier.fund.models import Store

        if not Store.objects.filter(territory=territory, pk=self.store_id).exists():
            raise InvalidInput(
                _("No store has this number here."), errors={"payload.store_id": [_("Unknown store.")]}
            )


def _store(territory: Territory, store_id: int) -> Any:
    from grenier.fund.models import Store

    return Store.objects.get(territory=territory, pk=store_id)


def _approve_preview(territory: Territory, payload: StorePayload, month: date | None) -> list[str]:
    store = _store(territory, payload.store_id)
    return [
        _("%(store)s becomes an approved point of sale: it takes food-credit payments from the decision on.")
        % {"store": store.name},
        _("Food credit pays %(p)s %% of a purchase there.") % {"p": payload.coverage_percent},
    ]


def _approve_apply(territory: Territory, payload: StorePayload, month: date | None, decided_by: str) -> str:
    from grenier.fund import services

    store = services.store_approve(
        store=_store(territory, payload.store_id), coverage_percent=payload.coverage_percent, actor=None
    )
    return _("%(store)s approved (%(p)s %%).") % {"store": store.name, "p": payload.coverage_percent}


class StoreSuspendPayload(Payload):
    store_id: int

    check_in = StorePayload.check_in


def _suspend_preview(territory: Territory, payload: StoreSuspendPayload, month: date | None) -> list[str]:
    store = _store(territory, payload.store_id)
    return [_("%(store)s stops taking food-credit payments from the decision on.") % {"store": store.name}]


def _suspend_apply(
    territory: Territory, payload: StoreSuspendPayload, month: date | None, decided_by: str
) -> str:
    from grenier.fund import services

    store = services.store_suspend(store=_store(territory, payload.store_id), actor=None)
    return _("%(store)s suspended.") % {"store": store.name}


register(
    Kind(
        name="store_approve",
        label=gettext_lazy("Approve a point of sale"),
        payload=StorePayload,
        preview=_approve_preview,
        apply=_approve_apply,
    )
)
register(
    Kind(
        name="store_suspend",
        label=gettext_lazy("Suspend a point of sale"),
        payload=StoreSuspendPayload,
        preview=_suspend_preview,
        apply=_suspend_apply,
    )
)


# --- the fund's rules ----------------------------------------------------------------------------------------------


class ScalePayload(Payload):
    brackets: list[tuple[int | None, int]] = Field(..., min_length=1, max_length=30)
    minimum_cents: int = Field(100, ge=0, le=100_000)
    free_choice: bool = True

    @field_validator("brackets")
    @classmethod
    def _valid(cls, value: list[tuple[int | None, int]]) -> list[tuple[int | None, int]]:
        from grenier.fund.rules import validate_brackets

        problems = validate_brackets([list(b) for b in value])
        if problems:
            raise ValueError(" ".join(problems))
        return value


def _scale_preview(territory: Territory, payload: ScalePayload, month: date | None) -> list[str]:
    from grenier.fund import services

    lines = [
        _("From %(month)s, a new contribution scale: minimum %(min)s a month.")
        % {"month": f"{month:%m/%Y}" if month else "—", "min": format_cents(payload.minimum_cents)}
    ]
    current = services.scale_for(territory, month or date.today())  # noqa: DTZ011 - a month, not a moment
    lines.extend(
        (
            _("Resources per consumption unit up to %(up)s: %(s)s suggested.")
            % {"up": format_cents(up), "s": format_cents(suggested)}
            if up is not None
            else _("Resources per consumption unit above that: %(s)s suggested.")
            % {"s": format_cents(suggested)}
        )
        for up, suggested in payload.brackets
    )
    if current is not None:
        lines.append(
            _("Today: %(n)s brackets, minimum %(min)s.")
            % {"n": len(current.brackets), "min": format_cents(current.minimum_cents)}
        )
    return lines


def _scale_apply(territory: Territory, payload: ScalePayload, month: date | None, decided_by: str) -> str:
    from grenier.fund import services

    assert month is not None  # noqa: S101 - the service refuses a rule proposal without its month
    services.scale_set(
        territory=territory,
        effective_month=month,
        brackets=[list(b) for b in payload.brackets],
        minimum_cents=payload.minimum_cents,
        free_choice=payload.free_choice,
        actor=None,
        decided_by=decided_by,
    )
    return _("Contribution scale in force from %(month)s.") % {"month": f"{month:%m/%Y}"}


class AllocationPayload(Payload):
    base_cents: int = Field(..., ge=0, le=10_000_00)
    per_additional_person_cents: int = Field(0, ge=0, le=10_000_00)
    per_child_cents: int = Field(0, ge=0, le=10_000_00)
    child_age_limit: int = Field(14, ge=1, le=25)
    carry_over: str = Field("keep", pattern="^(keep|cap|return)$")
    carry_over_cap_cents: int = Field(0, ge=0)


def _allocation_preview(territory: Territory, payload: AllocationPayload, month: date | None) -> list[str]:
    from grenier.fund import services

    carry = {
        "keep": _("unspent credit is kept"),
        "cap": _("unspent credit is kept up to %(cap)s")
        % {"cap": format_cents(payload.carry_over_cap_cents)},
        "return": _("unspent credit returns to the fund at month end"),
    }[payload.carry_over]
    lines = [
        _(
            "From %(month)s: %(base)s a month for the household, %(person)s per additional person, "
            "%(child)s more per child under %(age)s; %(carry)s."
        )
        % {
            "month": f"{month:%m/%Y}" if month else "—",
            "base": format_cents(payload.base_cents),
            "person": format_cents(payload.per_additional_person_cents),
            "child": format_cents(payload.per_child_cents),
            "age": payload.child_age_limit,
            "carry": carry,
        }
    ]
    current = services.rule_for(territory, month or date.today())  # noqa: DTZ011 - a month, not a moment
    if current is not None:
        lines.append(
            _("Today: %(base)s for the household, %(person)s per additional person, %(child)s per child.")
            % {
                "base": format_cents(current.base_cents),
                "person": format_cents(current.per_additional_person_cents),
                "child": format_cents(current.per_child_cents),
            }
        )
    return lines


def _allocation_apply(
    territory: Territory, payload: AllocationPayload, month: date | None, decided_by: str
) -> str:
    from grenier.fund import services
    from grenier.fund.models import CarryOver

    assert month is not None  # noqa: S101 - the service refuses a rule proposal without its month
    services.allocation_rule_set(
        territory=territory,
        effective_month=month,
        base_cents=payload.base_cents,
        per_additional_person_cents=payload.per_additional_person_cents,
        per_child_cents=payload.per_child_cents,
        child_age_limit=payload.child_age_limit,
        carry_over=CarryOver(payload.carry_over),
        carry_over_cap_cents=payload.carry_over_cap_cents,
        actor=None,
        decided_by=decided_by,
    )
    return _("Allocation rule in force from %(month)s.") % {"month": f"{month:%m/%Y}"}


register(
    Kind(
        name="contribution_scale",
        label=gettext_lazy("A new contribution scale"),
        payload=ScalePayload,
        preview=_scale_preview,
        apply=_scale_apply,
        changes_rules=True,
        needs_month=True,
    )
)
register(
    Kind(
        name="allocation_rule",
        label=gettext_lazy("A new allocation rule"),
        payload=AllocationPayload,
        preview=_allocation_preview,
        apply=_allocation_apply,
        changes_rules=True,
        needs_month=True,
    )
)


# --- the supply platform -------------------------------------------------------------------------------------------


class ProducerPayload(Payload):
    """Admit a grower: the person (``email``) and, since the supply platform, its farm. ``farm`` stays optional so
    that proposals decided before it still read and apply (they grant the role only)."""

    email: str = Field(..., min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    farm: str = Field("", max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180, validate_default=True)
    organic: bool = False

    @field_validator("farm")
    @classmethod
    def _farm(cls, value: str) -> str:
        return value.strip()

    @field_validator("longitude")
    @classmethod
    def _both(cls, value: float | None, info: ValidationInfo) -> float | None:
        if (value is None) != (info.data.get("latitude") is None):
            raise ValueError(_("Give both the latitude and the longitude, or neither."))
        return value

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The stored payload names the farm's details only when given: proposals without them keep their shape."""
        data: dict[str, Any] = handler(self)
        for name in ("latitude", "longitude", "organic"):
            if data.get(name) in (None, False):
                data.pop(name, None)
        return data


def _farm_of(territory: Territory, payload: ProducerPayload) -> Any:
    from grenier.supply.models import Producer

    return Producer.objects.filter(territory=territory, farm_name=payload.farm).first()


def _producer_preview(territory: Territory, payload: ProducerPayload, month: date | None) -> list[str]:
    if not payload.farm:
        return [
            _("%(email)s joins the territory's supply platform as a producer.") % {"email": payload.email},
            _("No farm is named: a coordinator links the person to a farm."),
        ]
    lines = [
        _("%(email)s joins the territory's supply platform as a producer of %(farm)s.")
        % {"email": payload.email, "farm": payload.farm}
    ]
    if _farm_of(territory, payload) is not None:
        lines.append(
            _("%(farm)s is already a farm of the platform: the person joins it.") % {"farm": payload.farm}
        )
    else:
        details = [_("organic (AB)") if payload.organic else _("not certified organic")]
        if payload.latitude is not None and payload.longitude is not None:
            details.append(
                _("located at %(lat)s, %(lon)s") % {"lat": payload.latitude, "lon": payload.longitude}
            )
        lines.append(
            _("The farm %(farm)s is created: %(details)s.")
            % {"farm": payload.farm, "details": ", ".join(details)}
        )
    lines.append(
        _(
            "It gets no share of the group's volume: the coordinators set its share, then the plan includes it."
        )
    )
    return lines


def _producer_apply(
    territory: Territory, payload: ProducerPayload, month: date | None, decided_by: str
) -> str:
    from grenier.core.services import audit, role_grant, user_ensure
    from grenier.supply import services as supply

    user: User = user_ensure(email=payload.email, display_name=payload.farm or payload.email.split("@")[0])
    role_grant(user=user, territory=territory, role=Role.PRODUCER, actor=None)
    if not payload.farm:
        return _("%(email)s admitted as a producer.") % {"email": payload.email}
    farm = _farm_of(territory, payload)
    if farm is None:
        farm = supply.producer_create(
            territory=territory,
            farm_name=payload.farm,
            latitude=payload.latitude,
            longitude=payload.longitude,
            certifications=["BIO"] if payload.organic else [],
            users=[user],
            actor=None,
        )
    if (
        not farm.on_platform
    ):  # a producer already known to the territory (a buying group's) joins the platform
        farm.on_platform = True
        farm.save(update_fields=["on_platform"])
        audit(territory=territory, actor=None, action="supply.producer.joined", subject=f"producer:{farm.pk}")
    supply.producer_person_add(producer=farm, user=user, actor=None, decided_by=decided_by)
    return _("%(email)s admitted as a producer of %(farm)s.") % {
        "email": payload.email,
        "farm": farm.farm_name,
    }


register(
    Kind(
        name="producer_admit",
        label=gettext_lazy("Admit a producer to the supply platform"),
        payload=ProducerPayload,
        preview=_producer_preview,
        apply=_producer_apply,
    )
)
