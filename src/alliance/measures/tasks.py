"""Background work for measures (run by the task worker)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import TaskContext, task

from alliance.accounts.models import User
from alliance.core.emails import site_url
from alliance.core.languages import language_for
from alliance.core.models import IdempotencyKey
from alliance.measures.models import AccessLink, Administration, MeasureSettings


@task(takes_context=True)
def email_questionnaire_link(
    context: TaskContext, administration_id: str, issued_by_id: str
) -> int:
    """Issue a single-use link to one open questionnaire and email it to the client.

    The link is made here, in the worker, so the token never sits in the task queue: the database
    only ever holds its hash.  The email names no instrument and no clinical content.  Returns the
    number of emails sent (0 when the questionnaire closed or the client has no address meanwhile,
    or when this task already ran).

    The idempotency key is this task's own id, not the questionnaire's: a therapist who asks for
    the link again gets a second email, a re-run of the same task (after a crash or an expired
    lease) does not.
    """

    adm = (
        Administration.objects.select_related("client__user", "clinic")
        .filter(pk=administration_id)
        .first()
    )
    if adm is None or not adm.is_open:
        return 0
    user = adm.client.user
    if user is None or not user.email or not user.is_active:
        return 0
    issued_by = User.objects.get(pk=issued_by_id)
    hours = MeasureSettings.for_clinic(adm.clinic).link_valid_hours
    # The key and the link commit together before the send: a crash after the commit loses this
    # one email (the therapist can send the link again) but never sends it twice.
    with transaction.atomic():
        if not IdempotencyKey.claim(f"questionnaire-link-email:{context.task_result.id}"):
            return 0
        _link, token = AccessLink.issue(adm, issued_by, hours)
    # In the client's own language, whoever asked for the link.
    with translation.override(language_for(adm.client)):
        body = render_to_string(
            "measures/email/questionnaire_link.txt",
            {
                "greeting_name": adm.client.display_name,
                "clinic": adm.clinic.name,
                "link": site_url() + reverse("measures_link", args=[token]),
                "hours": hours,
                "crisis_line": adm.clinic.crisis_line_for(),
            },
        )
        subject = _("A short questionnaire from your care team")
    send_mail(subject, body, None, [user.email])
    return 1
