"""Pages of the supply platform (PIAL), under ``/t/<territory>/supply/``."""

from django.urls import path

from grenier.supply import billing_views, egalim_views, views

urlpatterns = [
    # --- the weekly cycle: weeks, demand, availability, plan, publish, shortfalls, deliveries ---
    path("supply/", views.home, name="supply_home"),
    path("supply/weeks/<str:monday>/", views.week, name="supply_week"),
    path("supply/weeks/<str:monday>/plan/", views.plan_compute, name="supply_plan_compute"),
    path("supply/weeks/<str:monday>/lines/", views.plan_line_add, name="supply_plan_line_add"),
    path("supply/weeks/<str:monday>/lines/<int:line_id>/", views.plan_line, name="supply_plan_line"),
    path("supply/weeks/<str:monday>/publish/", views.plan_publish, name="supply_plan_publish"),
    path("supply/weeks/<str:monday>/coordinator/", views.week_coordinator, name="supply_week_coordinator"),
    path(
        "supply/weeks/<str:monday>/availability/<int:producer_id>/",
        views.availability,
        name="supply_availability",
    ),
    path("supply/weeks/<str:monday>/demand/<int:kitchen_id>/", views.demand, name="supply_demand"),
    path("supply/weeks/<str:monday>/shortfall/<int:producer_id>/", views.shortfall, name="supply_shortfall"),
    path(
        "supply/weeks/<str:monday>/deliveries/<int:kitchen_id>/", views.deliveries, name="supply_deliveries"
    ),
    # --- money: invoices, credit notes, advances, development fund ---
    path("supply/invoices/", billing_views.invoices, name="supply_money_invoices"),
    path("supply/invoices/issue/", billing_views.issue, name="supply_money_issue"),
    path("supply/invoices/<int:invoice_id>/", billing_views.invoice, name="supply_money_invoice"),
    path("supply/invoices/<int:invoice_id>.pdf", billing_views.invoice_pdf, name="supply_money_invoice_pdf"),
    path(
        "supply/invoices/<int:invoice_id>/credit-note/",
        billing_views.credit_note,
        name="supply_money_credit_note",
    ),
    path("supply/invoices/<int:invoice_id>/paid/", billing_views.invoice_paid, name="supply_money_paid"),
    path("supply/advances/", billing_views.advances, name="supply_money_advances"),
    path("supply/development-fund/", billing_views.devfund, name="supply_money_devfund"),
    path(
        "supply/weeks/<str:monday>/delivery-notes/<int:producer_id>/<int:kitchen_id>/<str:day>.pdf",
        billing_views.delivery_note,
        name="supply_delivery_note",
    ),
    # --- EGalim ---
    path("supply/egalim/", egalim_views.egalim_page, name="supply_egalim"),
    path(
        "supply/egalim/<int:kitchen_id>/achats.<str:fmt>",
        egalim_views.egalim_export,
        name="supply_egalim_export",
    ),
    # the planning table as XLSX (pages in egalim_views)
    path("supply/weeks/<str:monday>/sheet/", egalim_views.sheet_page, name="supply_sheet"),
    path("supply/weeks/<str:monday>/sheet.xlsx", egalim_views.sheet_download, name="supply_sheet_download"),
    # --- reference data (read-only; coordinators edit in /admin/) ---
    path("supply/kitchens/", views.kitchens, name="supply_kitchens"),
    path("supply/farms/", views.producers, name="supply_producers"),
    path("supply/products/", views.products, name="supply_products"),
    path("supply/contracts/", views.contracts, name="supply_contracts"),
]
