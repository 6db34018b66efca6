from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BasketsConfig(AppConfig):
    name = "grenier.baskets"
    label = "baskets"
    verbose_name = _("Solidarity baskets")

    def ready(self) -> None:
        from grenier.baskets import home  # noqa: F401 - registers the baskets' next actions on the territory home
