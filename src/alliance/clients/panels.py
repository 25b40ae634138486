"""Extension point: apps add sections ("panels") to the client pages.

Each app registers panels in its ``AppConfig.ready()``. A panel has a template and a
context function ``(request, client) -> dict | None`` (None hides it). The client page
renders panels in ``order``; access to the client was already checked (and audited) by
the page, so a panel only adds the data it shows.

    register(Panel("measures", "measures/_client_panel.html", measures_context, order=10))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

STAFF = "staff"
CLIENT = "client"


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    order: int = 100
    audience: str = STAFF  # "staff": the clinician's client page; "client": the client's home


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    if panel.audience not in {STAFF, CLIENT}:
        raise ValueError(f"unknown panel audience {panel.audience!r}")
    _PANELS[f"{panel.audience}:{panel.name}"] = panel


def panels_for(request: HttpRequest, client: Any, audience: str) -> list[dict[str, Any]]:
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        if panel.audience != audience:
            continue
        context = panel.context(request, client)
        if context is not None:
            rendered.append({"template": panel.template, "ctx": context, "name": panel.name})
    return rendered
