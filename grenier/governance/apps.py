from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "grenier.governance"
    label = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from grenier.governance import (  # noqa: F401 - registered when Django starts
            home,  # governance's next actions on the territory home
            kinds,  # the built-in kinds of proposal
        )
