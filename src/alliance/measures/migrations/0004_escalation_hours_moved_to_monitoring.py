"""``escalation_hours`` now lives on ``MonitoringSettings``; ``monitoring.0007`` copied each
clinic's value there before this drops the column."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0003_response_language"),
        ("monitoring", "0007_escalation_hours_from_measures"),
    ]

    operations = [
        migrations.RemoveField(model_name="measuresettings", name="escalation_hours"),
    ]
