from django.apps import AppConfig
from django.utils.translation import gettext_noop


class MeasuresConfig(AppConfig):
    name = "alliance.measures"
    label = "measures"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients import panels
        from alliance.core.audit import register_record_type
        from alliance.measures import panels as measure_panels

        for name, words in {
            "phq9_response": gettext_noop("your PHQ-9 answers"),
            "gad7_response": gettext_noop("your GAD-7 answers"),
            "alliance_check": gettext_noop("your session check answers"),
            "measure_response": gettext_noop("your questionnaire answers"),
            "measure_assignment": gettext_noop("your questionnaires"),
            "measure_link": gettext_noop("a questionnaire link"),
            "episode_of_care": gettext_noop("your episode of care"),
            "measures": gettext_noop("your questionnaires and scores"),
        }.items():
            register_record_type(name, words)
        panels.register(
            panels.Panel(
                "measures", "measures/_staff_panel.html", measure_panels.staff_context, order=20
            )
        )
        panels.register(
            panels.Panel(
                "measures",
                "measures/_client_panel.html",
                measure_panels.client_context,
                order=10,
                audience=panels.CLIENT,
            )
        )
