from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BasketsConfig(AppConfig):
    name = "grenier.baskets"
    label = "baskets"
    verbose_name = _("Solidarity baskets")
