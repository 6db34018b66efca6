from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from grenier.core.models import (
    ApiToken,
    AuditEvent,
    Grouping,
    GroupingRole,
    Household,
    HouseholdPerson,
    Territory,
    TerritoryRole,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "is_active", "is_staff"]
    search_fields = ["email", "display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "display_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ["is_active", "is_staff"]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(TerritoryRole)
class TerritoryRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "territory", "role"]
    list_filter = ["territory", "role"]
    search_fields = ["user__email"]


class GroupingRoleInline(admin.TabularInline):
    model = GroupingRole
    extra = 0
    autocomplete_fields = ["user"]
    verbose_name = _("coordinator")
    verbose_name_plural = _(
        "coordinators (they read the roll-up of the indicators, no territory's personal data)"
    )


@admin.register(Grouping)
class GroupingAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["territories"]
    inlines = [GroupingRoleInline]


class PersonInline(admin.TabularInline):
    model = HouseholdPerson
    extra = 0


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "card_number", "joined_on", "left_on"]
    list_filter = ["territory"]
    search_fields = ["name", "card_number"]
    inlines = [PersonInline]

    def has_delete_permission(self, request, obj=None):
        return False  # a household leaves through the service, never by deletion


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "territory", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "territory", "action", "subject", "actor"]
    list_filter = ["territory", "action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
