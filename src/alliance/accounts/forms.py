from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Clinic, Role, User
from alliance.core.languages import other_languages
from alliance.core.models import AuditAction
from alliance.lib.timezones import is_valid_zone


class StaffCreateForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Work email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _("Someone with this email address already has an account.")
            )
        return email


def validate_time_zone(value: str) -> str:
    """A form field's IANA zone name, or a ValidationError naming an example (staff and clients)."""
    if not is_valid_zone(value):
        raise forms.ValidationError(
            _("%(zone)s is not a known time zone; use a name like America/New_York.")
            % {"zone": repr(value)}
        ) from None
    return value


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ["name", "time_zone", "crisis_resources", "crisis_line", "staff_idle_minutes"]
        widgets = {"crisis_resources": forms.Textarea(attrs={"rows": 6})}
        # The model fields' own labels stay unmarked (marking them would need a migration).
        labels = {
            "name": _("Name"),
            "time_zone": _("Time zone"),
            "crisis_resources": _("Crisis resources"),
            "crisis_line": _("Crisis line"),
            "staff_idle_minutes": _("Staff idle minutes"),
        }
        help_texts = {
            "crisis_resources": _("Shown to a client at once whenever an answer suggests risk."),
            "crisis_line": _(
                "One line on every client page, questionnaire page and reminder email "
                "(after \u201cIn crisis?\u201d). Use the numbers of your clients' country."
            ),
            "staff_idle_minutes": _(
                "Automatic logoff for staff after this many idle minutes (empty: site default)."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One crisis line and one resources text per language clients can choose; empty means
        # those clients see the default texts above.
        saved = self.instance.crisis_translations or {}
        self.crisis_languages = other_languages()
        for code, name in self.crisis_languages:
            own = saved.get(code) or {}
            self.fields[f"crisis_resources_{code}"] = forms.CharField(
                label=f"Crisis resources in {name}",
                required=False,
                max_length=4000,
                initial=own.get("crisis_resources", ""),
                widget=forms.Textarea(attrs={"rows": 6, "lang": code}),
                help_text=f"Shown to clients who use {name}. Empty: they see the text above.",
            )
            self.fields[f"crisis_line_{code}"] = forms.CharField(
                label=f"Crisis line in {name}",
                required=False,
                max_length=200,
                initial=own.get("crisis_line", ""),
                widget=forms.TextInput(attrs={"lang": code}),
                help_text=f"The one line for clients who use {name}. Empty: they see the line "
                "above.",
            )

    def save(self, commit: bool = True) -> Clinic:
        clinic = super().save(commit=False)
        translations = dict(clinic.crisis_translations or {})
        for code, _name in self.crisis_languages:
            texts = {
                key: self.cleaned_data.get(f"{key}_{code}", "").strip()
                for key in ("crisis_line", "crisis_resources")
            }
            texts = {k: v for k, v in texts.items() if v}
            if texts:
                translations[code] = texts
            else:
                translations.pop(code, None)
        clinic.crisis_translations = translations
        if commit:
            clinic.save()
        return clinic

    def clean_time_zone(self) -> str:
        return validate_time_zone(self.cleaned_data["time_zone"])

    def clean_staff_idle_minutes(self) -> int | None:
        value = self.cleaned_data["staff_idle_minutes"]
        if value is not None and not 1 <= value <= 60:
            raise forms.ValidationError(_("Choose between 1 and 60 minutes."))
        return value


def _zone_choices() -> list[tuple[str, str]]:
    return [
        (name, name)
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name and not name.startswith("Etc/")
    ]


class MyTimeZoneForm(forms.Form):
    """A staff member's own time zone; empty reads times in the clinic's zone."""

    time_zone = forms.ChoiceField(label=_("Show times in"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
    )

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or settings.LANGUAGE_CODE

    def __init__(self, *args: object, clinic_zone: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = cast(forms.ChoiceField, self.fields["time_zone"])
        field.choices = [
            ("", _("The clinic's time zone (%(zone)s)") % {"zone": clinic_zone}),
            *_zone_choices(),
        ]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        return validate_time_zone(value) if value else ""


class AuditSearchForm(forms.Form):
    client = forms.UUIDField(required=False, label=_("Client id"))
    actor = forms.CharField(required=False, label=_("Person (name or email)"))
    action = forms.ChoiceField(required=False, label=_("Action"), choices=[])
    date_from = forms.DateField(
        required=False, label=_("Date from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("Date to"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", _("Any action")),
            *AuditAction.choices,
        ]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
