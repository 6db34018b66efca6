from django.urls import path

from grenier.reports import views

urlpatterns = [
    path("reports/", views.dashboard, name="reports_dashboard"),
    path("reports/indicators/<slug:code>/", views.indicator, name="reports_indicator"),
    path("reports/<int:year>.pdf", views.yearly_pdf, name="reports_yearly_pdf"),
    path("reports/download/<str:name>", views.download, name="reports_download"),
]
