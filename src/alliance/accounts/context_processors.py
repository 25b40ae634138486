from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext

from alliance.accounts.models import CLINICAL_ROLES, GENERIC_CRISIS_LINE


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    membership = user.membership if user is not None and role in CLINICAL_ROLES else None
    return {
        # The first-sign-in tour (core/_tour.html), until the clinician dismisses it. Only on the
        # caseload, where a clinician lands: above every page it pushed each page's own content
        # (the client page's summary, on a phone) below the first screen.
        "show_tour": membership is not None
        and membership.tour_dismissed_at is None
        and getattr(getattr(request, "resolver_match", None), "url_name", None) == "caseload",
        "crisis_line_generic": gettext(GENERIC_CRISIS_LINE),
        "nav_role": role,
        "nav_clinic": user.clinic if user is not None and role else None,
        "demo_mode": not settings.PRODUCTION,
        # The zone pages render times in (alliance.core.timezones), for "times in ..." labels.
        "viewer_zone": str(getattr(request, "viewer_zone", settings.TIME_ZONE)),
    }
