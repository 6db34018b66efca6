"""API of the activities, under ``/api/v1/activities/``: the territory's sessions with their places left, and
registrations (a household's own, one a social worker follows, a class an organiser receives), cancelled until the
deadline. Who sees what is the pages' rule (``activities.access``): a registration one has nothing to do with
answers "not found"; a role that registers nobody answers 403."""

from __future__ import annotations

# isort: off
from grenier.activities.api.common import router
from grenier.activities.api import figures, sessions, volunteering
# isort: on

__all__ = ["figures", "router", "sessions", "volunteering"]
