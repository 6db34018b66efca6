"""Every write of the activities, one module per concern: the catalogue (kinds, activities and their organisers),
sessions, a session's places and waiting list, registrations, attendance and the close of a session, the
day-before reminders, volunteering, a person's calendar feed. One transaction each, its audit line inside. Callers import from here.

**Places.** A session never has more persons confirmed than its capacity. Registering, cancelling and serving the
waiting list lock the session's row first (``select_for_update``): two people taking the last place at once are
served one after the other, the second finds it taken and goes on the waiting list.

**The waiting list is served in order.** While anyone waits, a new registration waits too (it would otherwise
jump the queue); when places free up, the first in line is confirmed if its persons fit, then the next, and so
on. The first in line who does not fit yet keeps its rank: nobody behind it goes first, or a large family would
never get in.
"""

from grenier.activities.services.attendance import attendance_mark, session_close, walk_in_record
from grenier.activities.services.catalogue import (
    OrganiserInput,
    activity_create,
    activity_payee_store_set,
    kind_create,
    kinds_ensure,
)
from grenier.activities.services.charges import NoPayeeStore, NotEnoughCredit, euros_paid_record, price_words
from grenier.activities.services.feeds import calendar_feed_renew, calendar_feed_stop
from grenier.activities.services.places import MAX_PERSONS, places_taken
from grenier.activities.services.registrations import Registered, register, registration_cancel
from grenier.activities.services.reminders import reminders_send
from grenier.activities.services.sessions import (
    Place,
    default_deadline,
    session_capacity_set,
    session_create,
    session_price_set,
)
from grenier.activities.services.volunteering import (
    MAX_SLOT_PLACES,
    Delivery,
    SignedUp,
    hours_record,
    sign_up,
    slot_create,
    volunteering_cancel,
)
from grenier.activities.services.volunteering import places_left as slot_places_left

__all__ = [
    "MAX_PERSONS",
    "MAX_SLOT_PLACES",
    "Delivery",
    "NoPayeeStore",
    "NotEnoughCredit",
    "OrganiserInput",
    "Place",
    "Registered",
    "SignedUp",
    "activity_create",
    "activity_payee_store_set",
    "attendance_mark",
    "calendar_feed_renew",
    "calendar_feed_stop",
    "default_deadline",
    "euros_paid_record",
    "hours_record",
    "kind_create",
    "kinds_ensure",
    "places_taken",
    "price_words",
    "register",
    "registration_cancel",
    "reminders_send",
    "session_capacity_set",
    "session_close",
    "session_create",
    "session_price_set",
    "sign_up",
    "slot_create",
    "slot_places_left",
    "volunteering_cancel",
    "walk_in_record",
]
