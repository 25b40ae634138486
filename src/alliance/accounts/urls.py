from django.urls import path

from alliance.accounts import views

urlpatterns = [
    # Clients sign in by emailed link.
    path("signin/", views.client_signin, name="client_signin"),
    path("signin/sent/", views.client_signin_sent, name="client_signin_sent"),
    path("signin/link/", views.client_signin_link, name="client_signin_link"),
    # Staff.
    path("settings/", views.my_settings, name="my_settings"),
    path("tour/", views.tour, name="tour"),
    # Clinic admin.
    path("clinic/", views.clinic_home, name="clinic_home"),
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
    path("clinic/staff/new/", views.staff_create, name="staff_create"),
    path("clinic/audit/", views.audit_search, name="audit_search"),
    path("clinic/security/", views.security_log, name="security_log"),
]
