"""``Concern.alert_id`` becomes a real foreign key to ``alerts.Alert`` (the field ``alert``).

The column keeps its name (``alert_id``), its type and its values. Ids that point at no alert
(none should, but the column had no constraint) are cleared first, so the database can add the
foreign-key constraint.
"""

import django.db.models.deletion
from django.db import migrations, models


def clear_dangling_alert_ids(apps, schema_editor):
    Concern = apps.get_model("checkins", "Concern")
    Alert = apps.get_model("alerts", "Alert")
    db = schema_editor.connection.alias
    Concern.objects.using(db).filter(alert_id__isnull=False).exclude(
        alert_id__in=Alert.objects.using(db).values("pk")
    ).update(alert_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("checkins", "0004_checkin_checkin_clinic_status_due"),
    ]

    operations = [
        migrations.RunPython(clear_dangling_alert_ids, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            # The database: the same column, now with a foreign-key constraint and an index.
            database_operations=[
                migrations.AlterField(
                    model_name="concern",
                    name="alert_id",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        db_column="alert_id",
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="alerts.alert",
                    ),
                ),
            ],
            # The state: the UUID field ``alert_id`` is gone, the foreign key ``alert`` is there.
            state_operations=[
                migrations.RemoveField(model_name="concern", name="alert_id"),
                migrations.AddField(
                    model_name="concern",
                    name="alert",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="alerts.alert",
                    ),
                ),
            ],
        ),
    ]
