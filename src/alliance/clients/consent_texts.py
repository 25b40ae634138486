"""The consent texts Alliance publishes as version 1 of each kind.

A clinic publishes a new version by adding a ConsentText row with a higher version; a
consent always records the version that was agreed to.

The shipped texts are in the catalogue, so a client reads version 1 in their own language
(``ConsentText.body_for_reader``); a clinic's own version is shown as the clinic wrote it.
"""

from django.utils.translation import gettext_noop

TEXTS = {
    "treatment": gettext_noop(
        "I agree to receive psychological treatment from the clinicians of this clinic. "
        "I understand that my therapist records notes, questionnaire answers and ratings in "
        "Alliance to plan and review my care together with me, that only my care team can read "
        "them, that every access is recorded and shown to me, and that I can stop at any time."
    ),
    "recording": gettext_noop(
        "I agree that transcripts of my therapy sessions may be uploaded to Alliance to give my "
        "therapist feedback on how they listen and on how our work is going. The text is "
        "encrypted, is analysed by software on the clinic's own servers, is never sent to other "
        "companies, and can be deleted after analysis. I can withdraw this consent at any time; "
        "no new transcripts will be uploaded after that."
    ),
    "supervision": gettext_noop(
        "I agree that my therapist may share selected information about my care (for example "
        "questionnaire trends or session feedback) with their clinical supervisor, to help them "
        "give me better care. Without this consent, only information that does not identify me "
        "can be shared. I can withdraw this consent at any time and shared items that identify "
        "me will be hidden at once."
    ),
    "research": gettext_noop(
        "I agree that information from my care, with my name and other details that identify me "
        "removed, may be used for research and service improvement. Saying no does not change my "
        "care in any way, and I can withdraw at any time."
    ),
}
