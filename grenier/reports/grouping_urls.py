from django.urls import path

from grenier.reports import rollup_views

urlpatterns = [
    path("reports/", rollup_views.grouping_reports, name="grouping_reports"),
    path("reports/indicators.csv", rollup_views.grouping_csv, name="grouping_reports_csv"),
]
