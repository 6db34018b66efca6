from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from grenier.api import api
from grenier.core import views as core_views
from grenier.core.errorpages import bad_request, page_not_found, permission_denied, server_error

urlpatterns = [
    path("", core_views.home, name="home"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("territories/switch/", core_views.switch_territory, name="switch_territory"),
    path("t/<slug:slug>/", core_views.territory_home, name="territory_home"),
    path("t/<slug:slug>/households/", core_views.household_list, name="household_list"),
    path("t/<slug:slug>/households/new/", core_views.household_create, name="household_create"),
    path(
        "t/<slug:slug>/households/<int:household_id>/", core_views.household_detail, name="household_detail"
    ),
    path(
        "t/<slug:slug>/households/<int:household_id>/leave/",
        core_views.household_leave,
        name="household_leave",
    ),
    path("t/<slug:slug>/my-household/", core_views.my_household, name="my_household"),
    path("t/<slug:slug>/", include("grenier.fund.urls")),
    path("t/<slug:slug>/", include("grenier.governance.urls")),
    path("t/<slug:slug>/", include("grenier.supply.urls")),
    path("t/<slug:slug>/", include("grenier.baskets.urls")),
    path("t/<slug:slug>/", include("grenier.orders.urls")),
    path("t/<slug:slug>/", include("grenier.waste.urls")),
    path("t/<slug:slug>/", include("grenier.activities.urls")),
    path("t/<slug:slug>/", include("grenier.network.urls")),
    path("t/<slug:slug>/", include("grenier.reports.urls")),
    path("groupings/<slug:slug>/", include("grenier.reports.grouping_urls")),
    path("admin/", admin.site.urls),
    re_path(r"^api/", page_not_found),  # any other path under /api/ answers problem+json, in debug mode too
]

handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error
