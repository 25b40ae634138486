"""Saving a therapist's correction of one utterance's code (the feedback page and the API)."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.nlp.analyze import check_correction
from alliance.transcripts.models import Transcript, metrics_without_text

NOT_CORRECTABLE = gettext_lazy(
    "Only an analysed transcript whose text is kept can be corrected. Nothing was changed."
)


def save_correction(
    request: HttpRequest,
    client: ClientRecord,
    transcript: Transcript,
    index_raw: str | int,
    code: str,
) -> tuple[int | None, str | None]:
    """Store the correction of utterance ``index_raw`` to ``code`` and recompute the summary
    (and the numbers-only metrics) from every correction of the transcript; audited.

    Returns ``(index, None)`` when saved, or ``(index or None, message)`` when refused (the index
    is given when it names a turn); a refused correction changes nothing. The caller has already
    checked that the signed-in user uploaded ``transcript``.
    """
    model_result = transcript.model_analysis()
    if transcript.status != Transcript.Status.DONE or model_result is None:
        return None, str(NOT_CORRECTABLE)
    try:
        index = int(index_raw)
    except (TypeError, ValueError):
        return None, _(
            "That correction could not be saved: the utterance number is missing or not a "
            "number. Nothing was changed."
        )
    try:
        check_correction(model_result, index, code)
    except ValueError as exc:
        known = any(u["index"] == index for u in model_result["utterances"])
        return (index if known else None), (
            _("That correction could not be saved: %(error)s. Nothing was changed.")
            % {"error": exc}
        )
    with transaction.atomic():
        locked = Transcript.objects.select_for_update().get(pk=transcript.pk)
        corrections = locked.correction_data()
        corrections[str(index)] = code
        locked.corrections = json.dumps(corrections)
        corrected = locked.analysis_data() or {}
        locked.metrics = metrics_without_text(corrected["summary"])
        locked.save(update_fields=["corrections", "metrics"])
        audit.record_request(
            request, "update", "transcript_feedback", client=client, note="code corrected"
        )
    transcript.refresh_from_db()
    return index, None
