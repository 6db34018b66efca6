"""Every write of the cooperation map, by subject: ``actors`` (typed, or taken from the rows Grenier already knows),
``bookings`` (resources and their bookings), ``cooperations`` (and the changes of their level), ``documents`` (a cooperation's files), ``proposals`` (the
cooperations Grenier already runs). Pages, API and the ``grenier network`` command call these; each is one
transaction with its audit line. Callers import from here."""

from grenier.network.services.actors import (
    ActorFields,
    KnownRow,
    actor_create,
    actor_person_add,
    actor_update,
    actors_from_grenier,
    builtin_actor,
    known_missing,
)
from grenier.network.services.bookings import (
    booking_decide,
    booking_request,
    booking_withdraw,
    resource_create,
)
from grenier.network.services.cooperations import (
    CooperationFields,
    cooperation_confirm,
    cooperation_create,
    cooperation_dismiss,
    cooperation_end,
    cooperation_level_set,
)
from grenier.network.services.documents import document_add
from grenier.network.services.proposals import Proposal, cooperations_from_grenier

__all__ = [
    "ActorFields",
    "CooperationFields",
    "KnownRow",
    "Proposal",
    "actor_create",
    "actor_person_add",
    "actor_update",
    "actors_from_grenier",
    "booking_decide",
    "booking_request",
    "booking_withdraw",
    "builtin_actor",
    "cooperation_confirm",
    "cooperation_create",
    "cooperation_dismiss",
    "cooperation_end",
    "cooperation_level_set",
    "cooperations_from_grenier",
    "document_add",
    "known_missing",
    "resource_create",
]
