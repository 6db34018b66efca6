from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundConfig(AppConfig):
    name = "grenier.fund"
    label = "fund"
    verbose_name = _("Common food fund")

    def ready(self) -> None:
        from grenier.fund import (  # noqa: F401 - registered when Django starts
            home,  # the fund's next actions on the territory home
            proposals,  # the fund's kinds of proposal with governance
        )
