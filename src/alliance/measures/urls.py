from django.urls import path

from alliance.measures import views

urlpatterns = [
    path("clients/<uuid:client_id>/measures/assign/", views.assign, name="measures_assign"),
    path(
        "clients/<uuid:client_id>/measures/paper/", views.paper_entry, name="measures_paper_entry"
    ),
    path(
        "clients/<uuid:client_id>/measures/episodes/",
        views.episode_change,
        name="measures_episode_change",
    ),
    path(
        "clients/<uuid:client_id>/measures/import/", views.fhir_import, name="measures_fhir_import"
    ),
    path(
        "measures/administrations/<uuid:administration_id>/link/",
        views.issue_link,
        name="measures_issue_link",
    ),
    path(
        "measures/administrations/<uuid:administration_id>/email/",
        views.email_link,
        name="measures_email_link",
    ),
    path("measures/responses/<uuid:response_id>/", views.response_detail, name="measures_response"),
    path(
        "measures/responses/<uuid:response_id>/fhir/",
        views.fhir_export,
        name="measures_fhir_export",
    ),
    path("clinic/measures/", views.clinic_measure_settings, name="measures_clinic_settings"),
    path("me/measures/<uuid:administration_id>/", views.answer, name="measures_answer"),
    path(
        "me/measures/<uuid:administration_id>/save/",
        views.answer_save_hx,
        name="measures_answer_save_hx",
    ),
    path("me/measures/<uuid:administration_id>/done/", views.done, name="measures_done"),
    path("m/done/<uuid:administration_id>/", views.link_done, name="measures_link_done"),
    path("m/<str:token>/", views.link_answer, name="measures_link"),
    path("m/<str:token>/save/", views.link_save_hx, name="measures_link_save_hx"),
]
