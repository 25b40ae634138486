from django.urls import path

from alliance.monitoring import views

urlpatterns = [
    path("caseload/", views.caseload, name="caseload"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<uuid:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<uuid:alert_id>/snooze/", views.alert_snooze, name="alert_snooze"),
    path("alerts/<uuid:alert_id>/useful/", views.alert_useful, name="alert_useful"),
    path("clients/<uuid:client_id>/alliance/", views.alliance_timeline, name="alliance_timeline"),
    path(
        "clients/<uuid:client_id>/alliance/rate/",
        views.therapist_rating,
        name="alliance_therapist_rating",
    ),
    path(
        "alliance/episodes/<uuid:episode_id>/repair/",
        views.episode_repair,
        name="rupture_episode_repair",
    ),
    path("clinic/alerts/report/", views.usefulness_report, name="alert_usefulness_report"),
    path("clinic/monitoring/", views.monitoring_settings, name="monitoring_settings"),
    path("clinic/safety-notices/", views.safety_notices, name="safety_notices"),
]
