from __future__ import annotations

from typing import Any

from alliance.measures.models import Administration


def assign(client: Any, instrument_id: str = "phq9") -> Administration:
    return Administration.objects.create(
        clinic=client.clinic, client=client, instrument_id=instrument_id
    )


def phq9_post(adm: Administration, answers: list[int | str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"idempotency_key": str(adm.idempotency_key), "action": "submit"}
    for n, value in enumerate(answers, start=1):
        data[f"item{n}"] = value
    data.update(extra)
    return data
