from django.apps import AppConfig
from django.utils.translation import gettext_noop


class CheckinsConfig(AppConfig):
    name = "alliance.checkins"
    label = "checkins"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from alliance.checkins import bridge, panels
        from alliance.clients.panels import CLIENT, STAFF, Panel, register
        from alliance.core.audit import register_record_type
        from alliance.measures.models import Response
        from alliance.measures.signals import questionnaires_due_check

        post_save.connect(
            bridge.complete_on_response,
            sender=Response,
            dispatch_uid="checkins-complete-on-response",
        )
        questionnaires_due_check.connect(bridge.open_due_on_listing, dispatch_uid="checkins")
        from alliance.checkins.tasks import check_in_cycle
        from alliance.core import periodic

        periodic.register(
            "check-in cycle and reminders", lambda: check_in_cycle.enqueue(""), every=15 * 60
        )
        register_record_type("check_in", gettext_noop("your check-ins"))
        register_record_type("concern", gettext_noop("your concerns"))
        register(
            Panel(
                "check-ins",
                "checkins/_staff_panel.html",
                panels.staff_panel,
                order=15,
                audience=STAFF,
            )
        )
        register(
            Panel(
                "coming-up",
                "checkins/_client_due.html",
                panels.client_due,
                order=5,
                audience=CLIENT,
            )
        )
        register(
            Panel(
                "concerns",
                "checkins/_client_concerns.html",
                panels.client_concerns,
                order=30,
                audience=CLIENT,
            )
        )
        register(
            Panel(
                "access",
                "checkins/_client_access.html",
                panels.client_access,
                order=90,
                audience=CLIENT,
            )
        )
