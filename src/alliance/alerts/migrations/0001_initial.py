"""The Alert model moves here from monitoring, keeping its table and every row.

State only: the model is created in this app's state on the existing ``monitoring_alert`` table
(``Meta.db_table``), and ``monitoring.0006`` removes it from monitoring's state after pointing
monitoring's foreign keys here. The database is not touched, except that Django's content type
for the model follows it (a rename of the row, so nothing that refers to it is lost).
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import alliance.core.fields


def move_content_type(apps, schema_editor, old="monitoring", new="alerts"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model="alert").exists():
        ContentType.objects.using(db).filter(app_label=old, model="alert").update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="alerts", new="monitoring")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0005_user_sign_in_generation"),
        ("clients", "0004_therapysession_session_client_status_time"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The table was created (and last changed) by monitoring's migrations.
        ("monitoring", "0005_alert_job_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Alert",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("safety", "Safety: PHQ-9 item 9 answered above 0"),
                                    ("not_on_track", "Not on track"),
                                    ("rupture", "Possible alliance rupture"),
                                    ("unrepaired_rupture", "Unrepaired rupture"),
                                    ("disengagement", "Disengagement"),
                                    ("disagreement", "Client and therapist disagree"),
                                ],
                                max_length=30,
                            ),
                        ),
                        ("severity", models.PositiveSmallIntegerField(default=100)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("open", "Open"),
                                    ("acknowledged", "Acknowledged"),
                                    ("snoozed", "Snoozed"),
                                    ("closed", "Closed"),
                                ],
                                default="open",
                                max_length=20,
                            ),
                        ),
                        (
                            "reason",
                            models.CharField(
                                help_text="Why, in words; no client free text.", max_length=300
                            ),
                        ),
                        ("evidence", models.JSONField(blank=True, default=list)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                        ("action_taken", alliance.core.fields.EncryptedTextField(blank=True)),
                        ("snoozed_until", models.DateTimeField(blank=True, null=True)),
                        ("snooze_reason", models.CharField(blank=True, max_length=300)),
                        ("escalated_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "escalated_to",
                            models.CharField(
                                blank=True,
                                help_text='"supervisor" or "therapist" (unrepaired ruptures).',
                                max_length=20,
                            ),
                        ),
                        ("closed_at", models.DateTimeField(blank=True, null=True)),
                        ("close_reason", models.CharField(blank=True, max_length=300)),
                        (
                            "rules",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Detection rules that raised or fed this alert.",
                            ),
                        ),
                        (
                            "useful",
                            models.BooleanField(
                                blank=True, help_text='"Was this useful?" (clinician).', null=True
                            ),
                        ),
                        ("useful_marked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "acknowledged_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "client",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="alerts",
                                to="clients.clientrecord",
                            ),
                        ),
                        (
                            "clinic",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="accounts.clinic",
                            ),
                        ),
                        (
                            "snoozed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "useful_marked_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_alert",
                        "ordering": ["severity", "created_at"],
                        "indexes": [
                            models.Index(
                                fields=["clinic", "status", "severity"],
                                name="monitoring__clinic__128be2_idx",
                            ),
                            models.Index(
                                condition=models.Q(("status", "snoozed")),
                                fields=["snoozed_until"],
                                name="alert_snoozed_until",
                            ),
                            models.Index(
                                condition=models.Q(
                                    ("escalated_at__isnull", True),
                                    ("kind", "safety"),
                                    ("status__in", ("open", "snoozed")),
                                ),
                                fields=["created_at"],
                                name="alert_safety_unescalated",
                            ),
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("status__in", ("open", "snoozed"))),
                                fields=("client", "kind"),
                                name="one_open_alert_per_client_and_kind",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
