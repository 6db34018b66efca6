from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundConfig(AppConfig):
    name = "grenier.fund"
    label = "fund"
    verbose_name = _("Common food fund")

    def ready(self) -> None:
        from grenier.core import bearer
        from grenier.fund import (  # noqa: F401 - registered when Django starts
            access,
            home,  # the fund's next actions on the territory home
            proposals,  # the fund's kinds of proposal with governance
        )

        # a till's call reads its cashier's stores with its token, in the same statement
        bearer.read_with_token(access.STORES_READ_WITH_TOKEN, access.stores_column)
