"""Supervisor dashboard: counts everywhere, detail only where shared and consented; skill trends."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.supervision.models import SharedItem
from alliance.transcripts.models import Transcript
from tests.conftest import grant, make_client, sign_in
from tests.supervision.helpers import link, session


def _transcript(client, therapist, number, metrics, when):
    s = session(client, therapist, number, when)
    return Transcript.objects.create(
        clinic=client.clinic,
        client=client,
        session=s,
        uploaded_by=therapist,
        filename="s.vtt",
        file_format="vtt",
        status="done",
        metrics=metrics,
        analysis='{"utterances": [{"speaker": "therapist", "behaviour": "reflection", "text": "You sound torn about Mum.", "question_type": null}], "disclaimer": "x"}',
    )


def _metrics(rq, cr, oq):
    return {
        "reflection_to_question": {"value": rq},
        "percent_complex_reflections": {"value": cr},
        "percent_open_questions": {"value": oq},
    }


def test_counts_for_every_client_detail_only_where_shared_and_consented(client, personas):
    link(personas)
    consenting = personas.client
    grant(consenting, "supervision", personas.therapist)
    quiet = make_client(personas.clinic, "Quinn Quiet", "quinn@client.test", [personas.therapist])
    old = timezone.now() - dt.timedelta(hours=30)
    Alert.objects.create(
        clinic=personas.clinic, client=consenting, kind="safety", reason="item 9", created_at=old
    )
    Alert.objects.create(
        clinic=personas.clinic, client=quiet, kind="safety", reason="item 9", created_at=old
    )
    Alert.objects.create(clinic=personas.clinic, client=quiet, kind="not_on_track", reason="r")
    Alert.objects.create(
        clinic=personas.clinic, client=quiet, kind="unrepaired_rupture", reason="r"
    )
    # A fresh safety alert is not yet past the escalation time.
    Alert.objects.create(
        clinic=personas.clinic, client=personas.other_client, kind="safety", reason="x"
    )
    for c in (consenting, quiet):
        SharedItem.objects.create(
            clinic=personas.clinic,
            therapist=personas.therapist,
            supervisor=personas.supervisor,
            client=c,
            kind="alliance_timeline",
        )
    sign_in(client, personas.supervisor)
    page = client.get(reverse("supervisor_dashboard")).content.decode()
    assert "Tess Therapist" in page
    assert "Open safety alerts older than 4 h</dt><dd>2</dd>" in page
    assert (
        "Unrepaired ruptures</dt><dd>1</dd>" in page
        and "Clients not on track</dt><dd>1</dd>" in page
    )
    assert "Cleo Client" in page  # shared and consented
    assert "Quinn Quiet" not in page and "Quiet" not in page  # shared but no consent: count only
    # Not a supervisee: nothing about Colin at all.
    assert "Colin" not in page


def test_skill_trends_against_miti_lines_and_transcript_feedback_sharing(client, personas):
    link(personas)
    now = timezone.now()
    t1 = _transcript(
        personas.client,
        personas.therapist,
        1,
        _metrics(0.5, 30.0, 40.0),
        now - dt.timedelta(days=35),
    )
    _transcript(
        personas.client,
        personas.therapist,
        2,
        _metrics(1.5, 50.0, 60.0),
        now - dt.timedelta(days=34),
    )
    sign_in(client, personas.supervisor)
    page = client.get(reverse("supervisor_dashboard")).content.decode()
    assert (
        "Reflections per question, monthly mean" in page and "fair 1" in page and "good 2" in page
    )
    assert ">1.0<" in page  # the month's mean of 0.5 and 1.5
    assert "MITI 3.1.1" in page and "MITI 4.2.1" in page
    # The therapist shares one session's feedback; without consent the quotes stay private.
    sign_in(client, personas.therapist)
    client.post(
        reverse("share_new", args=[personas.client.pk]),
        {
            "kind": "transcript_feedback",
            "object_id": str(t1.pk),
            "supervisor": str(personas.supervisor.pk),
        },
    )
    item = SharedItem.objects.get()
    sign_in(client, personas.supervisor)
    shared = client.get(reverse("shared_item", args=[item.pk])).content.decode()
    assert "session 1" in shared and "0.5" in shared and "torn about Mum" not in shared
    grant(personas.client, "supervision", personas.therapist)
    assert "torn about Mum" in client.get(reverse("shared_item", args=[item.pk])).content.decode()


def test_dashboard_is_for_supervisors_only(client, personas):
    for name in ("therapist", "admin", "client", "colleague"):
        sign_in(client, personas.all()[name])
        assert client.get(reverse("supervisor_dashboard")).status_code == 404
        assert client.get(reverse("supervision_agenda")).status_code == 404
