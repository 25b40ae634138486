from django.urls import path

from alliance.exports import views

urlpatterns = [
    path("me/data.json", views.my_data_json, name="my_data_json"),
    path("me/data.pdf", views.my_data_pdf, name="my_data_pdf"),
    path("me/data/", views.my_data_summary, name="my_data_summary"),
]
