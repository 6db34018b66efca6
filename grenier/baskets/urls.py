"""Pages of the solidarity baskets, under ``/t/<territory>/baskets/``."""

from django.urls import path

from grenier.baskets import views

urlpatterns = [
    path("baskets/", views.home, name="baskets_home"),
    path("baskets/settings/", views.basket_settings, name="baskets_settings"),
    path("baskets/gardens/new/", views.garden_new, name="baskets_garden_new"),
    path("baskets/gardens/<int:garden_id>/", views.garden, name="baskets_garden"),
    path("baskets/gardens/<int:garden_id>/edit/", views.garden_edit, name="baskets_garden_edit"),
    path("baskets/gardens/<int:garden_id>/offers/new/", views.offer_new, name="baskets_offer_new"),
    path(
        "baskets/gardens/<int:garden_id>/offers/<int:offer_id>/", views.offer_edit, name="baskets_offer_edit"
    ),
    path("baskets/gardens/<int:garden_id>/points/new/", views.point_new, name="baskets_point_new"),
    path(
        "baskets/gardens/<int:garden_id>/points/<int:point_id>/", views.point_edit, name="baskets_point_edit"
    ),
    path(
        "baskets/gardens/<int:garden_id>/agreements/new/", views.agreement_new, name="baskets_agreement_new"
    ),
    path(
        "baskets/gardens/<int:garden_id>/agreements/<int:agreement_id>/",
        views.agreement_edit,
        name="baskets_agreement_edit",
    ),
    path("baskets/funders/<int:funder_id>/payments/", views.funder_payments, name="baskets_funder_payments"),
    path("baskets/gardens/<int:garden_id>/generate/", views.generate, name="baskets_generate"),
    path("baskets/gardens/<int:garden_id>/workshops/", views.workshop, name="baskets_workshop"),
    path("baskets/gardens/<int:garden_id>/subscribe/", views.subscribe, name="baskets_subscribe"),
    path("baskets/gardens/<int:garden_id>/payments/", views.payments, name="baskets_payments"),
    path("baskets/subscriptions/<int:subscription_id>/", views.subscription, name="baskets_subscription"),
    path("baskets/mine/", views.mine, name="baskets_mine"),
    path("baskets/referrals/", views.referrals, name="baskets_referrals"),
    path("baskets/referrals/new/", views.referral_new, name="baskets_referral_new"),
    path("baskets/referrals/<int:referral_id>/", views.referral, name="baskets_referral"),
    path("baskets/sheets/", views.sheets, name="baskets_sheets"),
    path("baskets/sheets/<int:sheet_id>/", views.sheet, name="baskets_sheet"),
    path("baskets/sheets/<int:sheet_id>.pdf", views.sheet_pdf, name="baskets_sheet_pdf"),
    path("baskets/sheets/<int:sheet_id>/lines/<int:line_id>/", views.sheet_line, name="baskets_sheet_line"),
    path("baskets/sheets/<int:sheet_id>/close/", views.sheet_close, name="baskets_sheet_close"),
    path("baskets/sheets/<int:sheet_id>/reopen/", views.sheet_reopen, name="baskets_sheet_reopen"),
    path("baskets/statements/", views.statements, name="baskets_statements"),
    path("baskets/statements.csv", views.statement_csv, name="baskets_statement_csv"),
    path("baskets/statements.pdf", views.statement_pdf, name="baskets_statement_pdf"),
    path("baskets/report/", views.report, name="baskets_report"),
]
