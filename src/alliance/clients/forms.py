from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from alliance.accounts.forms import validate_time_zone
from alliance.accounts.models import CLINICAL_ROLES, User
from alliance.clients.models import ConsentKind


class ClientSigninForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )


def clinicians_of(clinic) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(
            memberships__clinic=clinic,
            memberships__is_active=True,
            memberships__role__in=CLINICAL_ROLES,
        ).order_by("full_name"),
        widget=forms.CheckboxSelectMultiple,
        label=_("Care team"),
        error_messages={"required": _("Choose at least one therapist.")},
    )


class ClientCreateForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    preferred_name = forms.CharField(label=_("Preferred name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email (for sign-in links)"))
    time_zone = forms.CharField(label=_("Time zone"), initial="America/New_York", max_length=64)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
        help_text=_(
            "The client's pages, emails and reminders are in this language; they can "
            "change it themselves."
        ),
    )

    def __init__(self, *args, clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapists"] = clinicians_of(clinic)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _("Someone with this email address already has an account.")
            )
        return email

    def clean_time_zone(self) -> str:
        return validate_time_zone(self.cleaned_data["time_zone"])

    def clean_language(self) -> str:
        # Left out (an older form): the site's default language.
        return self.cleaned_data["language"] or settings.LANGUAGE_CODE


class CareTeamForm(forms.Form):
    def __init__(self, *args, clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapists"] = clinicians_of(clinic)


class ConsentChangeForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices)
    granted = forms.TypedChoiceField(
        choices=[("yes", _("Give consent")), ("no", _("Withdraw consent"))],
        coerce=lambda v: v == "yes",
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=20,
        max_length=2000,
        label=_("Why do you need emergency access?"),
        help_text=_(
            "At least 20 characters. The care team and the client will see that you "
            "opened the record, and when."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I understand this access is recorded, time-limited and shown to the care team.")
    )


class LanguageForm(forms.Form):
    """The client's own language switch: only a language Alliance has."""

    language = forms.ChoiceField(choices=settings.LANGUAGES)
