from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "grenier.reports"
    label = "reports"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from grenier.reports import indicators  # noqa: F401 - fills the registry
