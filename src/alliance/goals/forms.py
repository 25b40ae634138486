from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from alliance.goals.models import LEVEL_LABELS, Goal, Task

SCALE = [(1, _("1 - a little")), (2, _("2 - moderately")), (3, _("3 - very"))]


class GoalForm(forms.Form):
    wording = forms.CharField(
        label=_("The goal, in your own words"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    level_m2 = forms.CharField(
        label=format_lazy("-2: {}", LEVEL_LABELS[-2]), required=False, max_length=300
    )
    level_m1 = forms.CharField(
        label=format_lazy("-1: {}", LEVEL_LABELS[-1]), required=False, max_length=300
    )
    level_0 = forms.CharField(
        label=format_lazy("0: {}", LEVEL_LABELS[0]),
        required=False,
        max_length=300,
        help_text=_("What would it look like if things go as expected?"),
    )
    level_p1 = forms.CharField(
        label=format_lazy("+1: {}", LEVEL_LABELS[1]), required=False, max_length=300
    )
    level_p2 = forms.CharField(
        label=format_lazy("+2: {}", LEVEL_LABELS[2]), required=False, max_length=300
    )
    importance = forms.TypedChoiceField(
        label=_("How important is it?"), choices=SCALE, coerce=int, initial=2
    )
    difficulty = forms.TypedChoiceField(
        label=_("How hard will it be?"), choices=SCALE, coerce=int, initial=2
    )
    note = forms.CharField(
        label=_("Why the change? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELDS = (
        "wording",
        "level_m2",
        "level_m1",
        "level_0",
        "level_p1",
        "level_p2",
        "importance",
        "difficulty",
    )

    def goal_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (Goal.Status.ACTIVE, "Resume"),
            (Goal.Status.PAUSED, "Pause"),
            (Goal.Status.ACHIEVED, "Achieved"),
            (Goal.Status.DROPPED, "Drop"),
        ]
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["description", "rationale"]
        labels = {"description": "What to do", "rationale": "Why this helps (in plain words)"}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "rationale": forms.Textarea(attrs={"rows": 2}),
        }


class TaskUpdateForm(forms.Form):
    progress = forms.IntegerField(
        label=_("How far along are you? (per cent)"), min_value=0, max_value=100, required=False
    )
    not_working = forms.BooleanField(label=_("This isn't working for me"), required=False)
    note = forms.CharField(
        label=_("Anything to add? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
