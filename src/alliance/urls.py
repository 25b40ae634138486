from django.urls import include, path

from alliance.accounts import views as account_views
from alliance.api.api import api
from alliance.clients import views as client_views
from alliance.core import views as core_views

handler403 = "alliance.core.views.error_403"
handler404 = "alliance.core.views.error_404"
handler500 = "alliance.core.views.error_500"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("ready/", core_views.ready, name="ready"),
    path("accounts/", include("allauth.urls")),
    # Clients sign in by emailed link.
    path("signin/", account_views.client_signin, name="client_signin"),
    path("signin/sent/", account_views.client_signin_sent, name="client_signin_sent"),
    path("signin/link/", account_views.client_signin_link, name="client_signin_link"),
    # Clinicians.
    path("caseload/", client_views.caseload, name="caseload"),
    path("clients/<uuid:client_id>/", client_views.client_detail, name="client_detail"),
    path(
        "clients/<uuid:client_id>/consents/",
        client_views.client_consent_change,
        name="client_consent_change",
    ),
    path("settings/", account_views.my_settings, name="my_settings"),
    path("tour/", account_views.tour, name="tour"),
    # Clinic admin.
    path("clinic/", account_views.clinic_home, name="clinic_home"),
    path("clinic/settings/", account_views.clinic_settings, name="clinic_settings"),
    path("clinic/staff/new/", account_views.staff_create, name="staff_create"),
    path("clinic/clients/new/", client_views.client_create, name="client_create"),
    path(
        "clinic/clients/<uuid:client_id>/care-team/",
        client_views.care_team_edit,
        name="care_team_edit",
    ),
    path(
        "clinic/clients/<uuid:client_id>/emergency-access/",
        client_views.break_glass,
        name="break_glass",
    ),
    path("clinic/audit/", account_views.audit_search, name="audit_search"),
    path("clinic/security/", account_views.security_log, name="security_log"),
    # The client's own pages.
    path("me/", client_views.client_home, name="client_home"),
    path("me/access/", client_views.client_access_log, name="client_access_log"),
    path("me/consents/", client_views.client_consents, name="client_consents"),
    path("me/language/", client_views.client_language, name="client_language"),
    path("api/v1/", api.urls),
    path("", include("alliance.measures.urls")),
    path("", include("alliance.monitoring.urls")),
    path("", include("alliance.goals.urls")),
    path("", include("alliance.checkins.urls")),
    path("", include("alliance.transcripts.urls")),
    path("", include("alliance.supervision.urls")),
    path("", include("alliance.reports.urls")),
]
