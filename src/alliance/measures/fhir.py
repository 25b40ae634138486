"""FHIR R4B export and import of one administration.

Export follows the HL7 US Core PHQ-9 examples (clinical-reference, "FHIR"): a QuestionnaireResponse
plus Observations with category ``survey`` — the panel (44249-1) with ``hasMember`` links to one
Observation per item, the total (44261-6, an integer) and the difficulty question (69722-7) — each
``derivedFrom`` the response. ``fhir.resources`` validates structure only, not terminology, so
import checks the codes against the instrument itself.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from alliance.measures.registry import (
    LOINC_SYSTEM,
    QUESTIONNAIRE_URL_PREFIX,
    STEM_LINK_ID,
    Instrument,
    Item,
    all_instruments,
    answer_coding,
    fhir_path,
    instrument_ids,
    load,
    questionnaire_url,
    resolve,
)
from alliance.measures.scoring import Answer, ScoreResult, ScoringError, parse_answers, score

SURVEY_CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
TOTAL_LINK_ID = "total"
_FHIR_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# BCP-47 language tag as FHIR carries it in Resource.language ("en", "es", "es-MX").
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class FhirImportError(ValueError):
    """An imported resource is invalid; the message starts with the offending field's path."""


def _full_url(response_id: str, suffix: str) -> str:
    # Collection bundles resolve references through fullUrl; stable uuid5s keep exports repeatable.
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"alliance:{response_id}:{suffix}"))


def _own_code(instrument: Instrument, code: str) -> dict[str, Any]:
    return {"system": f"urn:alliance:item:{instrument.id}", "code": code}


def _item_code(instrument: Instrument, item: Item) -> dict[str, Any]:
    if item.loinc:
        return {
            "system": LOINC_SYSTEM,
            "code": item.loinc,
            **({"display": item.text} if item.text else {}),
        }
    return _own_code(instrument, item.id)


def _authored(authored: dt.datetime | dt.date | str) -> str:
    if isinstance(authored, dt.datetime):
        if authored.tzinfo is None:
            raise ValueError(
                "authored must be timezone-aware (FHIR dateTime with a time needs an offset)"
            )
        return authored.isoformat()
    if isinstance(authored, dt.date):
        return authored.isoformat()
    return str(authored)


def _score_value(total: int | float) -> dict[str, Any]:
    if isinstance(total, int) or float(total).is_integer():
        return {"valueInteger": int(total)}
    return {
        "valueQuantity": {
            "value": total,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
    }


def response_to_fhir(
    instrument: Instrument | str,
    answers: Mapping[str, Answer] | Sequence[Answer],
    score_result: ScoreResult | None,
    patient_ref: str,
    authored: dt.datetime | dt.date | str,
    response_id: str,
    language: str | None = None,
) -> dict[str, Any]:
    """A Bundle (type ``collection``) with the QuestionnaireResponse and its Observations.

    ``language`` (BCP-47) is the language the questionnaire was answered in: it becomes
    ``QuestionnaireResponse.language`` and the item texts are the ones the client read. Answer
    codings keep their LOINC display, which is English by definition.
    """
    instrument = resolve(instrument)
    if language is not None and not _LANGUAGE_RE.match(language):
        raise ValueError(f"language {language!r}: not a BCP-47 language code")
    shown = instrument.localized(language)
    if not _FHIR_ID_RE.match(response_id) or len(response_id) > 50:
        raise ValueError(
            f"response_id {response_id!r}: use letters, digits, '-' or '.', at most 50"
        )
    values = parse_answers(instrument, answers)
    if score_result is None:
        score_result = score(instrument, answers)
    when = _authored(authored)
    subject = {"reference": patient_ref}
    qr_url = _full_url(response_id, "QuestionnaireResponse")

    qr_items: list[dict[str, Any]] = []
    observations: list[tuple[str, dict[str, Any]]] = []
    member_refs: list[dict[str, str]] = []

    def observation(suffix: str, code: dict[str, Any], value: dict[str, Any]) -> str:
        full_url = _full_url(response_id, suffix)
        obs = {
            "resourceType": "Observation",
            "id": f"{response_id}-{suffix}".replace("_", "-"),
            "status": "final",
            "category": [SURVEY_CATEGORY],
            "code": {"coding": [code]},
            "subject": subject,
            "effectiveDateTime": when,
            **value,
            "derivedFrom": [{"reference": qr_url}],
        }
        observations.append((full_url, obs))
        return full_url

    for item in instrument.items:
        value = values[item.id]
        if value is None:
            continue
        qi: dict[str, Any] = {"linkId": item.id}
        text = shown.item(item.id).text
        if text:
            qi["text"] = text
        obs_value: dict[str, Any] | None
        if item.type == "ordinal":
            option = item.option_for_value(value)  # type: ignore[arg-type]
            assert option is not None
            coding = answer_coding(instrument, item, option)
            qi["answer"] = [{"valueCoding": coding}]
            obs_value = {"valueCodeableConcept": {"coding": [coding], "text": option.text}}
        elif item.type == "decimal":
            qi["answer"] = [{"valueDecimal": value}]
            obs_value = {"valueQuantity": {"value": value}}
        elif item.type == "boolean":
            qi["answer"] = [{"valueBoolean": bool(value)}]
            obs_value = {"valueBoolean": bool(value)}
        else:
            # Free text stays in the response only: it may hold anything and has no code to file under.
            qi["answer"] = [{"valueString": str(value)}]
            obs_value = None
        qr_items.append(qi)
        if obs_value is not None:
            member_refs.append(
                {"reference": observation(item.id, _item_code(instrument, item), obs_value)}
            )

    if score_result.total is not None:
        qr_items.append(
            {
                "linkId": TOTAL_LINK_ID,
                "text": f"{instrument.short_name} total score",
                "answer": [_score_value(score_result.total)],
            }
        )
        total_code = (
            {"system": LOINC_SYSTEM, "code": instrument.loinc_total}
            if instrument.loinc_total
            else _own_code(instrument, TOTAL_LINK_ID)
        )
        member_refs.append(
            {"reference": observation(TOTAL_LINK_ID, total_code, _score_value(score_result.total))}
        )

    panel_code = (
        {"system": LOINC_SYSTEM, "code": instrument.loinc_panel, "display": instrument.name}
        if instrument.loinc_panel
        else _own_code(instrument, "panel")
    )
    panel_url = _full_url(response_id, "panel")
    panel = {
        "resourceType": "Observation",
        "id": f"{response_id}-panel",
        "status": "final",
        "category": [SURVEY_CATEGORY],
        "code": {"coding": [panel_code]},
        "subject": subject,
        "effectiveDateTime": when,
        "hasMember": member_refs,
        "derivedFrom": [{"reference": qr_url}],
    }
    qr = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": questionnaire_url(instrument) + f"|{instrument.version}",
        **({"language": language} if language else {}),
        "status": "completed",
        "subject": subject,
        "authored": when,
        "item": qr_items,
    }
    entries = [{"fullUrl": qr_url, "resource": qr}, {"fullUrl": panel_url, "resource": panel}]
    entries += [{"fullUrl": url, "resource": obs} for url, obs in observations]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": f"{response_id}-bundle",
        "type": "collection",
        "entry": entries,
    }
    if "T" in when:  # Bundle.timestamp is an instant: only a full date-time fits
        bundle["timestamp"] = when
    return bundle


# --------------------------------------------------------------------------- import


def _validate(model: Any, data: dict[str, Any], prefix: str) -> None:
    try:
        model.model_validate(data)
    except Exception as exc:  # pydantic.ValidationError
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise FhirImportError(f"{prefix}: {exc}") from None
        first = errors()[0]
        path = fhir_path(first["loc"])
        raise FhirImportError(f"{prefix}{'.' + path if path else ''}: {first['msg']}") from None


def _instrument_for(canonical: str | None) -> Instrument:
    where = "QuestionnaireResponse.questionnaire"
    if not canonical:
        raise FhirImportError(f"{where}: missing; cannot tell which instrument was answered")
    base = canonical.split("|", 1)[0]
    if base.startswith(QUESTIONNAIRE_URL_PREFIX):
        iid = base[len(QUESTIONNAIRE_URL_PREFIX) :]
        if iid in instrument_ids():
            return load(iid)
    # Other systems point at the LOINC panel (e.g. http://loinc.org/q/44249-1).
    for instrument in all_instruments():
        if instrument.loinc_panel and re.search(
            rf"(^|[/:]){re.escape(instrument.loinc_panel)}$", base
        ):
            return instrument
    raise FhirImportError(f"{where}: {canonical!r} is not a known instrument")


def _match_item(instrument: Instrument, link_id: str) -> Item | None:
    for item in instrument.items:
        if item.id == link_id:
            return item
    code = link_id.lstrip("/")  # LOINC-style linkIds such as "/44250-9"
    return next((i for i in instrument.items if i.loinc and i.loinc == code), None)


def _flatten(items: list[dict[str, Any]], path: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for n, item in enumerate(items or []):
        here = f"{path}.item[{n}]"
        if item.get("item"):  # groups: answers sit on their children
            out += _flatten(item["item"], here)
        if "answer" in item or not item.get("item"):
            out.append((here, item))
    return out


def _questionnaire_response(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    if data.get("resourceType") == "Bundle":
        return next(
            (
                e["resource"]
                for e in data.get("entry") or []
                if isinstance(e, dict)
                and isinstance(e.get("resource"), dict)
                and e["resource"].get("resourceType") == "QuestionnaireResponse"
            ),
            {},
        )
    return data


def fhir_response_language(bundle_or_qr: dict[str, Any]) -> str:
    """``QuestionnaireResponse.language`` of an import (BCP-47), "en" when it has none.

    A value that is not a language code raises FhirImportError naming the field.
    """
    raw = _questionnaire_response(bundle_or_qr).get("language")
    if raw in (None, ""):
        return "en"
    if not isinstance(raw, str) or len(raw) > 35 or not _LANGUAGE_RE.match(raw):
        raise FhirImportError(
            f"QuestionnaireResponse.language: {raw!r} is not a BCP-47 language code such as "
            "'en' or 'es'"
        )
    return raw


def fhir_to_response(bundle_or_qr: dict[str, Any]) -> tuple[str, dict[str, Answer]]:
    """Instrument id and answers (item id -> value) from a Bundle or QuestionnaireResponse.

    Validates the structure with fhir.resources R4B and every answer against the instrument;
    FhirImportError names the offending field.
    """
    # fhir.resources (pydantic models) is heavy: loaded only when a FHIR resource is read.
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse  # noqa: PLC0415

    if not isinstance(bundle_or_qr, dict):
        raise FhirImportError("resource: expected a JSON object")
    rtype = bundle_or_qr.get("resourceType")
    if rtype == "Bundle":
        _validate(Bundle, bundle_or_qr, "Bundle")
        found = [
            (n, e["resource"])
            for n, e in enumerate(bundle_or_qr.get("entry") or [])
            if (e.get("resource") or {}).get("resourceType") == "QuestionnaireResponse"
        ]
        if len(found) != 1:
            raise FhirImportError(
                f"Bundle.entry: expected one QuestionnaireResponse, found {len(found)}"
            )
        qr = found[0][1]
    elif rtype == "QuestionnaireResponse":
        qr = bundle_or_qr
    else:
        raise FhirImportError(f"resourceType: {rtype!r} is not a Bundle or QuestionnaireResponse")
    _validate(QuestionnaireResponse, qr, "QuestionnaireResponse")

    status = qr.get("status")
    if status not in ("completed", "amended"):
        raise FhirImportError(
            f"QuestionnaireResponse.status: {status!r} is not completed or amended"
        )
    instrument = _instrument_for(qr.get("questionnaire"))
    name = instrument.short_name
    answers: dict[str, Answer] = {}
    for path, qi in _flatten(qr.get("item") or [], "QuestionnaireResponse"):
        link_id = qi.get("linkId", "")
        if (
            link_id in (TOTAL_LINK_ID, STEM_LINK_ID)
            or link_id.lstrip("/") == instrument.loinc_total
        ):
            continue  # the total is recomputed from the items, never trusted from outside
        item = _match_item(instrument, link_id)
        if item is None:
            raise FhirImportError(f"{path}.linkId: {link_id!r} is not an item of {name}")
        if item.id in answers:
            raise FhirImportError(f"{path}.linkId: {name} item {item.number} is answered twice")
        given = qi.get("answer") or []
        if not given:
            continue  # unanswered: scoring handles missing items
        if len(given) > 1:
            raise FhirImportError(
                f"{path}.answer: {name} item {item.number} takes one answer, got {len(given)}"
            )
        answer = given[0]
        apath = f"{path}.answer[0]"
        label = f"{name} item {item.number}"
        if item.type == "ordinal":
            if "valueCoding" in answer:
                code = answer["valueCoding"].get("code")
                option = item.option_for_code(code) if code is not None else None
                if option is None:
                    raise FhirImportError(
                        f"{apath}.valueCoding.code: {code!r} is not an answer of {label}"
                    )
                answers[item.id] = option.value
            elif "valueInteger" in answer:
                if answer["valueInteger"] not in item.allowed_values:
                    raise FhirImportError(
                        f"{apath}.valueInteger: {answer['valueInteger']} is not an answer of {label}"
                    )
                answers[item.id] = answer["valueInteger"]
            else:
                raise FhirImportError(f"{apath}: {label} needs a valueCoding")
        elif item.type == "decimal":
            key = "valueDecimal" if "valueDecimal" in answer else "valueInteger"
            if key not in answer:
                raise FhirImportError(f"{apath}: {label} needs a valueDecimal")
            answers[item.id] = answer[key]
        elif item.type == "boolean":
            if "valueBoolean" not in answer:
                raise FhirImportError(f"{apath}: {label} needs a valueBoolean")
            answers[item.id] = answer["valueBoolean"]
        else:
            if "valueString" not in answer:
                raise FhirImportError(f"{apath}: {label} needs a valueString")
            answers[item.id] = answer["valueString"]
    try:
        parse_answers(instrument, answers)  # ranges of decimal items
    except ScoringError as exc:
        raise FhirImportError(f"QuestionnaireResponse.item ({exc.item_id}): {exc}") from None
    return instrument.id, answers
