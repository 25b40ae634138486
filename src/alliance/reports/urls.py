from django.urls import path

from alliance.core.db_routers import replica_reads_view
from alliance.reports import views

urlpatterns = [
    path("reports/", replica_reads_view(views.clinic_report), name="clinic_report"),
    path(
        "reports/clinic.csv", replica_reads_view(views.clinic_report_csv), name="clinic_report_csv"
    ),
    path(
        "reports/clinic.pdf", replica_reads_view(views.clinic_report_pdf), name="clinic_report_pdf"
    ),
    path(
        "reports/print/", replica_reads_view(views.clinic_report_print), name="clinic_report_print"
    ),
    path("clinic/report-settings/", views.report_settings, name="report_settings"),
    path("development/", replica_reads_view(views.development), name="development"),
    path("clients/<uuid:client_id>/report/", views.progress_report, name="progress_report"),
    path(
        "clients/<uuid:client_id>/report.pdf", views.progress_report_pdf, name="progress_report_pdf"
    ),
]
