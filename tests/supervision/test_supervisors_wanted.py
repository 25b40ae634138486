"""Monitoring asks who supervises a therapist through ``monitoring.signals.supervisors_wanted``;
supervision answers from its links, so monitoring never imports the app above it."""

from __future__ import annotations

from django.core import mail
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.alerts.models import Alert, AlertKind
from alliance.monitoring.signals import supervisors_wanted
from alliance.monitoring.tasks import notify_unrepaired_rupture
from alliance.supervision.models import SupervisionLink, supervisors_of
from tests.conftest import grant, make_staff


def unrepaired(personas):
    grant(personas.client, "supervision", personas.therapist)
    alert, _ = Alert.raise_for(personas.client, AlertKind.UNREPAIRED_RUPTURE, "Not repaired.", {})
    Alert.objects.filter(pk=alert.pk).update(escalated_to="supervisor", escalated_at=timezone.now())
    return alert


def test_the_linked_supervisor_is_told_instead_of_every_supervisor(personas):
    linked = make_staff(personas.clinic, Role.SUPERVISOR, "Lin Linked", "lin@north.test")
    link = SupervisionLink.objects.create(
        clinic=personas.clinic,
        supervisor=linked,
        supervisee=personas.therapist,
        created_by=personas.admin,
    )
    responses = supervisors_wanted.send(
        sender=Alert, clinic=personas.clinic, therapist_ids=[personas.therapist.pk]
    )
    assert (supervisors_of, {"lin@north.test"}) in responses
    alert = unrepaired(personas)
    assert notify_unrepaired_rupture.call(str(alert.pk)) == 1
    assert [m.to for m in mail.outbox] == [["lin@north.test"]]

    # An ended link names nobody: the clinic's supervisors are told.
    SupervisionLink.objects.filter(pk=link.pk).update(ended_at=timezone.now())
    assert supervisors_of(None, personas.clinic, [personas.therapist.pk]) == set()
