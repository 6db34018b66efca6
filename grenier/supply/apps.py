from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    name = "grenier.supply"
    label = "supply"
    verbose_name = _("Supply platform")

    def ready(self) -> None:
        from grenier.supply import (
            home,  # noqa: F401 - registers the supply platform's next actions on the territory home
            proposals,  # noqa: F401 - registers the supply's kinds of proposal with governance
        )
