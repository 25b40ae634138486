"""Demo clinic: clients with care teams, consents and a little history. All fictional."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alliance.accounts.models import User
from alliance.clients.models import (
    BreakGlassAccess,
    CareTeamMember,
    ClientRecord,
    Consent,
    ConsentKind,
    ConsentText,
)
from alliance.core import audit
from alliance.core.seeding import DemoContext

FIRST = [
    "Avery",
    "Blake",
    "Casey",
    "Devon",
    "Emery",
    "Finley",
    "Gale",
    "Harper",
    "Indigo",
    "Jordan",
    "Kai",
    "Lane",
    "Morgan",
    "Noor",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Tatum",
    "Umber",
    "Vale",
    "Wren",
    "Yael",
]
LAST = [
    "Sampleton",
    "Exampleby",
    "Fictitia",
    "Mockridge",
    "Testwood",
    "Demoville",
    "Placeholt",
    "Pretendi",
]


# (index into FIRST, language): the demo's Spanish-speaking client, whose sign-in link the demo
# prints next to the English-speaking client's.
SPANISH_SPEAKER = (1, "es")


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    now = timezone.now()
    texts = {kind: ConsentText.current(kind) for kind in ConsentKind.values}
    for index, first in enumerate(FIRST):
        last = LAST[index % len(LAST)]
        email = f"{first.lower()}.{last.lower()}@demo.alliance.test"
        user = User.objects.create_user(email, full_name=f"{first} {last}")
        client = ClientRecord.objects.create(
            clinic=ctx.clinic,
            user=user,
            full_name=f"{first} {last}",
            preferred_name=first if index % 3 else "",
            time_zone=rng.choice(
                ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"]
            ),
            status=ClientRecord.Status.DISCHARGED
            if index in (22, 23)
            else ClientRecord.Status.ACTIVE,
            # One Spanish-speaking client: their pages, emails and questionnaires are in Spanish.
            language=SPANISH_SPEAKER[1] if index == SPANISH_SPEAKER[0] else "en",
        )
        # Each therapist carries eight clients; the supervisor co-treats two.
        primary = ctx.therapists[index % len(ctx.therapists)]
        CareTeamMember.objects.create(
            clinic=ctx.clinic, client=client, therapist=primary, is_primary=True
        )
        if index in (4, 9):
            CareTeamMember.objects.create(
                clinic=ctx.clinic, client=client, therapist=ctx.supervisor
            )
        started = now - timedelta(days=rng.randint(20, 200))
        grants = {
            ConsentKind.TREATMENT: True,
            ConsentKind.RECORDING: index % 2 == 0,
            ConsentKind.SUPERVISION: index % 3 != 2,
            ConsentKind.RESEARCH: index % 4 == 0,
        }
        for kind, granted in grants.items():
            if not granted:
                continue
            consent = Consent.objects.create(
                clinic=ctx.clinic,
                client=client,
                kind=kind,
                text=texts[kind],
                granted=True,
                recorded_by=primary,
                recorded_at=started,
            )
            if kind == ConsentKind.RESEARCH and index == 8:
                consent.withdrawn_at = started + timedelta(days=30)
                consent.withdrawn_by = user
                consent.save()
        audit.record(
            clinic=ctx.clinic,
            actor=ctx.admin,
            action="create",
            record_type="client_record",
            client=client,
        )
        audit.record(
            clinic=ctx.clinic,
            actor=primary,
            action="view",
            record_type="client_record",
            client=client,
        )
        ctx.clients.append(client)
        if index == 0:
            ctx.logins.append(
                ("client", client.full_name, email, "sign-in link printed to this console")
            )
    # One past emergency access, visible to the care team and the client.
    target = ctx.clients[5]
    BreakGlassAccess.objects.create(
        clinic=ctx.clinic,
        client=target,
        user=ctx.admin,
        reason="Care team unreachable during a weekend call from the client's emergency contact.",
        started_at=now - timedelta(days=12),
        expires_at=now - timedelta(days=12) + timedelta(hours=1),
    )
    audit.record(
        clinic=ctx.clinic,
        actor=ctx.admin,
        action="break_glass",
        record_type="break_glass",
        client=target,
    )
