"""Concerns link to a real rupture episode (issue 4) instead of holding an alert id."""

import django.db.models.deletion
from django.db import migrations, models


def forget_alert_ids(apps, schema_editor):
    # The old column held the id of a monitoring alert, not of an episode; the alert link
    # survives in ``alert_id``. Clearing it lets the column become a foreign key.
    apps.get_model("checkins", "Concern").objects.update(rupture_episode_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("checkins", "0001_initial"),
        ("monitoring", "0002_episodes_settings_snooze_usefulness"),
    ]

    operations = [
        migrations.RunPython(forget_alert_ids, migrations.RunPython.noop),
        migrations.RemoveField(model_name="concern", name="rupture_episode_id"),
        migrations.AddField(
            model_name="concern",
            name="rupture_episode",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="concerns",
                to="monitoring.ruptureepisode",
            ),
        ),
    ]
