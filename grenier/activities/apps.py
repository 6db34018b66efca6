from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "grenier.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from grenier.activities import (
            figures,  # noqa: F401 - gives the baskets' yearly report its workshops held
            home,  # noqa: F401 - registers the activities' next actions on the home
            proposals,  # noqa: F401 - registers the reciprocity rule's kind of proposal with governance
            selectors,  # noqa: F401 - tells the kitchens' delivery pages the volunteer slots on their deliveries
        )
