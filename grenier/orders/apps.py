from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "grenier.orders"
    label = "orders"
    verbose_name = _("Buying groups")

    def ready(self) -> None:
        from grenier.orders import home  # noqa: F401 - registers the buying groups' next actions on the territory home
