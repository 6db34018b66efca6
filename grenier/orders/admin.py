"""The buying groups in the administration site: read mostly; money and orders change through the services."""

from __future__ import annotations

from django.contrib import admin

from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    GroupMembership,
    GroupPickupPoint,
    Order,
    OrderCycle,
    PriceTier,
)


class TierInline(admin.TabularInline):
    model = PriceTier
    extra = 0


class PickupPointInline(admin.TabularInline):
    model = GroupPickupPoint
    extra = 0


@admin.register(BuyingGroup)
class BuyingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "store"]
    list_filter = ["territory"]
    search_fields = ["name"]
    filter_horizontal = ["coordinators"]
    inlines = [TierInline, PickupPointInline]


@admin.register(GroupMembership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["household", "group", "tier", "tier_source", "joined_on", "left_on"]
    list_filter = ["group", "tier_source"]
    raw_id_fields = ["household"]


@admin.register(CatalogueProduct)
class CatalogueProductAdmin(admin.ModelAdmin):
    list_display = ["name", "producer", "unit", "price_cents", "case_size", "stock", "is_active"]
    list_filter = ["producer", "is_active"]
    search_fields = ["name", "producer__farm_name"]


@admin.register(OrderCycle)
class OrderCycleAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "opens_at", "closes_at", "delivery_date", "closed_at"]
    list_filter = ["group"]
    readonly_fields = ["closed_at", "closed_by", "close_entry"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["household", "cycle", "status", "tier_percent", "due_cents", "pot_flagged"]
    list_filter = ["cycle__group", "status", "pot_flagged"]
    raw_id_fields = ["household", "cycle"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
