from django.urls import include, path

from alliance.api.api import api

handler403 = "alliance.core.views.error_403"
handler404 = "alliance.core.views.error_404"
handler500 = "alliance.core.views.error_500"

# Each app owns its pages; the paths and URL names are the apps' own (no namespaces).
urlpatterns = [
    path("", include("alliance.core.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("alliance.accounts.urls")),
    path("", include("alliance.clients.urls")),
    path("api/v1/", api.urls),
    path("", include("alliance.measures.urls")),
    path("", include("alliance.monitoring.urls")),
    path("", include("alliance.goals.urls")),
    path("", include("alliance.checkins.urls")),
    path("", include("alliance.exports.urls")),
    path("", include("alliance.transcripts.urls")),
    path("", include("alliance.supervision.urls")),
    path("", include("alliance.reports.urls")),
]
