from django.urls import path

from alliance.accounts import views

urlpatterns = [
    # Staff.
    path("settings/", views.my_settings, name="my_settings"),
    path("tour/", views.tour, name="tour"),
    # Clinic admin.
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
    path("clinic/staff/new/", views.staff_create, name="staff_create"),
    path("clinic/audit/", views.audit_search, name="audit_search"),
    path("clinic/security/", views.security_log, name="security_log"),
]
