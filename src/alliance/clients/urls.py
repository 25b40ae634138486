from django.urls import path

from alliance.clients import signin, views

urlpatterns = [
    # Clients sign in by emailed link.
    path("signin/", signin.client_signin, name="client_signin"),
    path("signin/sent/", signin.client_signin_sent, name="client_signin_sent"),
    path("signin/link/", signin.client_signin_link, name="client_signin_link"),
    # Clinicians.
    path("clients/<uuid:client_id>/", views.client_detail, name="client_detail"),
    path(
        "clients/<uuid:client_id>/consents/",
        views.client_consent_change,
        name="client_consent_change",
    ),
    # Clinic admin: the clinic's staff and clients.
    path("clinic/", views.clinic_home, name="clinic_home"),
    path("clinic/clients/new/", views.client_create, name="client_create"),
    path(
        "clinic/clients/<uuid:client_id>/care-team/",
        views.care_team_edit,
        name="care_team_edit",
    ),
    path(
        "clinic/clients/<uuid:client_id>/emergency-access/",
        views.break_glass,
        name="break_glass",
    ),
    # The client's own pages.
    path("me/", views.client_home, name="client_home"),
    path("me/access/", views.client_access_log, name="client_access_log"),
    path("me/consents/", views.client_consents, name="client_consents"),
    path("me/language/", views.client_language, name="client_language"),
]
