from __future__ import annotations

import zoneinfo
from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Clinic, Role, User


class ClientSigninForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )


class StaffCreateForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=200)
    email = forms.EmailField(label="Work email")
    role = forms.ChoiceField(choices=Role.choices)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("Someone with this email address already has an account.")
        return email


def _validate_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise forms.ValidationError(
            f"{value!r} is not a known time zone; use a name like America/New_York."
        ) from None
    return value


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ["name", "time_zone", "crisis_resources", "crisis_line", "staff_idle_minutes"]
        widgets = {"crisis_resources": forms.Textarea(attrs={"rows": 6})}

    def clean_time_zone(self) -> str:
        return _validate_zone(self.cleaned_data["time_zone"])

    def clean_staff_idle_minutes(self) -> int | None:
        value = self.cleaned_data["staff_idle_minutes"]
        if value is not None and not 1 <= value <= 60:
            raise forms.ValidationError("Choose between 1 and 60 minutes.")
        return value


def _zone_choices() -> list[tuple[str, str]]:
    return [
        (name, name)
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name and not name.startswith("Etc/")
    ]


class MyTimeZoneForm(forms.Form):
    """A staff member's own time zone; empty reads times in the clinic's zone."""

    time_zone = forms.ChoiceField(label="Show times in", required=False)
    language = forms.ChoiceField(
        label="Language",
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
    )

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or settings.LANGUAGE_CODE

    def __init__(self, *args: object, clinic_zone: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = cast(forms.ChoiceField, self.fields["time_zone"])
        field.choices = [("", f"The clinic's time zone ({clinic_zone})"), *_zone_choices()]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        return _validate_zone(value) if value else ""


class AuditSearchForm(forms.Form):
    client = forms.UUIDField(required=False, label="Client id")
    actor = forms.CharField(required=False, label="Person (name or email)")
    action = forms.ChoiceField(required=False, choices=[])
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        from alliance.core.models import AuditAction

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", "Any action"),
            *AuditAction.choices,
        ]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data
