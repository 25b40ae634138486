from django.apps import AppConfig
from django.utils.translation import gettext_noop


class MonitoringConfig(AppConfig):
    name = "alliance.monitoring"
    label = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: models may be imported only once the registry is ready.
        from alliance.checkins.signals import concern_raised
        from alliance.clients import panels
        from alliance.core import periodic
        from alliance.core.audit import register_record_type
        from alliance.goals.signals import task_not_working
        from alliance.measures.signals import response_recorded, safety_alert_raised
        from alliance.monitoring import receivers
        from alliance.monitoring.notices import resend_due_notices
        from alliance.monitoring.tasks import check_monitoring, check_overdue_alerts
        from alliance.monitoring.views import (
            client_alerts_panel,
            client_alliance_panel,
            client_summary_panel,
        )

        periodic.register("overdue safety alerts", check_overdue_alerts.enqueue, every=15 * 60)
        periodic.register("undelivered safety notices", resend_due_notices.enqueue, every=5 * 60)
        periodic.register("daily monitoring pass", check_monitoring.enqueue, every=24 * 3600)
        response_recorded.connect(receivers.on_response_recorded, dispatch_uid="monitoring")
        safety_alert_raised.connect(receivers.on_safety_alert_raised, dispatch_uid="monitoring")
        concern_raised.connect(receivers.on_concern_raised, dispatch_uid="monitoring")
        task_not_working.connect(receivers.on_task_not_working, dispatch_uid="monitoring")
        register_record_type(
            "alliance_timeline", gettext_noop("how your sessions went (your alliance timeline)")
        )
        register_record_type(
            "rupture_episode", gettext_noop("a note on a difficult patch in your sessions")
        )
        panels.register(
            panels.Panel(
                "summary", "monitoring/_client_summary_panel.html", client_summary_panel, order=-10
            )
        )
        panels.register(
            panels.Panel(
                "alerts", "monitoring/_client_alerts_panel.html", client_alerts_panel, order=0
            )
        )
        panels.register(
            panels.Panel(
                "alliance", "monitoring/_client_alliance_panel.html", client_alliance_panel, order=5
            )
        )
