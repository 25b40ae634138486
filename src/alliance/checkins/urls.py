from django.urls import path

from alliance.checkins import views

urlpatterns = [
    path("check-in/", views.check_in_link, name="check_in_link"),
    path("check-in/done/", views.check_in_done, name="check_in_done"),
    path("me/check-ins/<uuid:check_in_id>/", views.my_check_in, name="check_in_mine"),
    path("me/concerns/", views.my_concerns, name="concerns_mine"),
    path("clients/<uuid:client_id>/check-ins/", views.staff_check_ins, name="check_ins_staff"),
    path(
        "clients/<uuid:client_id>/concerns/<uuid:concern_id>/acknowledge/",
        views.concern_acknowledge,
        name="concern_acknowledge",
    ),
]
