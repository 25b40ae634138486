from django.urls import path

from alliance.transcripts import views

urlpatterns = [
    path("clients/<uuid:client_id>/transcripts/new/", views.upload, name="transcript_upload"),
    path(
        "clients/<uuid:client_id>/transcripts/<uuid:transcript_id>/speakers/",
        views.speakers,
        name="transcript_speakers",
    ),
    path(
        "clients/<uuid:client_id>/transcripts/<uuid:transcript_id>/",
        views.feedback,
        name="transcript_feedback",
    ),
    path(
        "clients/<uuid:client_id>/transcripts/<uuid:transcript_id>/correct/",
        views.correct,
        name="transcript_correct",
    ),
    path(
        "clients/<uuid:client_id>/transcripts/<uuid:transcript_id>/correct/hx/",
        views.correct_hx,
        name="transcript_correct_hx",
    ),
    path(
        "clinic/transcripts/corrections.csv",
        views.corrections_export,
        name="transcripts_corrections_export",
    ),
    path(
        "clinic/transcripts/", views.clinic_transcript_settings, name="transcripts_clinic_settings"
    ),
]
