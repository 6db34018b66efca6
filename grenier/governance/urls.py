"""Pages of governance, under ``/t/<territory>/votes/``."""

from django.urls import path

from grenier.governance import views

urlpatterns = [
    path("votes/", views.proposals, name="governance_proposals"),
    path("votes/new/", views.proposal_new, name="governance_new"),
    path("votes/decisions/", views.decisions, name="governance_decisions"),
    path("votes/decisions.csv", views.decisions_csv, name="governance_decisions_csv"),
    path("votes/decisions.json", views.decisions_json, name="governance_decisions_json"),
    path("votes/bodies/", views.bodies, name="governance_bodies"),
    path("votes/bodies/new/", views.body_create, name="governance_body_create"),
    path("votes/bodies/<int:body_id>/join/", views.join, name="governance_join"),
    path("votes/bodies/<int:body_id>/leave/", views.leave, name="governance_leave"),
    path("votes/<int:proposal_id>/", views.proposal, name="governance_proposal"),
    path("votes/<int:proposal_id>/vote/", views.vote, name="governance_vote"),
    path("votes/<int:proposal_id>/close/", views.close, name="governance_close"),
    path("votes/<int:proposal_id>/retry/", views.retry, name="governance_retry"),
]
