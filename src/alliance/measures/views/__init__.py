"""Measures pages, one module per audience: ``staff`` (the client's clinicians), ``clinic``
(the clinic admin's settings), ``client`` (the client area) and ``links`` (single-use links),
with the answer form they share in ``answering``. htmx fragment views end in ``_hx``."""

from alliance.measures.views.client import answer, answer_save_hx, done
from alliance.measures.views.clinic import clinic_measure_settings
from alliance.measures.views.links import link_answer, link_done, link_save_hx
from alliance.measures.views.staff import (
    assign,
    email_link,
    episode_change,
    fhir_export,
    fhir_import,
    issue_link,
    paper_entry,
    response_detail,
)

__all__ = [
    "answer",
    "answer_save_hx",
    "assign",
    "clinic_measure_settings",
    "done",
    "email_link",
    "episode_change",
    "fhir_export",
    "fhir_import",
    "issue_link",
    "link_answer",
    "link_done",
    "link_save_hx",
    "paper_entry",
    "response_detail",
]
