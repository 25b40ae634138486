"""Monitoring's state lets go of Alert (now ``alerts.Alert``, same table, same rows).

State only: the foreign keys of rupture episodes and safety notices already point at the
``monitoring_alert`` table, which the alerts app keeps, so no column or constraint changes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("monitoring", "0005_alert_job_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="ruptureepisode",
                    name="alert",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="rupture_episodes",
                        to="alerts.alert",
                    ),
                ),
                migrations.AlterField(
                    model_name="ruptureepisode",
                    name="unrepaired_alert",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="alerts.alert",
                    ),
                ),
                migrations.AlterField(
                    model_name="safetynotice",
                    name="alert",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="notices",
                        to="alerts.alert",
                    ),
                ),
                migrations.DeleteModel(name="Alert"),
            ],
        ),
    ]
