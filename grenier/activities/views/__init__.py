"""Pages of the activities, by who uses them: the public calendar, the people who come, the organisers."""

from grenier.activities.views.feeds import feed_renew, feed_stop, person_feed, territory_feed
from grenier.activities.views.figures import figures_page
from grenier.activities.views.members import home, mine, registration_cancel, session_detail
from grenier.activities.views.organisers import (
    activity_new,
    activity_payee_store,
    attendance,
    attendance_mark,
    euros_paid,
    kind_new,
    organise,
    session_close,
    session_new,
    session_price,
    walk_in,
)
from grenier.activities.views.public import calendar, programme
from grenier.activities.views.reciprocity import rewards, rewards_pay
from grenier.activities.views.volunteering import (
    hours,
    sign_up,
    slot_detail,
    slot_new,
    volunteer,
    volunteering_cancel,
)

__all__ = [
    "activity_new",
    "activity_payee_store",
    "attendance",
    "attendance_mark",
    "calendar",
    "euros_paid",
    "feed_renew",
    "feed_stop",
    "figures_page",
    "home",
    "hours",
    "kind_new",
    "mine",
    "organise",
    "person_feed",
    "programme",
    "registration_cancel",
    "rewards",
    "rewards_pay",
    "session_close",
    "session_detail",
    "session_new",
    "session_price",
    "sign_up",
    "slot_detail",
    "slot_new",
    "territory_feed",
    "volunteer",
    "volunteering_cancel",
    "walk_in",
]
