from django.urls import path

from grenier.activities import views

urlpatterns = [
    path("activities/", views.home, name="activities_home"),
    path("activities/calendar/", views.calendar, name="activities_calendar"),
    path("activities/programme/<int:year>-<int:month>.pdf", views.programme, name="activities_programme"),
    path("activities/calendar.ics", views.territory_feed, name="activities_feed"),
    path("activities/calendar/<slug:token>.ics", views.person_feed, name="activities_person_feed"),
    path("activities/mine/calendar/renew/", views.feed_renew, name="activities_feed_renew"),
    path("activities/mine/calendar/stop/", views.feed_stop, name="activities_feed_stop"),
    path("activities/mine/", views.mine, name="activities_mine"),
    path("activities/sessions/<int:session_id>/", views.session_detail, name="activities_session"),
    path(
        "activities/registrations/<int:registration_id>/cancel/",
        views.registration_cancel,
        name="activities_cancel",
    ),
    path("activities/organise/", views.organise, name="activities_organise"),
    path("activities/new/", views.activity_new, name="activities_activity_new"),
    path("activities/kinds/new/", views.kind_new, name="activities_kind_new"),
    path("activities/<int:activity_id>/sessions/new/", views.session_new, name="activities_session_new"),
    path(
        "activities/<int:activity_id>/payee-store/",
        views.activity_payee_store,
        name="activities_payee_store",
    ),
    path("activities/sessions/<int:session_id>/price/", views.session_price, name="activities_session_price"),
    path("activities/sessions/<int:session_id>/attendance/", views.attendance, name="activities_attendance"),
    path(
        "activities/sessions/<int:session_id>/attendance/<int:registration_id>/",
        views.attendance_mark,
        name="activities_attendance_mark",
    ),
    path(
        "activities/sessions/<int:session_id>/paid/<int:registration_id>/",
        views.euros_paid,
        name="activities_euros_paid",
    ),
    path("activities/sessions/<int:session_id>/walk-in/", views.walk_in, name="activities_walk_in"),
    path("activities/sessions/<int:session_id>/close/", views.session_close, name="activities_close"),
    path("activities/volunteer/", views.volunteer, name="activities_volunteer"),
    path("activities/volunteer/rewards/", views.rewards, name="activities_rewards"),
    path("activities/volunteer/rewards/pay/", views.rewards_pay, name="activities_rewards_pay"),
    path("activities/figures/", views.figures_page, name="activities_figures"),
    path("activities/volunteer/slots/new/", views.slot_new, name="activities_slot_new"),
    path("activities/volunteer/slots/<int:slot_id>/", views.slot_detail, name="activities_slot"),
    path("activities/volunteer/slots/<int:slot_id>/sign-up/", views.sign_up, name="activities_sign_up"),
    path(
        "activities/volunteer/slots/<int:slot_id>/hours/<int:volunteering_id>/",
        views.hours,
        name="activities_hours",
    ),
    path(
        "activities/volunteer/<int:volunteering_id>/cancel/",
        views.volunteering_cancel,
        name="activities_volunteering_cancel",
    ),
]
