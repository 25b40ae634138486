"""The next session lives in one place, the scheduled TherapySession: a time entered in a
check-in plan becomes a booked session (when it is still ahead, none is booked, and it comes
after the client's earlier sessions), then the plan's own copy goes."""

from django.db import migrations
from django.utils import timezone


def plan_times_to_sessions(apps, schema_editor):
    CheckInPlan = apps.get_model("checkins", "CheckInPlan")
    TherapySession = apps.get_model("clients", "TherapySession")
    CareTeamMember = apps.get_model("clients", "CareTeamMember")
    now = timezone.now()
    for plan in CheckInPlan.objects.filter(next_session_at__gt=now).iterator():
        sessions = TherapySession.objects.filter(client_id=plan.client_id)
        if sessions.filter(status="scheduled", scheduled_at__gte=now).exists():
            continue  # the session list already says when; it wins
        last = sessions.order_by("-number").first()
        if last is not None and last.scheduled_at >= plan.next_session_at:
            continue
        member = (
            CareTeamMember.objects.filter(client_id=plan.client_id)
            .order_by("-is_primary", "added_at")
            .first()
        )
        if member is None:
            continue
        TherapySession.objects.create(
            clinic_id=plan.clinic_id,
            client_id=plan.client_id,
            therapist_id=member.therapist_id,
            number=(last.number + 1) if last else 1,
            scheduled_at=plan.next_session_at,
            status="scheduled",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("checkins", "0002_concern_rupture_episode"),
        ("clients", "0003_therapy_session"),
    ]

    operations = [
        migrations.RunPython(plan_times_to_sessions, migrations.RunPython.noop),
        migrations.RemoveField(model_name="checkinplan", name="next_session_at"),
    ]
