"""The supply platform in /admin/, for coordinators who need to look at or fix reference data.

The weekly cycle goes through the services (pages, API, CLI), which check and audit every write: plan lines,
changes, shortfalls, producer weeks, invoices and advances are read-only here.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from grenier.supply.models import (
    Advance,
    Availability,
    Contract,
    ContractLine,
    Demand,
    Distance,
    Invoice,
    InvoiceLine,
    Kitchen,
    PlanChange,
    PlanLine,
    Platform,
    Producer,
    ProducerShare,
    ProducerWeek,
    Product,
    Shortfall,
    SupplyWeek,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only (append-only records, money)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "siret", "invoice_prefix"]
    search_fields = ["name", "siret"]


@admin.register(Kitchen)
class KitchenAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "kind", "meals_per_day", "is_active"]
    list_filter = ["territory", "kind", "is_active"]
    search_fields = ["name", "siret", "address"]
    filter_horizontal = ["managers"]


class ShareInline(admin.TabularInline):
    model = ProducerShare
    extra = 0


@admin.register(Producer)
class ProducerAdmin(admin.ModelAdmin):
    list_display = ["farm_name", "territory", "siret", "admitted_on", "left_on"]
    list_filter = ["territory"]
    search_fields = ["farm_name", "legal_name", "siret"]
    filter_horizontal = ["users"]
    inlines = [ShareInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "unit", "family", "step", "grams_per_unit", "is_active"]
    list_filter = ["territory", "unit", "family", "is_active"]
    search_fields = ["name"]


@admin.register(Distance)
class DistanceAdmin(admin.ModelAdmin):
    list_display = ["producer", "kitchen", "km"]
    search_fields = ["producer__farm_name", "kitchen__name"]


class ContractLineInline(admin.TabularInline):
    model = ContractLine
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["title", "kitchen", "tender_lot", "starts_on", "ends_on", "status"]
    list_filter = ["territory", "status"]
    search_fields = ["title", "tender_lot", "kitchen__name"]
    inlines = [ContractLineInline]


@admin.register(SupplyWeek)
class SupplyWeekAdmin(admin.ModelAdmin):
    list_display = ["monday", "territory", "status", "coordinator", "planned_at", "published_at", "version"]
    list_filter = ["territory", "status"]
    date_hierarchy = "monday"
    readonly_fields = ["status", "planned_at", "published_at", "solver", "version"]


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdmin):
    list_display = ["week", "kitchen", "product", "day", "quantity", "source"]
    list_filter = ["week__territory", "source"]
    search_fields = ["kitchen__name", "product__name"]


@admin.register(Availability)
class AvailabilityAdmin(ReadOnlyAdmin):
    list_display = ["week", "producer", "product", "quantity", "minimum_lot", "declared_at"]
    list_filter = ["week__territory"]
    search_fields = ["producer__farm_name", "product__name"]


@admin.register(PlanLine)
class PlanLineAdmin(ReadOnlyAdmin):
    list_display = [
        "week",
        "day",
        "producer",
        "kitchen",
        "product",
        "quantity",
        "solver_quantity",
        "adjusted",
        "received_quantity",
    ]
    list_filter = ["week__territory", "adjusted"]
    search_fields = ["producer__farm_name", "kitchen__name", "product__name"]


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "week", "producer", "kitchen", "product", "day", "before", "after", "reason"]
    list_filter = ["week__territory", "reason"]
    search_fields = ["producer__farm_name", "kitchen__name", "product__name"]


@admin.register(Shortfall)
class ShortfallAdmin(ReadOnlyAdmin):
    list_display = ["reported_at", "week", "producer", "product", "declared_before", "available", "cause"]
    list_filter = ["week__territory"]
    search_fields = ["producer__farm_name", "product__name", "cause"]


@admin.register(ProducerWeek)
class ProducerWeekAdmin(ReadOnlyAdmin):
    list_display = ["week", "producer", "share", "volume", "gap_after"]
    list_filter = ["week__territory"]
    search_fields = ["producer__farm_name"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "kind",
        "kitchen",
        "producer",
        "month",
        "issued_on",
        "total_cents",
        "paid_at",
    ]
    list_filter = ["territory", "kind"]
    search_fields = ["reference", "kitchen__name", "producer__farm_name"]
    inlines = [InvoiceLineInline]


@admin.register(Advance)
class AdvanceAdmin(ReadOnlyAdmin):
    list_display = ["producer", "amount_cents", "repaid_cents", "granted_on", "monthly_deduction_cents"]
    list_filter = ["territory"]
    search_fields = ["producer__farm_name", "purpose"]
