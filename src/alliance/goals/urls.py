from django.urls import path

from alliance.goals import views

urlpatterns = [
    # The care team.
    path("clients/<uuid:client_id>/goals/", views.staff_goals, name="goals_staff"),
    path("clients/<uuid:client_id>/goals/rank/", views.staff_goals_rank, name="goals_staff_rank"),
    path("clients/<uuid:client_id>/goals/rate/", views.staff_goals_rate, name="goals_staff_rate"),
    path(
        "clients/<uuid:client_id>/goals/<uuid:goal_id>/edit/",
        views.staff_goal_edit,
        name="goal_staff_edit",
    ),
    path(
        "clients/<uuid:client_id>/goals/<uuid:goal_id>/agree/",
        views.staff_goal_agree,
        name="goal_staff_agree",
    ),
    path(
        "clients/<uuid:client_id>/goals/<uuid:goal_id>/status/",
        views.staff_goal_status,
        name="goal_staff_status",
    ),
    path(
        "clients/<uuid:client_id>/goals/<uuid:goal_id>/tasks/",
        views.staff_task_create,
        name="task_staff_create",
    ),
    path(
        "clients/<uuid:client_id>/goals/changes/<uuid:change_id>/",
        views.staff_change_decide,
        name="goal_staff_decide",
    ),
    path(
        "clients/<uuid:client_id>/goals/tasks/<uuid:task_id>/",
        views.staff_task_seen,
        name="task_staff_seen",
    ),
    # The client.
    path("me/goals/", views.my_goals, name="goals_mine"),
    path("me/goals/rank/", views.my_goals_rank, name="goals_mine_rank"),
    path("me/goals/rate/", views.my_goals_rate, name="goals_mine_rate"),
    path("me/goals/<uuid:goal_id>/edit/", views.my_goal_edit, name="goal_mine_edit"),
    path("me/goals/<uuid:goal_id>/agree/", views.my_goal_agree, name="goal_mine_agree"),
    path("me/goals/<uuid:goal_id>/status/", views.my_goal_status, name="goal_mine_status"),
    path("me/goals/changes/<uuid:change_id>/", views.my_change_decide, name="goal_mine_decide"),
    path("me/goals/tasks/<uuid:task_id>/", views.my_task_update, name="task_mine_update"),
]
