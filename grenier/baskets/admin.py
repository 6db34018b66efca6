"""The baskets in /admin/, for coordinators who set up gardens, offers, pickup points (and their volunteers),
agreements and the territory's settings. Lines, payments and memberships are written by the services only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    BasketSettings,
    DistributionLine,
    DistributionSheet,
    Garden,
    GardenMembership,
    MemberPayment,
    PickupPoint,
    Referral,
    Subscription,
    Workshop,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BasketSettings)
class BasketSettingsAdmin(admin.ModelAdmin):
    list_display = ["territory", "member_cap_bp", "warn_weeks"]


@admin.register(Garden)
class GardenAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "store"]
    filter_horizontal = ["coordinators"]
    search_fields = ["name"]


@admin.register(BasketOffer)
class BasketOfferAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "garden",
        "size",
        "price_cents",
        "season_start",
        "season_end",
        "weekday",
        "active",
    ]
    list_filter = ["garden", "active"]


@admin.register(PickupPoint)
class PickupPointAdmin(admin.ModelAdmin):
    list_display = ["name", "garden", "weekday", "opens_at", "active"]
    filter_horizontal = ["volunteers"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "garden",
        "funder",
        "priority",
        "share_bp",
        "amount_per_basket_cents",
        "budget_cents",
        "spent_cents",
    ]
    readonly_fields = ["spent_cents"]


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ["title", "garden", "on", "kind", "participants"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["pk", "garden", "social_worker", "consent_on", "created_at"]


@admin.register(GardenMembership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["garden", "household", "joined_on", "left_on"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "household",
        "offer",
        "pickup_point",
        "frequency",
        "start_on",
        "paused_from",
        "stopped_on",
    ]


@admin.register(DistributionSheet)
class DistributionSheetAdmin(ReadOnlyAdmin):
    list_display = ["pickup_point", "on", "closed_at"]


@admin.register(DistributionLine)
class DistributionLineAdmin(ReadOnlyAdmin):
    list_display = [
        "on",
        "subscription",
        "status",
        "price_cents",
        "member_part_cents",
        "funded_cents",
        "short_cents",
    ]


@admin.register(MemberPayment)
class MemberPaymentAdmin(ReadOnlyAdmin):
    list_display = ["household", "garden", "amount_cents", "method", "reference", "created_at"]
