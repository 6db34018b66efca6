"""Pages of the common fund, under ``/t/<territory>/``."""

from django.urls import path

from grenier.fund import views

urlpatterns = [
    path("till/", views.till, name="fund_till"),
    path("till/payments/<int:payment_id>/", views.receipt, name="fund_receipt"),
    path("till/payments/<int:payment_id>/refund/", views.refund, name="fund_refund"),
    path("my-credit/", views.my_credit, name="fund_my_credit"),
    path("my-credit/code/", views.my_code, name="fund_my_code"),
    path("my-credit/contribution/", views.my_contribution, name="fund_my_contribution"),
    path("fund/", views.dashboard, name="fund_dashboard"),
    path("fund/projection/", views.projection, name="fund_projection"),
    path("fund/runs/", views.runs, name="fund_runs"),
    path("fund/rules/allocation/", views.rule_set, name="fund_rule_set"),
    path("fund/stores/", views.stores, name="fund_stores"),
    path("fund/stores/<int:store_id>/approve/", views.store_approve, name="fund_store_approve"),
    path("fund/stores/<int:store_id>/suspend/", views.store_suspend, name="fund_store_suspend"),
    path("fund/settlements/", views.settlements, name="fund_settlements"),
    path("fund/settlements.csv", views.settlements_csv, name="fund_settlements_csv"),
    path("fund/settlements/<int:settlement_id>/paid/", views.settlement_paid, name="fund_settlement_paid"),
    path("fund/settlements/<int:settlement_id>.pdf", views.settlement_pdf, name="fund_settlement_pdf"),
    path("fund/grants/", views.grants, name="fund_grants"),
    path("fund/referrals/", views.referral_list, name="fund_referrals"),
    path("fund/referrals/new/", views.referral_new, name="fund_referral_new"),
    path("fund/referrals/<int:referral_id>/", views.referral_detail, name="fund_referral"),
]
