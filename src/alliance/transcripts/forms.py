from __future__ import annotations

from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 2 * 1024 * 1024


class TranscriptUploadForm(forms.Form):
    session = forms.ChoiceField(label=_("Which session is this?"))
    session_date = forms.DateField(
        required=False,
        label=_("Date of the new session"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only when you choose “A new session”."),
    )
    file = forms.FileField(
        label=_("Transcript file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,.srt,.txt,text/vtt,text/plain"}),
        help_text=_(
            "WebVTT from Zoom or Teams (.vtt), SubRip (.srt) or plain text with “Name: text” "
            "lines. At most 2 MB."
        ),
    )

    def __init__(self, *args, sessions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["session"]).choices = [("new", _("A new session"))] + [
            (
                str(s.pk),
                _("Session %(number)s, %(date)s")
                % {"number": s.number, "date": f"{s.scheduled_at:%Y-%m-%d}"},
            )
            for s in sessions
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 2 MB; is it really a transcript?")
            )
        return upload

    def clean(self):
        data = super().clean()
        if data.get("session") == "new" and not data.get("session_date"):
            self.add_error("session_date", _("Give the date of the new session."))
        day = data.get("session_date")
        if data.get("session") == "new" and day and day > timezone.localdate():
            # A transcript records a session that has happened; "today" is the uploader's day.
            self.add_error(
                "session_date",
                _("%(date)s is in the future; give the date the session took place.")
                % {"date": f"{day:%-d %B %Y}"},
            )
        return data


class SpeakerForm(forms.Form):
    therapist = forms.ChoiceField(
        widget=forms.RadioSelect, label=_("Which speaker is you, the therapist?")
    )

    def __init__(self, *args, speakers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["therapist"]).choices = [
            (name, name) for name in speakers
        ]


class TranscriptSettingsForm(forms.Form):
    delete_text_after_analysis = forms.BooleanField(
        required=False,
        label=_("Delete transcript text after analysis"),
        help_text=_(
            "Keep only the numbers (rates, counts, turn numbers of possible rupture moments); "
            "the words, the coded transcript and the examples are gone for good."
        ),
    )
    export_text_with_corrections = forms.BooleanField(
        required=False,
        label=_("Include the words in the corrections export"),
        help_text=_(
            "Off: the export of therapists' corrections holds codes and turn numbers only."
        ),
    )
    apply_to_existing = forms.BooleanField(
        required=False,
        label=_("Also delete the text of transcripts analysed before"),
        help_text=_("Only with the setting above. Cannot be undone."),
    )

    def clean(self):
        data = super().clean()
        if data.get("apply_to_existing") and not data.get("delete_text_after_analysis"):
            raise forms.ValidationError(
                _(
                    "Earlier transcripts can only be cleared while text deletion is on; "
                    "nothing was changed."
                )
            )
        return data
