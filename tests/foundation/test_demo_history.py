"""The seeded demo tells one coherent story per client: sessions numbered in date order, and
nothing that belongs to a session dated before that session."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.clients.models import TherapySession
from alliance.core.seeding import seed_demo, seeders
from alliance.measures.models import Response
from alliance.monitoring.detection import session_for
from alliance.monitoring.models import RuptureEpisode
from alliance.supervision.models import JournalEntry
from alliance.transcripts.models import Transcript

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seeds the demo


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo seeded once for this module (seeding runs the real transcript analysis)."""
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = seed_demo()
        yield ctx
        transaction.set_rollback(True)


def test_transcripts_are_seeded_after_the_session_histories_they_attach_to():
    order = [name for name, _seed in seeders()]
    assert order.index("alliance.transcripts") > order.index("alliance.supervision")
    assert (
        order.index("alliance.clients")
        < order.index("alliance.monitoring")
        < order.index("alliance.supervision")
    )


def test_sessions_are_numbered_in_date_order(demo):
    for client in demo.clients:
        sessions = list(TherapySession.objects.filter(client=client).order_by("number"))
        assert [s.number for s in sessions] == list(range(1, len(sessions) + 1)), client.pk
        dates = [s.scheduled_at for s in sessions]
        assert dates == sorted(dates) and len(set(dates)) == len(dates), (
            f"client {client.pk}: "
            + ", ".join(f"{s.number}@{s.scheduled_at:%Y-%m-%d}" for s in sessions)
        )


def test_nothing_is_dated_before_its_session(demo):
    now = timezone.now()
    when = {(s.client_id, s.number): s.scheduled_at for s in TherapySession.objects.all()}
    responses = Response.objects.filter(session_number__isnull=False)
    assert responses.exists()
    for r in responses:
        assert (r.client_id, r.session_number) in when, (
            f"response for a missing session {r.session_number}"
        )
        assert r.completed_at >= when[(r.client_id, r.session_number)]
    transcripts = list(Transcript.objects.select_related("session"))
    assert len([t for t in transcripts if t.text]) == 2  # the two really analysed sessions
    for t in transcripts:
        assert t.session.scheduled_at <= now and t.analysed_at >= t.session.scheduled_at
    entries = JournalEntry.objects.filter(session__isnull=False).select_related("session")
    assert entries.exists()
    for e in entries:
        assert e.written_at >= e.session.scheduled_at


def test_ruptures_and_alerts_name_sessions_that_exist(demo):
    numbers = {(s.client_id, s.number) for s in TherapySession.objects.all()}
    episodes = RuptureEpisode.objects.all()
    assert episodes.exists()
    for ep in episodes:
        for n in (ep.start_session, ep.lowest_session, ep.end_session, ep.recovered_session):
            assert n is None or (ep.client_id, n) in numbers, f"rupture names session {n}"
        assert ep.start_session <= ep.lowest_session
    alerts = Alert.objects.all()
    assert any(alert.evidence for alert in alerts)
    for alert in alerts:
        for entry in alert.evidence or []:
            n = entry.get("session")
            assert n is None or (alert.client_id, n) in numbers, (
                f"{alert.kind} alert names session {n}"
            )


def test_todays_alliance_check_belongs_to_the_latest_session(demo):
    first = demo.clients[0]
    held = [
        s
        for s in TherapySession.objects.filter(client=first).order_by("number")
        if s.status == "attended"
    ]
    assert session_for(timezone.now(), held) == held[-1].number
