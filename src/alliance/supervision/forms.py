from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Role, User
from alliance.supervision.models import PROMPTS, PlannedStep, Reaction, ShareKind


class JournalEntryForm(forms.Form):
    session = forms.ChoiceField(label=_("Session"), required=False)
    felt = forms.CharField(
        label=PROMPTS[0][1], widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    echoes = forms.CharField(
        label=PROMPTS[1][1], widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    stirred = forms.CharField(
        label=PROMPTS[2][1], widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    effect = forms.CharField(
        label=PROMPTS[3][1], widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    steps = forms.MultipleChoiceField(
        label=_("What I will do"),
        choices=PlannedStep.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    plan = forms.CharField(
        label=_("In my own words (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args: Any, sessions: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["session"]).choices = [
            ("", _("Not linked to a session"))
        ] + [
            (
                str(s.pk),
                _("Session %(number)s (%(date)s)")
                % {"number": s.number, "date": f"{s.scheduled_at:%Y-%m-%d}"},
            )
            for s in sessions
        ]
        for value, label in Reaction.choices:
            self.fields[f"tag_{value}"] = forms.IntegerField(
                label=_("%(reaction)s (0–10, leave empty if not felt)") % {"reaction": label},
                min_value=0,
                max_value=10,
                required=False,
            )

    def tag_fields(self) -> list[Any]:
        return [self[f"tag_{value}"] for value in Reaction.values]

    def text_fields(self) -> list[Any]:
        return [self[name] for name in ("felt", "echoes", "stirred", "effect")]

    def tags(self) -> dict[str, int]:
        return {
            value: self.cleaned_data[f"tag_{value}"]
            for value in Reaction.values
            if self.cleaned_data.get(f"tag_{value}") is not None
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        texts = [data.get(n) for n in ("felt", "echoes", "stirred", "effect", "plan")]
        if not self.errors and not any(texts) and not data.get("steps") and not self.tags():
            raise forms.ValidationError(
                _("Write something or choose at least one reaction before saving.")
            )
        return data


class ShareForm(forms.Form):
    kind = forms.ChoiceField(choices=ShareKind.choices, label=_("What to share"))
    object_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    start_session = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    supervisor = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("Share with"), empty_label=None
    )
    question = forms.CharField(
        label=_(
            "What would you like to talk about? (optional; hidden from the supervisor when the "
            "client has not consented to supervision)"
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args: Any, supervisors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["supervisor"]).queryset = supervisors


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)


class LinkForm(forms.Form):
    supervisor = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Supervisor"))
    supervisee = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Supervises"))

    def __init__(self, *args: Any, clinic: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(
            memberships__clinic=clinic, memberships__is_active=True
        ).distinct()
        cast("forms.ModelChoiceField[User]", self.fields["supervisor"]).queryset = staff.filter(
            memberships__role=Role.SUPERVISOR
        )
        cast("forms.ModelChoiceField[User]", self.fields["supervisee"]).queryset = staff.filter(
            memberships__role__in=[Role.THERAPIST, Role.SUPERVISOR]
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("supervisor") and data.get("supervisor") == data.get("supervisee"):
            raise forms.ValidationError(_("A supervisor cannot supervise themselves."))
        return data
