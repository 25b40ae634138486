from django.urls import path

from alliance.supervision import views

urlpatterns = [
    path("clients/<uuid:client_id>/journal/", views.journal_list, name="journal_list"),
    path("clients/<uuid:client_id>/journal/new/", views.journal_new, name="journal_new"),
    path("journal/<uuid:entry_id>/", views.journal_detail, name="journal_detail"),
    path("clients/<uuid:client_id>/share/", views.share_new, name="share_new"),
    path("supervision/", views.supervisor_dashboard, name="supervisor_dashboard"),
    path("supervision/agenda/", views.agenda, name="supervision_agenda"),
    path("supervision/shared-by-me/", views.my_shared, name="my_shared"),
    path("supervision/items/<uuid:item_id>/", views.shared_item, name="shared_item"),
    path(
        "supervision/items/<uuid:item_id>/comments/", views.comment_post, name="shared_item_comment"
    ),
    path(
        "supervision/items/<uuid:item_id>/resolve/", views.item_resolve, name="shared_item_resolve"
    ),
    path(
        "supervision/items/<uuid:item_id>/unshare/", views.item_unshare, name="shared_item_unshare"
    ),
    path("clinic/supervision/", views.links, name="supervision_links"),
]
