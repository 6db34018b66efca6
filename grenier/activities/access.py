"""Which activity, session, registration and household a person acts for. Pages, API and commands ask here.

* A coordinator of the territory (``ACTIVITIES_MANAGE``) acts for every activity, session and registration, and
  may register any household of the territory.
* The persons named among an activity's ``managers`` (those acting for its organisers: a garden's team, a farm,
  a kitchen, an association) add its sessions, register classes, take attendance and see who registered for it.
* A member household's persons (``ACTIVITIES_REGISTER``) register their household and see its registrations.
* A school or a teacher (``ACTIVITIES_CLASS``) registers its classes (a name and a head count, no child's name)
  on the sessions for school classes, cancels them, and sees only the registrations it made: never a household.
* A social worker (``ACTIVITIES_REFER``) registers the households they follow — those they referred, with the
  household's consent, to a garden (an open ``baskets.Referral``) or to the common fund (a confirmed
  ``fund.FundReferral``) — and sees the registrations they made.
* Every person with a role in the territory sees its sessions (the calendar is public anyway), never who
  registered for one they do not run.

Asking for something one does not act for answers "not found", like a territory one has no role in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from grenier.activities.models import Activity, Registration, Session, Volunteering, VolunteerSlot
from grenier.baskets import access as baskets_access
from grenier.baskets.models import DistributionSheet, Referral, ReferralStatus
from grenier.core import permissions
from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Household, Territory
from grenier.core.permissions import Action
from grenier.fund.models import FundReferral
from grenier.fund.models import ReferralStatus as FundReferralStatus
from grenier.orders.models import OrderCycle
from grenier.supply import access as supply_access
from grenier.supply.models import Kitchen

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def _uid(user: AnyUser) -> int:
    return int(user.pk or 0) if user.is_authenticated else 0


def manages_all(user: AnyUser, territory: Territory) -> bool:
    return permissions.can(user, territory, Action.ACTIVITIES_MANAGE)


def managed_activities(user: AnyUser, territory: Territory) -> QuerySet[Activity]:
    """Every activity for a coordinator; those ``user`` is a manager of otherwise (with a role here)."""
    if manages_all(user, territory):
        return Activity.objects.filter(territory=territory)
    if not permissions.roles_of(user, territory):
        return Activity.objects.none()
    return Activity.objects.filter(territory=territory, managers__id=_uid(user)).distinct()


def may_manage(user: AnyUser, activity: Activity) -> bool:
    return managed_activities(user, activity.territory).filter(pk=activity.pk).exists()


def require_organiser(user: AnyUser, territory: Territory) -> None:
    """404 without a role here; 403 for someone who neither coordinates nor runs an activity."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    if not manages_all(user, territory) and not managed_activities(user, territory).exists():
        raise Forbidden(_("Only the organisers of an activity and the coordinators may do this."))


def require_registrant(user: AnyUser, territory: Territory) -> None:
    """404 without a role here; 403 for a role that registers nobody and runs no activity."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    if any(
        permissions.can(user, territory, action)
        for action in (
            Action.ACTIVITIES_MANAGE,
            Action.ACTIVITIES_REGISTER,
            Action.ACTIVITIES_REFER,
            Action.ACTIVITIES_CLASS,
        )
    ):
        return
    if managed_activities(user, territory).exists():
        return
    raise Forbidden(_("Your role in this territory does not allow this."))


def activity_for(user: AnyUser, territory: Territory, activity_id: int) -> Activity:
    """An activity ``user`` manages; one they only see is refused (403), another "not found"."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    activity = managed_activities(user, territory).filter(pk=activity_id).first()
    if activity is None:
        if Activity.objects.filter(territory=territory, pk=activity_id).exists():
            raise Forbidden(_("Only this activity's organisers and the coordinators may do this."))
        raise NotFound(_("This activity does not exist."))
    return activity


def sessions_of(user: AnyUser, territory: Territory) -> QuerySet[Session]:
    """The sessions ``user`` may see: every one of the territory for a person with a role there."""
    if not permissions.can(user, territory, Action.VIEW_TERRITORY):
        return Session.objects.none()
    return Session.objects.filter(territory=territory)


def session_for(user: AnyUser, territory: Territory, session_id: int, *, manage: bool = False) -> Session:
    """A session of the territory; with ``manage``, only for its activity's managers (others: 403)."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    session = (
        Session.objects.filter(territory=territory, pk=session_id)
        .select_related(
            "activity__kind", "place_garden", "place_pickup_point", "place_producer", "place_kitchen"
        )
        .first()
    )
    if session is None:
        raise NotFound(_("This session does not exist."))
    if manage and not may_manage(user, session.activity):
        raise Forbidden(_("Only this activity's organisers and the coordinators may do this."))
    return session


def may_register_class(user: AnyUser, session: Session) -> bool:
    """A school (its teachers) or the session's activity's organisers (a coordinator among them) register a
    class; whether the session receives classes is the registering service's answer (409)."""
    return permissions.can(user, session.territory, Action.ACTIVITIES_CLASS) or may_manage(
        user, session.activity
    )


def own_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    """The active households ``user`` is a person of, when its roles let it register them."""
    if not permissions.can(user, territory, Action.ACTIVITIES_REGISTER):
        return Household.objects.none()
    return Household.objects.filter(
        territory=territory, persons__user_id=_uid(user), left_on__isnull=True
    ).distinct()


def followed_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    """The active households a social worker follows: referred by them, with consent, to a garden (still open) or
    to the common fund (taken in)."""
    if not permissions.can(user, territory, Action.ACTIVITIES_REFER):
        return Household.objects.none()
    to_gardens = Referral.objects.filter(
        territory=territory,
        social_worker_id=_uid(user),
        status=ReferralStatus.OPEN,
        consent_on__isnull=False,
    ).values("household_id")
    to_fund = FundReferral.objects.filter(
        territory=territory,
        social_worker_id=_uid(user),
        status=FundReferralStatus.CONFIRMED,
        household__isnull=False,
    ).values("household_id")
    return Household.objects.filter(
        Q(pk__in=to_gardens) | Q(pk__in=to_fund), territory=territory, left_on__isnull=True
    )


def registrable_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    """The households ``user`` may register: every active one for a coordinator, else its own and those it
    follows."""
    if manages_all(user, territory):
        return Household.objects.filter(territory=territory, left_on__isnull=True)
    own = own_households(user, territory).values("pk")
    followed = followed_households(user, territory).values("pk")
    return Household.objects.filter(Q(pk__in=own) | Q(pk__in=followed)).order_by("name", "pk")


def household_to_register(user: AnyUser, territory: Territory, household_id: int) -> Household:
    household = registrable_households(user, territory).filter(pk=household_id).first()
    if household is None:
        raise NotFound(_("This household does not exist or you may not register it."))
    return household


def registrations_of(user: AnyUser, territory: Territory) -> QuerySet[Registration]:
    """Every registration for a coordinator; else those of one's own households, those one made (a social
    worker's, a class's), and those of the sessions of the activities one manages."""
    rows = Registration.objects.filter(session__territory=territory)
    if manages_all(user, territory):
        return rows
    if not permissions.roles_of(user, territory):
        return Registration.objects.none()
    return rows.filter(
        Q(household__in=own_households(user, territory).values("pk"))
        | Q(registered_by_id=_uid(user))
        | Q(session__activity__in=managed_activities(user, territory).values("pk"))
    ).distinct()


def registration_for(user: AnyUser, territory: Territory, registration_id: int) -> Registration:
    registration = (
        registrations_of(user, territory)
        .filter(pk=registration_id)
        .select_related("session__activity", "household")
        .first()
    )
    if registration is None:
        raise NotFound(_("This registration does not exist or is not yours."))
    return registration


def own_registrations(user: AnyUser, territory: Territory) -> QuerySet[Registration]:
    """A person's own: those of their households and those they made (a social worker's, a class's)."""
    if not permissions.roles_of(user, territory):
        return Registration.objects.none()
    return Registration.objects.filter(session__territory=territory).filter(
        Q(household__in=own_households(user, territory).values("pk")) | Q(registered_by_id=_uid(user))
    )


# --- volunteering -------------------------------------------------------------------------------------------------
#
# Every person with a role in the territory may volunteer. A slot on a session is run by the session's activity's
# managers; a slot on a distribution sheet by those who serve its pickup point (the baskets' coordinators and the
# point's volunteers, ``baskets.access.pickup_points_of``); a slot on a buying group's pickup by the group's
# coordinators; a slot on a platform delivery by those who act for the kitchen (the supply's coordinators and the
# kitchen's managers, ``supply.access.kitchens_of``); the coordinators of the activities run them all. Who
# signed up for a slot is seen by those who run it, and by nobody else but the person.


def pickup_cycles_of(user: AnyUser, territory: Territory) -> QuerySet[OrderCycle]:
    """The buying groups' order cycles whose pickup ``user`` may call volunteers for: every one for a coordinator
    of the activities, those of the groups ``user`` coordinates otherwise."""
    rows = OrderCycle.objects.filter(group__territory=territory)
    if manages_all(user, territory):
        return rows
    if not permissions.roles_of(user, territory):
        return OrderCycle.objects.none()
    return rows.filter(group__coordinators__id=_uid(user)).distinct()


def slot_sessions(user: AnyUser, territory: Territory) -> QuerySet[Session]:
    """The sessions ``user`` may call volunteers for: those of the activities they run (all for a coordinator)."""
    return Session.objects.filter(
        territory=territory, activity__in=managed_activities(user, territory).values("pk")
    )


def slot_sheets(user: AnyUser, territory: Territory) -> QuerySet[DistributionSheet]:
    """The distribution sheets ``user`` may call volunteers for: those of the pickup points they serve."""
    return DistributionSheet.objects.filter(
        pickup_point__in=baskets_access.pickup_points_of(user, territory).values("pk")
    )


def delivery_kitchens_of(user: AnyUser, territory: Territory) -> QuerySet[Kitchen]:
    """The kitchens whose platform deliveries ``user`` may call volunteers for: every one for a coordinator of
    the activities, those ``user`` acts for on the supply platform otherwise (a coordinator of the supply, the
    kitchen's managers)."""
    if manages_all(user, territory):
        return Kitchen.objects.filter(territory=territory)
    return supply_access.kitchens_of(user, territory)


def slots_run_by(user: AnyUser, territory: Territory) -> QuerySet[VolunteerSlot]:
    rows = VolunteerSlot.objects.filter(territory=territory)
    if manages_all(user, territory):
        return rows
    if not permissions.roles_of(user, territory):
        return VolunteerSlot.objects.none()
    return rows.filter(
        Q(session__activity__in=managed_activities(user, territory).values("pk"))
        | Q(sheet__pickup_point__in=baskets_access.pickup_points_of(user, territory).values("pk"))
        | Q(cycle__in=pickup_cycles_of(user, territory).values("pk"))
        | Q(delivery_kitchen__in=delivery_kitchens_of(user, territory).values("pk"))
    )


def runs_slots(user: AnyUser, territory: Territory) -> bool:
    """Whether ``user`` may call for volunteers: a coordinator, an activity's manager, a pickup point's team, a
    buying group's coordinators, a kitchen's managers."""
    return (
        manages_all(user, territory)
        or managed_activities(user, territory).exists()
        or baskets_access.pickup_points_of(user, territory).exists()
        or pickup_cycles_of(user, territory).exists()
        or delivery_kitchens_of(user, territory).exists()
    )


def require_slot_runner(user: AnyUser, territory: Territory) -> None:
    """404 without a role here; 403 for someone who runs no session nor pickup point."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    if not runs_slots(user, territory):
        raise Forbidden(_("Only the organisers, the pickup points' teams and the coordinators may do this."))


def slot_for(user: AnyUser, territory: Territory, slot_id: int, *, manage: bool = False) -> VolunteerSlot:
    """A slot of the territory (every person with a role sees them); with ``manage``, only for those who run it
    (others: 403)."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    slot = (
        VolunteerSlot.objects.filter(territory=territory, pk=slot_id)
        .select_related(
            "session__activity",
            "sheet__pickup_point",
            "cycle__group",
            "cycle__pickup_point",
            "delivery_kitchen",
        )
        .first()
    )
    if slot is None:
        raise NotFound(_("This volunteer slot does not exist."))
    if manage and not slots_run_by(user, territory).filter(pk=slot.pk).exists():
        raise Forbidden(_("Only those who run this slot may do this."))
    return slot


def volunteer_household(user: AnyUser, territory: Territory) -> Household | None:
    """The household a volunteer gives their hours for (its wallet takes a reciprocity reward): their active
    household here, if they have one."""
    return (
        Household.objects.filter(territory=territory, persons__user_id=_uid(user), left_on__isnull=True)
        .order_by("pk")
        .first()
    )


def own_volunteerings(user: AnyUser, territory: Territory) -> QuerySet[Volunteering]:
    if not permissions.roles_of(user, territory):
        return Volunteering.objects.none()
    return Volunteering.objects.filter(slot__territory=territory, volunteer_id=_uid(user))


def volunteering_for(
    user: AnyUser, territory: Territory, volunteering_id: int, *, manage: bool = False
) -> Volunteering:
    """One's own sign-up; with ``manage``, one on a slot ``user`` runs. Any other: "not found"."""
    rows = (
        Volunteering.objects.filter(slot__in=slots_run_by(user, territory).values("pk"))
        if manage
        else own_volunteerings(user, territory)
    )
    found = rows.filter(pk=volunteering_id).select_related("slot", "volunteer").first()
    if found is None:
        raise NotFound(_("This volunteering does not exist or is not yours."))
    return found
