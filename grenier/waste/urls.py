"""Pages of biowaste, under ``/t/<territory>/``."""

from django.urls import path

from grenier.waste import views

urlpatterns = [
    path("waste/", views.home, name="waste_home"),
    path("waste/campaigns/new/", views.campaign_new, name="waste_campaign_new"),
    path("waste/campaigns/<int:campaign_id>/", views.campaign_detail, name="waste_campaign"),
    path("waste/campaigns/<int:campaign_id>/weigh/", views.weigh, name="waste_weigh"),
    *(
        path(f"waste/campaigns/<int:campaign_id>/{name}", views.campaign_export, {"fmt": fmt}, name=url_name)
        for name, fmt, url_name in (
            ("weighings.csv", "csv", "waste_weighings_csv"),
            ("weighings.xlsx", "xlsx", "waste_weighings_xlsx"),
            ("report.pdf", "pdf", "waste_report_pdf"),
            ("ma-cantine.csv", "ma-cantine", "waste_ma_cantine"),
        )
    ),
    path("waste/weighings/<int:weighing_id>/correct/", views.weighing_correct, name="waste_weighing_correct"),
    path("waste/deliveries/", views.deliveries, name="waste_deliveries"),
    path("waste/ma-cantine/", views.ma_cantine, name="waste_ma_cantine_year"),
    path("waste/ma-cantine/<int:kitchen_id>.csv", views.ma_cantine_csv, name="waste_ma_cantine_kitchen"),
]
