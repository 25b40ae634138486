"""The supervisor's dashboard and agenda: the same counts, details and trends as before, from a
number of queries that grows neither with the supervisees' caseloads nor with their number.

The figures are pinned by a snapshot (``flat_snapshot.json``) written from the per-supervisee
implementation before it was made set-based. Regenerate it only for an intended change:
``ALLIANCE_WRITE_SNAPSHOT=1 pytest tests/supervision/test_flat_queries.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.alerts.models import Alert
from alliance.clients.models import ClientRecord
from alliance.supervision.models import Comment, SharedItem
from alliance.transcripts.models import Transcript
from tests.conftest import grant, make_client, make_staff, sign_in
from tests.supervision.helpers import link, page_queries, session

pytestmark = pytest.mark.django_db

SNAPSHOT = Path(__file__).with_name("flat_snapshot.json")
KINDS = ["safety", "unrepaired_rupture", "not_on_track", "safety", "rupture", None]


def _metrics(i: int) -> dict[str, dict[str, float]]:
    return {
        "reflection_to_question": {"value": 0.5 + (i % 4) * 0.25},
        "percent_complex_reflections": {"value": 20.0 + (i % 5) * 5},
        "percent_open_questions": {"value": 30.0 + (i % 3) * 10},
    }


def add_clients(personas, therapists, start: int, n: int) -> None:
    """``n`` clients from number ``start``: each with a primary therapist in turn (and a second
    therapist for every other one), open alerts of several kinds and ages, shared items with
    and without consent, comments, and an analysed transcript."""

    now = timezone.now()
    for i in range(start, start + n):
        primary = therapists[i % len(therapists)]
        team = [primary] + [t for t in therapists if t != primary][: i % 2]
        c = make_client(personas.clinic, f"Sup {i:03d}", f"sup{i}@client.test", team)
        if i % 7 == 6:
            ClientRecord.objects.filter(pk=c.pk).update(status=ClientRecord.Status.DISCHARGED)
        kind = KINDS[i % len(KINDS)]
        if kind:
            Alert.objects.create(
                clinic=c.clinic,
                client=c,
                kind=kind,
                reason="r",
                created_at=now - dt.timedelta(hours=[30, 2, 50][i % 3]),
                status="snoozed" if i % 5 == 4 else "open",
            )
        if i % 4 == 0:  # a second, closed alert: not counted
            Alert.objects.create(
                clinic=c.clinic, client=c, kind="not_on_track", reason="r", status="closed"
            )
        if i % 2 == 0:
            grant(c, "supervision", primary)
        if i % 3 != 2:
            item = SharedItem.objects.create(
                clinic=c.clinic,
                therapist=primary,
                supervisor=personas.supervisor,
                client=c,
                kind=["alliance_timeline", "skill_metrics"][i % 2],
                resolved_at=now if i % 9 == 8 else None,
            )
            for k in range(i % 3 + i % 2):
                Comment.objects.create(
                    clinic=c.clinic,
                    item=item,
                    author=personas.supervisor,
                    body="Let us talk about this.",
                    written_identifiable=k % 2 == 0,
                )
        s = session(c, primary, 1, now - dt.timedelta(minutes=5))
        Transcript.objects.create(
            clinic=c.clinic,
            client=c,
            session=s,
            uploaded_by=primary,
            filename="s.vtt",
            file_format="vtt",
            status="done" if i % 6 else "failed",
            metrics=_metrics(i),
        )


@pytest.fixture
def team(personas):
    extra = [
        make_staff(personas.clinic, Role.THERAPIST, "Aaron Able", "aaron@north.test"),
        make_staff(personas.clinic, Role.THERAPIST, "Zed Zenith", "zed@north.test"),
    ]
    therapists = [personas.therapist, *extra]
    for t in therapists:
        link(personas, t)
    return therapists


def _page_figures(django_client) -> dict:
    dash = django_client.get(reverse("supervisor_dashboard")).context
    out: dict = {"agenda_count": dash["agenda_count"], "supervisees": []}
    for s in dash["supervisees"]:
        counts = dict(s["counts"])
        counts["flagged"] = sorted(
            ClientRecord.objects.filter(pk__in=counts.pop("flagged_client_ids")).values_list(
                "full_name", flat=True
            )
        )
        out["supervisees"].append(
            {
                "therapist": s["therapist"].full_name,
                "counts": counts,
                "detail": [
                    [d["client"].full_name, sorted(i.kind for i in d["items"])] for d in s["detail"]
                ],
                "n_transcripts": s["skills"]["n_transcripts"],
                "skills": [
                    [m["key"], [[r["value"], r["n"]] for r in m["rows"]]]
                    for m in s["skills"]["metrics"]
                ],
            }
        )
    agenda = django_client.get(reverse("supervision_agenda")).context["rows"]
    out["agenda"] = sorted(
        [
            r["item"].client.full_name,
            r["client_label"] == r["item"].client.full_name,
            r["identifiable"],
            r["comments"],
        ]
        for r in agenda
    )
    return out


@pytest.mark.slow
def test_dashboard_and_agenda_figures_are_unchanged(client, personas, team):
    add_clients(personas, team, 0, 36)
    sign_in(client, personas.supervisor)
    figures = _page_figures(client)
    if os.environ.get("ALLIANCE_WRITE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(figures, indent=1) + "\n")
    assert figures == json.loads(SNAPSHOT.read_text())
    # Not an empty snapshot: counts, consented detail, trends and de-identified agenda rows.
    tess = next(s for s in figures["supervisees"] if s["therapist"] == "Tess Therapist")
    assert tess["counts"]["safety_overdue"] and tess["detail"] and tess["n_transcripts"]
    assert any(not row[1] for row in figures["agenda"]) and any(row[1] for row in figures["agenda"])


@pytest.mark.slow
@pytest.mark.parametrize("page", ["supervisor_dashboard", "supervision_agenda"])
def test_query_count_is_the_same_for_5_and_50_clients(client, personas, team, page):
    add_clients(personas, team, 0, 5)
    sign_in(client, personas.supervisor)
    url = reverse(page)
    client.get(url)  # the first view after signing in records the activity time
    small, _ = page_queries(client, url)
    add_clients(personas, team, 5, 45)
    large, sql = page_queries(client, url)
    assert small == large, "\n".join(sql)
    more = make_staff(personas.clinic, Role.THERAPIST, "Mo More", "mo@north.test")
    link(personas, more)
    add_clients(personas, [more], 50, 5)
    assert page_queries(client, url)[0] == large


def test_dashboard_queries_of_clinical_rows_filter_by_clinic(client, personas, team):
    add_clients(personas, team, 0, 6)
    sign_in(client, personas.supervisor)
    url = reverse("supervisor_dashboard")
    client.get(url)
    _n, sql = page_queries(client, url)
    for table in ("monitoring_alert", "transcripts_transcript", "clients_consent"):
        statements = [s for s in sql if f'FROM "{table}"' in s]
        assert statements, table
        assert all(f'"{table}"."clinic_id" =' in s for s in statements), statements
