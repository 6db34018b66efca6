from django.urls import path

from grenier.network import views

urlpatterns = [
    path("network/", views.network_map, name="network_map"),
    path("network/known/", views.known, name="network_known"),
    path("network/actors/new/", views.actor_new, name="network_actor_new"),
    path("network/actors/<int:actor_id>/", views.actor_detail, name="network_actor"),
    path("network/cooperations/new/", views.cooperation_new, name="network_cooperation_new"),
    path("network/cooperations/<int:cooperation_id>/", views.cooperation_detail, name="network_cooperation"),
    path(
        "network/cooperations/<int:cooperation_id>/level/",
        views.cooperation_level,
        name="network_cooperation_level",
    ),
    path(
        "network/cooperations/<int:cooperation_id>/decide/",
        views.cooperation_decide,
        name="network_cooperation_decide",
    ),
    path(
        "network/cooperations/<int:cooperation_id>/documents/",
        views.cooperation_document_add,
        name="network_cooperation_document_add",
    ),
    path(
        "network/cooperations/<int:cooperation_id>/documents/<int:document_id>",
        views.cooperation_document,
        name="network_cooperation_document",
    ),
    path("network/resources/<int:resource_id>/", views.resource_detail, name="network_resource"),
    path("network/export/<str:name>", views.export, name="network_export"),
]
