"""Who and what of the supply platform: the platform of a territory, its kitchens, producers (farms) and their
shares, products and their sales units, EGalim labels, the distances between farms and kitchens."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grenier.core.models import Territory


class SalesUnit(models.TextChoices):
    KG = "kg", _("kg")
    PIECE = "piece", _("piece")
    BUNCH = "bunch", _("bunch")


# base units per sales unit: a kg is counted in grams, a piece or a bunch in itself
BASE_PER_UNIT = {SalesUnit.KG: 1000, SalesUnit.PIECE: 1, SalesUnit.BUNCH: 1}


class KitchenKind(models.TextChoices):
    SCHOOL = "school", _("School")
    NURSING_HOME = "nursing_home", _("Nursing home (EHPAD)")
    HOSPITAL = "hospital", _("Hospital")
    COMPANY = "company", _("Company restaurant")
    OTHER = "other", _("Other")


class ProductFamily(models.TextChoices):
    """ma-cantine's ``famille_produits`` values (purchase import)."""

    FRUITS_LEGUMES = "FRUITS_ET_LEGUMES", _("Fruit and vegetables")
    PRODUITS_LAITIERS = "PRODUITS_LAITIERS", _("Dairy")
    BOULANGERIE = "BOULANGERIE", _("Bakery")
    VIANDES_VOLAILLES = "VIANDES_VOLAILLES", _("Meat and poultry")
    PRODUITS_DE_LA_MER = "PRODUITS_DE_LA_MER", _("Fish and seafood")
    CHARCUTERIE = "CHARCUTERIE", _("Charcuterie")
    SURGELES = "SURGELES", _("Frozen")
    EPICERIE = "EPICERIE", _("Grocery")
    BOISSONS = "BOISSONS", _("Drinks")
    AUTRES = "AUTRES", _("Other")


class EgalimLabel(models.TextChoices):
    """ma-cantine's ``categories_egalim`` values that apply to fresh produce. ``BIO`` counts for the organic target;
    every one of them counts for the quality target (which includes organic)."""

    BIO = "BIO", _("Organic (AB)")
    LABEL_ROUGE = "LABEL_ROUGE", _("Label Rouge")
    AOCAOP_IGP_STG = "AOCAOP_IGP_STG", _("AOC / AOP / IGP / STG")
    HVE = "HVE", _("High environmental value (HVE)")
    FERMIER = "FERMIER", _("Farm product (fermier)")
    EXTERNALITES = "EXTERNALITES", _("Environmental externalities")
    PERFORMANCE = "PERFORMANCE", _("Environmental performance")
    COMMERCE_EQUITABLE = "COMMERCE_EQUITABLE", _("Fair trade")


class Platform(models.Model):
    """The territory's supply platform: the group of growers' common intermediation service. It issues the kitchens'
    invoices and holds the development fund."""

    territory = models.OneToOneField(Territory, on_delete=models.PROTECT, related_name="supply_platform")
    name = models.CharField(_("name"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=12, default="PIAL")
    # a legal text printed verbatim on invoices, hence in French
    vat_mention = models.CharField(
        _("VAT mention"),
        max_length=200,
        blank=True,
        default="TVA non applicable, art. 293 B du CGI",
        help_text=_("Printed as it is on the platform's invoices and credit notes."),
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"),
        default=30,
        help_text=_("An invoice is due this many days after it is issued (30 at most for public buyers)."),
    )

    class Meta:
        verbose_name = _("supply platform")
        verbose_name_plural = _("supply platforms")

    def __str__(self) -> str:
        return self.name


class Kitchen(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="kitchens")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=KitchenKind.choices)
    meals_per_day = models.PositiveIntegerField(_("meals per day"), default=0)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_kitchens", verbose_name=_("managers")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("kitchen")
        verbose_name_plural = _("kitchens")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="supply_kitchen_name_once"),
            models.CheckConstraint(
                condition=Q(kind__in=KitchenKind.values), name="supply_kitchen_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Producer(models.Model):
    """A farm of the group. ``certifications`` are EGalim labels the farm holds for everything it grows (``BIO``)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="producers")
    farm_name = models.CharField(_("farm"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    certifier = models.CharField(_("certifying body"), max_length=100, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="producer_farms", verbose_name=_("people")
    )
    on_platform = models.BooleanField(
        _("supplies the platform"),
        default=True,
        help_text=_(
            "A farm of the group. Other producers of the territory (bakers, orchards selling to buying "
            "groups) are kept in the same table with this off."
        ),
    )
    admitted_on = models.DateField(_("admitted on"), default=date.today)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("producer")
        verbose_name_plural = _("producers")
        ordering = ["farm_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "farm_name"], name="supply_producer_farm_once"),
        ]

    def __str__(self) -> str:
        return self.farm_name

    @property
    def is_organic(self) -> bool:
        return EgalimLabel.BIO.value in (self.certifications or [])


class ProducerShare(models.Model):
    """A producer's agreed share of the group's volume from ``valid_from`` on (basis points; the shares in force on
    a date are normalised to sum to 1 when planning)."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="shares")
    share_bp = models.PositiveIntegerField(_("share (basis points)"))
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("agreed share")
        verbose_name_plural = _("agreed shares")
        ordering = ["producer", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "valid_from"], name="supply_share_once_per_date"),
            models.CheckConstraint(condition=Q(share_bp__lte=10000), name="supply_share_at_most_whole"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} {self.share_bp / 100:g} % from {self.valid_from}"


class Product(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="supply_products")
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=8, choices=SalesUnit.choices, default=SalesUnit.KG)
    family = models.CharField(
        _("family"), max_length=24, choices=ProductFamily.choices, default=ProductFamily.FRUITS_LEGUMES
    )
    egalim_labels = models.JSONField(_("EGalim labels of the product itself"), default=list, blank=True)
    grams_per_unit = models.PositiveIntegerField(
        _("grams per piece or bunch"),
        default=1000,
        help_text=_("Used to add pieces and bunches to kilograms in shares and distances."),
    )
    step = models.PositiveIntegerField(
        _("planning step (base units)"),
        default=1000,
        help_text=_("Planned quantities are multiples of it: 1000 g plans whole kilograms."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="supply_product_name_once"),
            models.CheckConstraint(condition=Q(unit__in=SalesUnit.values), name="supply_product_unit_known"),
            models.CheckConstraint(condition=Q(step__gte=1), name="supply_product_step_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def base_per_unit(self) -> int:
        return BASE_PER_UNIT[SalesUnit(self.unit)]

    @property
    def share_factor(self) -> int:
        """Grams one base unit counts for in shares (1 for a product counted in grams)."""
        return 1 if self.unit == SalesUnit.KG else self.grams_per_unit


class Distance(models.Model):
    """Road distance between a farm and a kitchen, when known; otherwise the great-circle distance is used."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="distances")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.CASCADE, related_name="distances")
    km = models.DecimalField(_("km"), max_digits=7, decimal_places=1)

    class Meta:
        verbose_name = _("distance")
        verbose_name_plural = _("distances")
        constraints = [
            models.UniqueConstraint(fields=["producer", "kitchen"], name="supply_distance_once"),
            models.CheckConstraint(condition=Q(km__gte=0), name="supply_distance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} → {self.kitchen}: {self.km} km"
