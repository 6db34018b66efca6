from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "grenier.network"
    label = "network"
    verbose_name = _("Cooperation map")

    def ready(self) -> None:
        from grenier.network import home  # noqa: F401 - registers the map's next actions on the home
