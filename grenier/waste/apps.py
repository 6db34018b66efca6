from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteConfig(AppConfig):
    name = "grenier.waste"
    label = "waste"
    verbose_name = _("Biowaste")

    def ready(self) -> None:
        from grenier.waste import home  # noqa: F401 - registered when Django starts: a kitchen's weighing of the day
