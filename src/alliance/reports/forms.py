from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.reports.models import ReportSettings


class ReportSettingsForm(forms.ModelForm):
    class Meta:
        model = ReportSettings
        fields = ["supervisors_see_therapist_figures"]
        labels = {
            "supervisors_see_therapist_figures": _(
                "Supervisors may see each supervisee's own outcome figures"
            )
        }
