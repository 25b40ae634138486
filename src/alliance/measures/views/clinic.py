"""The clinic admin's measures settings and licensed item texts."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Role
from alliance.core import audit
from alliance.core.access import staff, staff_membership
from alliance.measures import registry
from alliance.measures.models import ClinicInstrumentTexts, MeasureSettings

SETTINGS_FIELDS = (
    "reliable_change_phq9",
    "reliable_change_gad7",
    "response_fraction",
    "remission_below_phq9",
    "no_improvement_by_session",
    "link_valid_hours",
)


# --- Clinic admin: settings and licensed item texts ---------------------------------------


@staff(Role.ADMIN)
def clinic_measure_settings(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    obj = MeasureSettings.for_clinic(clinic)
    errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "settings":
        values: dict[str, Any] = {}
        for name in SETTINGS_FIELDS:
            # SETTINGS_FIELDS name plain model fields (no relation, no generic foreign key).
            field = cast("models.Field[Any, Any]", MeasureSettings._meta.get_field(name))
            raw = request.POST.get(name, "").strip()
            try:
                value = float(raw) if field.get_internal_type() == "FloatField" else int(raw)
                if value < 0:
                    raise ValueError
                if name == "response_fraction" and not 0 < value <= 1:
                    raise ValueError
            except ValueError:
                errors.append(
                    _("%(field)s: %(value)s is not allowed.")
                    % {"field": str(field.verbose_name).capitalize(), "value": repr(raw)}
                )
                continue
            values[name] = value
        obj.use_schueller_checkpoints = request.POST.get("use_schueller_checkpoints") == "on"
        if not errors:
            for name, value in values.items():
                setattr(obj, name, value)
            obj.save()
            audit.record_request(request, "update", "clinic_settings", note="measures")
            messages.success(
                request,
                _("Measure settings saved. New results use them; each result keeps its own."),
            )
            return redirect("measures_clinic_settings")
    elif request.method == "POST" and request.POST.get("form") == "texts":
        instrument_id = request.POST.get("instrument", "")
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise registry.ItemTextImportError(_("Choose a CSV or JSON file."))
            inst = registry.import_item_texts(instrument_id, upload.read().decode("utf-8"))
        except (
            registry.ItemTextImportError,
            registry.UnknownInstrumentError,
            UnicodeDecodeError,
        ) as exc:
            errors.append(str(exc))
        else:
            ClinicInstrumentTexts.objects.update_or_create(
                clinic=clinic,
                instrument_id=instrument_id,
                defaults={
                    "definition": inst.to_dict(),
                    "imported_by": request.user,
                    "imported_at": timezone.now(),
                },
            )
            audit.record_request(
                request, "update", "clinic_settings", note=f"item texts {instrument_id}"
            )
            messages.success(
                request,
                _("Item texts for %(instrument)s imported for this clinic.")
                % {"instrument": inst.short_name},
            )
            return redirect("measures_clinic_settings")
    unlicensed = [i for i in registry.all_instruments() if not i.item_texts_licensed]
    imported = set(
        ClinicInstrumentTexts.objects.filter(clinic=clinic).values_list("instrument_id", flat=True)
    )
    return render(
        request,
        "measures/clinic_settings.html",
        {
            "settings": obj,
            "errors": errors,
            "unlicensed": unlicensed,
            "imported": imported,
            "fields": SETTINGS_FIELDS,
        },
        status=400 if errors else 200,
    )
