import copy
import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from alliance.measures.fhir import FhirImportError, fhir_to_response, response_to_fhir
from alliance.measures.scoring import score

WHEN = dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.UTC)
PHQ9 = {
    "item1": 2,
    "item2": 3,
    "item3": 1,
    "item4": 0,
    "item5": 1,
    "item6": 2,
    "item7": 0,
    "item8": 1,
    "item9": 1,
    "difficulty": 2,
}


def _bundle(answers=PHQ9, instrument="phq9"):
    return response_to_fhir(
        instrument, answers, score(instrument, answers), "Patient/p-1", WHEN, "resp-42"
    )


def _resources(bundle):
    return [e["resource"] for e in bundle["entry"]]


def test_phq9_bundle_validates_and_is_coded_like_us_core():
    bundle = _bundle()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    resources = _resources(bundle)
    qr = resources[0]
    QuestionnaireResponse.model_validate(qr)
    assert qr["subject"] == {"reference": "Patient/p-1"}
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    for obs in observations:
        Observation.model_validate(obs)
        assert obs["category"][0]["coding"][0]["code"] == "survey"
        assert obs["derivedFrom"] == [{"reference": bundle["entry"][0]["fullUrl"]}]
    by_code = {o["code"]["coding"][0]["code"]: o for o in observations}
    assert by_code["44261-6"]["valueInteger"] == 11
    assert (
        by_code["44260-8"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6569-3"
    )  # item 9: several days
    assert (
        by_code["69722-7"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6575-0"
    )  # very difficult
    panel = by_code["44249-1"]
    member_urls = {m["reference"] for m in panel["hasMember"]}
    full_urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    assert {full_urls[u]["code"]["coding"][0]["code"] for u in member_urls} == {
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
        "69722-7",
        "44261-6",
    }


@pytest.mark.parametrize(
    "instrument,answers",
    [
        ("phq9", PHQ9),
        ("phq9", {**PHQ9, "item4": None}),  # an unanswered item stays unanswered
        ("gad7", {f"item{n}": n % 4 for n in range(1, 8)}),
        (
            "sac_client",
            {
                "item1": 6,
                "item2": 5,
                "item3": 4,
                "item4": 5,
                "felt_off": True,
                "do_differently": "Talk less about homework",
            },
        ),
        ("srs", {"item1": 9.5, "item2": 8.1, "item3": 7.0, "item4": 9.9}),
    ],
)
def test_round_trip(instrument, answers):
    bundle = _bundle(answers, instrument)
    Bundle.model_validate(bundle)
    iid, back = fhir_to_response(bundle)
    assert iid == instrument
    assert back == {k: v for k, v in answers.items() if v is not None}
    assert score(iid, back).total == score(instrument, answers).total
    # a bare QuestionnaireResponse imports too
    assert fhir_to_response(bundle["entry"][0]["resource"]) == (iid, back)


def test_sac_mean_total_is_a_quantity():
    answers = {"item1": 6, "item2": 5, "item3": 4, "item4": 4, "felt_off": False}
    obs = [
        r for r in _resources(_bundle(answers, "sac_client")) if r["resourceType"] == "Observation"
    ]
    total = next(o for o in obs if o["code"]["coding"][0]["code"] == "total")
    assert total["valueQuantity"]["value"] == 4.75


def _qr():
    return copy.deepcopy(_bundle()["entry"][0]["resource"])


def test_import_rejects_an_unknown_answer_code_naming_the_field():
    qr = _qr()
    qr["item"][3]["answer"][0]["valueCoding"]["code"] = "LA9999-9"
    with pytest.raises(FhirImportError) as info:
        fhir_to_response(qr)
    assert str(info.value) == (
        "QuestionnaireResponse.item[3].answer[0].valueCoding.code: 'LA9999-9' is not an answer of PHQ-9 item 4"
    )


def test_import_rejects_structurally_invalid_resources():
    qr = _qr()
    qr["item"][1]["answer"][0]["valueCoding"]["code"] = 5  # must be a string
    with pytest.raises(
        FhirImportError,
        match=r"^QuestionnaireResponse\.item\[1\]\.answer\[0\]\.valueCoding\.code: ",
    ):
        fhir_to_response(qr)
    qr = _qr()
    qr["item"][0]["answer"][0]["valueFoo"] = 1
    with pytest.raises(
        FhirImportError,
        match=r"^QuestionnaireResponse\.item\[0\]\.answer\[0\]\.valueFoo: Extra inputs",
    ):
        fhir_to_response(qr)


@pytest.mark.parametrize(
    "mutate,message",
    [
        (
            lambda qr: qr.update(status="in-progress"),
            r"QuestionnaireResponse.status: 'in-progress' is not completed",
        ),
        (
            lambda qr: qr.update(questionnaire="urn:other:q"),
            r"QuestionnaireResponse.questionnaire: 'urn:other:q' is not a known instrument",
        ),
        (lambda qr: qr.pop("questionnaire"), r"QuestionnaireResponse.questionnaire: missing"),
        (
            lambda qr: qr["item"][2].update(linkId="item99"),
            r"QuestionnaireResponse.item\[2\].linkId: 'item99' is not an item of PHQ-9",
        ),
        (
            lambda qr: qr["item"][2].update(linkId="item1"),
            r"QuestionnaireResponse.item\[2\].linkId: PHQ-9 item 1 is answered twice",
        ),
        (
            lambda qr: qr["item"][0].update(answer=[{"valueString": "a lot"}]),
            r"QuestionnaireResponse.item\[0\].answer\[0\]: PHQ-9 item 1 needs a valueCoding",
        ),
        (
            lambda qr: qr["item"][0].update(answer=[{"valueInteger": 7}]),
            r"QuestionnaireResponse.item\[0\].answer\[0\].valueInteger: 7 is not an answer of PHQ-9 item 1",
        ),
    ],
)
def test_import_errors_name_the_field(mutate, message):
    qr = _qr()
    mutate(qr)
    with pytest.raises(FhirImportError, match=message):
        fhir_to_response(qr)


def test_import_accepts_loinc_style_questionnaire_and_link_ids():
    qr = _qr()
    qr["questionnaire"] = "http://loinc.org/q/44249-1"
    for item in qr["item"]:
        if item["linkId"] == "item2":
            item["linkId"] = "/44255-8"
    iid, answers = fhir_to_response(qr)
    assert iid == "phq9" and answers["item2"] == 3


def test_import_ignores_a_forged_total():
    qr = _qr()
    total = next(i for i in qr["item"] if i["linkId"] == "total")
    total["answer"] = [{"valueInteger": 0}]
    _, answers = fhir_to_response(qr)
    assert score("phq9", answers).total == 11


def test_bundle_without_a_response_and_wrong_resource_type():
    bundle = _bundle()
    bundle["entry"] = bundle["entry"][1:]
    with pytest.raises(
        FhirImportError, match="Bundle.entry: expected one QuestionnaireResponse, found 0"
    ):
        fhir_to_response(bundle)
    with pytest.raises(FhirImportError, match="resourceType: 'Patient'"):
        fhir_to_response({"resourceType": "Patient"})


def test_export_rejects_naive_datetimes_and_bad_ids():
    with pytest.raises(ValueError, match="timezone-aware"):
        response_to_fhir("phq9", PHQ9, None, "Patient/p", dt.datetime(2024, 1, 1, 9), "r1")
    with pytest.raises(ValueError, match="response_id"):
        response_to_fhir("phq9", PHQ9, None, "Patient/p", WHEN, "bad id!")
