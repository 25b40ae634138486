"""The safety alert's escalation time moves from ``MeasureSettings`` to ``MonitoringSettings``
(monitoring runs the escalation). Each clinic's saved value is copied; ``measures.0003`` then
drops the old column. Reversed, the values are copied back."""

from django.db import migrations, models


def copy_from_measures(apps, schema_editor):
    MeasureSettings = apps.get_model("measures", "MeasureSettings")
    MonitoringSettings = apps.get_model("monitoring", "MonitoringSettings")
    db = schema_editor.connection.alias
    for clinic_id, hours in MeasureSettings.objects.using(db).values_list(
        "clinic_id", "escalation_hours"
    ):
        MonitoringSettings.objects.using(db).update_or_create(
            clinic_id=clinic_id, defaults={"escalation_hours": hours}
        )


def copy_back_to_measures(apps, schema_editor):
    MeasureSettings = apps.get_model("measures", "MeasureSettings")
    MonitoringSettings = apps.get_model("monitoring", "MonitoringSettings")
    db = schema_editor.connection.alias
    for clinic_id, hours in MonitoringSettings.objects.using(db).values_list(
        "clinic_id", "escalation_hours"
    ):
        MeasureSettings.objects.using(db).update_or_create(
            clinic_id=clinic_id, defaults={"escalation_hours": hours}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0002_item9_unknown_when_unanswered"),
        ("monitoring", "0006_alert_moved_to_alerts_app"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringsettings",
            name="escalation_hours",
            field=models.PositiveSmallIntegerField(
                default=4,
                help_text="A safety alert nobody acknowledged after this many hours is emailed to "
                "the supervisors and clinic admins.",
            ),
        ),
        migrations.RunPython(copy_from_measures, copy_back_to_measures),
    ]
