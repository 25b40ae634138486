import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from alliance.measures import registry
from alliance.measures.registry import (
    InstrumentDefinitionError,
    ItemTextImportError,
    UnknownInstrumentError,
)

EXPECTED = {"gad7", "phq9", "sac_client", "sac_therapist", "sai", "srs", "wai_sr"}


def test_every_instrument_file_loads_and_validates():
    instruments = registry.all_instruments()
    assert {i.id for i in instruments} == EXPECTED
    for inst in instruments:
        assert inst.attribution, inst.id


def test_phq9_definition_matches_the_clinical_reference():
    phq9 = registry.load("phq9")
    assert (
        phq9.stem
        == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert [i.loinc for i in phq9.scored_items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert (phq9.loinc_panel, phq9.loinc_total) == ("44249-1", "44261-6")
    assert [(o.value, o.code) for o in phq9.item("item1").answer_options] == [
        (0, "LA6568-5"),
        (1, "LA6569-3"),
        (2, "LA6570-1"),
        (3, "LA6571-9"),
    ]
    difficulty = phq9.item("difficulty")
    assert difficulty.loinc == "69722-7" and not difficulty.scored
    assert [o.code for o in difficulty.answer_options] == [
        "LA6572-7",
        "LA6573-5",
        "LA6575-0",
        "LA6574-3",
    ]
    assert (
        phq9.item("item9").text
        == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert (phq9.scoring.min, phq9.scoring.max) == (0, 27)
    assert [(b.min, b.max, b.label) for b in phq9.bands] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ]
    assert phq9.cutoff.value == 10 and phq9.safety.item == "item9"
    assert phq9.attribution.startswith("Developed by Drs. Robert L. Spitzer")
    assert phq9.attribution.endswith(
        "No permission required to reproduce, translate, display or distribute."
    )


def test_gad7_codes_and_bands():
    gad7 = registry.load("gad7")
    assert [i.loinc for i in gad7.scored_items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    assert (gad7.loinc_panel, gad7.loinc_total) == ("69737-5", "70274-6")
    assert [(b.min, b.max) for b in gad7.bands] == [(0, 4), (5, 9), (10, 14), (15, 21)]


@pytest.mark.parametrize("iid", ["sac_client", "sac_therapist"])
def test_session_alliance_check_is_labelled_not_validated(iid):
    sac = registry.load(iid)
    assert sac.validated is False
    assert "not a validated instrument" in sac.note.lower()
    assert [i.subscale for i in sac.scored_items] == ["bond", "goals", "tasks", "overall"]
    assert sac.item("felt_off").type == "boolean"
    assert (
        sac.item("felt_off").text
        == "Did anything in today's session feel off, a misunderstanding or a disagreement?"
    )
    assert sac.item("do_differently").required is False
    assert (sac.scoring.min, sac.scoring.max) == (0, 6)
    assert sac.rupture_item == "felt_off"


@pytest.mark.parametrize("iid", ["wai_sr", "srs", "sai"])
def test_licensed_instruments_ship_no_item_texts(iid):
    inst = registry.load(iid)
    assert inst.item_texts_licensed is False
    assert all(i.text is None for i in inst.items)
    assert not inst.has_item_texts


def test_wai_sr_and_srs_scoring_maps():
    wai = registry.load("wai_sr")
    subs = {s.id: s.items for s in wai.subscales}
    assert subs == {
        "goal": ("item4", "item6", "item8", "item11"),
        "task": ("item1", "item2", "item10", "item12"),
        "bond": ("item3", "item5", "item7", "item9"),
    }
    assert (wai.scoring.min, wai.scoring.max) == (12, 60)
    srs = registry.load("srs")
    assert (srs.scoring.min, srs.scoring.max) == (0, 40)
    assert srs.cutoff.value == 36 and srs.cutoff.flag_when == "below"


def test_unknown_instrument_and_path_tricks_are_rejected():
    with pytest.raises(UnknownInstrumentError):
        registry.load("phq10")
    with pytest.raises(UnknownInstrumentError):
        registry.load("../settings")


def _phq9_dict():
    return registry.load("phq9").to_dict()


def test_definition_errors_name_the_field():
    data = _phq9_dict()
    data["scoring"]["max"] = 30
    with pytest.raises(
        InstrumentDefinitionError,
        match=r"phq9.scoring: range 0-30 does not match the items \(0-27\)",
    ):
        registry.instrument_from_dict(data)
    data = _phq9_dict()
    data["bands"][1]["min"] = 7
    with pytest.raises(InstrumentDefinitionError, match="gap or overlap"):
        registry.instrument_from_dict(data)
    data = _phq9_dict()
    data["validated"] = False
    with pytest.raises(InstrumentDefinitionError, match="not a validated instrument"):
        registry.instrument_from_dict(data)
    data = registry.load("wai_sr").to_dict()
    data["items"][0]["text"] = "some copyrighted text"
    with pytest.raises(InstrumentDefinitionError, match="not licensed"):
        registry.instrument_from_dict(data)


def test_import_item_texts_from_csv_and_json():
    csv_text = "item_id,text\n" + "".join(f"item{n},Licensed text {n}\n" for n in range(1, 13))
    wai = registry.import_item_texts("wai_sr", csv_text)
    assert wai.item("item7").text == "Licensed text 7"
    assert wai.texts_imported and wai.has_item_texts
    # the shipped definition is untouched
    assert registry.load("wai_sr").item("item7").text is None
    srs = registry.import_item_texts(
        "srs", json.dumps({f"item{n}": f"Scale {n}" for n in range(1, 5)})
    )
    assert [i.text for i in srs.items] == ["Scale 1", "Scale 2", "Scale 3", "Scale 4"]
    # an instrument with imported texts still validates as a definition
    assert registry.instrument_from_dict(wai.to_dict()) == wai


def test_import_item_texts_errors():
    with pytest.raises(ItemTextImportError, match=r"WAI-SR has 12 items; got 11, missing item12"):
        registry.import_item_texts(
            "wai_sr", "item_id,text\n" + "".join(f"item{n},t\n" for n in range(1, 12))
        )
    with pytest.raises(ItemTextImportError, match=r"'item13' is not an item of WAI-SR"):
        registry.import_item_texts("wai_sr", "id,text\nitem13,x\n")
    with pytest.raises(ItemTextImportError, match="appears twice"):
        registry.import_item_texts(
            "srs", '[{"id": "item1", "text": "a"}, {"id": "item1", "text": "b"}]'
        )
    with pytest.raises(ItemTextImportError, match="columns item_id,text"):
        registry.import_item_texts("srs", "number,wording\n1,x\n")
    with pytest.raises(ItemTextImportError, match="'item2': the text is empty"):
        registry.import_item_texts(
            "srs", '{"item1": "a", "item2": " ", "item3": "c", "item4": "d"}'
        )
    with pytest.raises(ItemTextImportError, match="not valid JSON"):
        registry.import_item_texts("srs", '{"item1": ')


@pytest.mark.parametrize("iid", sorted(EXPECTED))
def test_fhir_questionnaire_validates_and_round_trips(iid):
    inst = registry.load(iid)
    q = registry.to_fhir_questionnaire(inst)
    Questionnaire.model_validate(q)  # raises if not valid R4B
    assert registry.from_fhir_questionnaire(q) == inst


def test_phq9_questionnaire_is_loinc_coded_with_ordinal_values():
    q = registry.to_fhir_questionnaire("phq9")
    assert q["code"][0] == {
        "system": "http://loinc.org",
        "code": "44249-1",
        "display": "Patient Health Questionnaire-9",
    }
    item4 = next(i for i in q["item"] if i["linkId"] == "item4")
    assert item4["code"] == [{"system": "http://loinc.org", "code": "44254-1"}]
    assert item4["type"] == "choice"
    last = item4["answerOption"][3]["valueCoding"]
    assert (last["system"], last["code"], last["display"]) == (
        "http://loinc.org",
        "LA6571-9",
        "Nearly every day",
    )
    assert last["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 3}
    ]


def test_foreign_questionnaire_without_our_extension_uses_registry_rules():
    q = registry.to_fhir_questionnaire("phq9")
    del q["extension"]
    q["identifier"] = []
    inst = registry.from_fhir_questionnaire(q)  # recognised by its LOINC panel
    assert inst.id == "phq9" and inst.cutoff.value == 10 and len(inst.bands) == 5


def test_questionnaire_answer_without_ordinal_value_is_rejected():
    q = registry.to_fhir_questionnaire("gad7")
    del q["item"][2]["answerOption"][1]["valueCoding"]["extension"]
    with pytest.raises(
        InstrumentDefinitionError,
        match=r"Questionnaire.item\[2\].answerOption\[1\]: no ordinalValue",
    ):
        registry.from_fhir_questionnaire(q)
