"""Pages of the buying groups, under ``/t/<territory>/orders/``."""

from django.urls import path

from grenier.orders import views

urlpatterns = [
    path("orders/", views.home, name="orders_home"),
    path("orders/groups/<int:group_id>/", views.group_detail, name="orders_group"),
    path("orders/groups/<int:group_id>/join/", views.group_join, name="orders_group_join"),
    path("orders/groups/<int:group_id>/tier/", views.group_tier, name="orders_group_tier"),
    path("orders/groups/<int:group_id>/leave/", views.group_leave, name="orders_group_leave"),
    path("orders/groups/<int:group_id>/pickup-points/", views.group_point, name="orders_group_point"),
    path("orders/groups/<int:group_id>/cycles/", views.group_cycle, name="orders_group_cycle"),
    path("orders/groups/<int:group_id>/members/by-card/", views.group_card, name="orders_group_card"),
    path("orders/groups/<int:group_id>/members/", views.group_member, name="orders_group_member"),
    path(
        "orders/groups/<int:group_id>/members/<int:membership_id>/tier/",
        views.member_tier,
        name="orders_member_tier",
    ),
    path("orders/cycles/<int:cycle_id>/", views.cycle_detail, name="orders_cycle"),
    path("orders/cycles/<int:cycle_id>/cancel/", views.order_cancel, name="orders_cancel"),
    path("orders/cycles/<int:cycle_id>/close/", views.cycle_close, name="orders_close"),
    path("orders/cycles/<int:cycle_id>/cover/", views.cycle_cover, name="orders_cover"),
    path("orders/cycles/<int:cycle_id>/pickup/", views.pickup_list, name="orders_pickup"),
    path("orders/cycles/<int:cycle_id>/pickup.pdf", views.pickup_list_pdf, name="orders_pickup_pdf"),
    path("orders/cycles/<int:cycle_id>/pickup.csv", views.pickup_list_csv, name="orders_pickup_csv"),
    path(
        "orders/cycles/<int:cycle_id>/producers/<int:producer_id>/purchase-order.pdf",
        views.purchase_order_pdf,
        name="orders_po_pdf",
    ),
    path(
        "orders/cycles/<int:cycle_id>/producers/<int:producer_id>/purchase-order.csv",
        views.purchase_order_csv,
        name="orders_po_csv",
    ),
    path(
        "orders/cycles/<int:cycle_id>/producers/<int:producer_id>/pay/",
        views.producer_pay,
        name="orders_producer_pay",
    ),
    path("orders/referred/", views.referred, name="orders_referred"),
    path(
        "orders/referred/<int:household_id>/",
        views.referred_household,
        name="orders_referred_household",
    ),
    path("orders/orders/<int:order_id>/", views.order_receipt, name="orders_receipt"),
    path("orders/orders/<int:order_id>/pickup/", views.pickup_check, name="orders_pickup_check"),
    path("orders/farms/<int:producer_id>/catalogue/", views.catalogue, name="orders_catalogue"),
]
