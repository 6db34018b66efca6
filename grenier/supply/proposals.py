"""Supply's kind of proposal: admitting a producer to the platform (the person, and its farm). Registered with
governance when Django starts (``SupplyConfig.ready``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field, SerializerFunctionWrapHandler, ValidationInfo, field_validator, model_serializer

from grenier.core.models import Role, Territory, User
from grenier.core.services import audit, role_grant, user_ensure
from grenier.governance.kinds import Kind, Payload, register
from grenier.supply import services as supply
from grenier.supply.models import Producer


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


def _farm_of(territory: Territory, payload: ProducerPayload) -> Producer | None:
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
        form_fields=lambda territory: {
            "email": forms.EmailField(label=gettext_lazy("Producer's e-mail")),
            "farm": forms.CharField(label=gettext_lazy("Farm's name (optional)"), max_length=200),
        },
    )
)
