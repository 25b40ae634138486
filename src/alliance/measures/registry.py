"""Instrument registry: every questionnaire is a JSON data file in ``instruments/``.

The files hold items, answer options with ordinal values, LOINC codes, score range, bands,
cut-offs, reverse-scored items, the safety item and the attribution line. Licences decide what a
file may contain (docs/clinical-reference.md, "Instrument licences"): PHQ-9 and GAD-7 ship their
Pfizer wording; WAI-SR, SRS and SAI ship scoring maps only (``item_texts_licensed: false``) and a
licensed clinic adds the texts locally with :func:`import_item_texts`; the Session Alliance Check
is the project's own item bank and is marked "not a validated instrument".

Django-free on purpose: the web app, the CLI and the tests all read the same definitions.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, cast

LOINC_SYSTEM = "http://loinc.org"
# US Core carries an answer's score in this extension (R4/R4B name; R5 renamed it itemWeight).
ORDINAL_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
# Scoring rules (bands, cut-offs, proration) have no standard FHIR home; we carry them in our own
# extension so that an exported Questionnaire re-imports without loss.
SCORING_EXTENSION_URL = "urn:alliance:extension:instrument-scoring"
INSTRUMENT_IDENTIFIER_SYSTEM = "urn:alliance:instrument"
QUESTIONNAIRE_URL_PREFIX = "urn:alliance:questionnaire:"
STEM_LINK_ID = "stem"

ITEM_TYPES = ("ordinal", "decimal", "boolean", "text")
_ID_RE = re.compile(r"^[a-z0-9_]{1,40}$")
NOT_VALIDATED_PHRASE = "not a validated instrument"
# The language of every shipped original; translations are keyed by BCP-47 code ("es").
BASE_LANGUAGE = "en"
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


class InstrumentDefinitionError(ValueError):
    """An instrument file (or imported definition) is inconsistent; the message names the field."""


class UnknownInstrumentError(LookupError):
    """No instrument file with that id."""


class ItemTextImportError(ValueError):
    """A clinic's item-text file does not match the instrument; the message says what to fix."""


@dataclass(frozen=True)
class AnswerOption:
    value: int
    text: str
    code: str | None = None  # LOINC answer code (LA...) where one exists


@dataclass(frozen=True)
class Band:
    min: float
    max: float
    label: str


@dataclass(frozen=True)
class Subscale:
    id: str
    items: tuple[str, ...]
    method: str = "sum"  # "sum" or "mean"


@dataclass(frozen=True)
class Cutoff:
    value: float
    flag_when: str  # "at_or_above" or "below"
    flag: str  # the flag name a ScoreResult carries when the rule holds
    meaning: str = ""

    def applies(self, total: float) -> bool:
        return total >= self.value if self.flag_when == "at_or_above" else total < self.value


@dataclass(frozen=True)
class Safety:
    item: str
    at_or_above: int
    source: str = ""


@dataclass(frozen=True)
class Scoring:
    method: str  # "sum" or "mean"
    min: float
    max: float
    prorate_max_missing: int = 0
    decimals: int = 0
    min_seconds_per_item: float = 1.0
    proration_source: str = ""


@dataclass(frozen=True)
class Item:
    id: str
    number: int
    type: str = "ordinal"
    text: str | None = None
    loinc: str | None = None
    scored: bool = True
    required: bool = True
    reverse: bool = False
    subscale: str | None = None
    answer_options: tuple[AnswerOption, ...] = ()
    min: float | None = None
    max: float | None = None
    # Name of the shared answer list in the JSON file; bookkeeping only, not part of identity.
    answer_set: str | None = field(default=None, compare=False)

    @property
    def allowed_values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.answer_options)

    def option_for_value(self, value: int) -> AnswerOption | None:
        return next((o for o in self.answer_options if o.value == value), None)

    def option_for_code(self, code: str) -> AnswerOption | None:
        return next((o for o in self.answer_options if (o.code or str(o.value)) == code), None)


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    short_name: str
    version: str
    validated: bool
    item_texts_licensed: bool
    note: str
    attribution: str
    sources: tuple[str, ...]
    stem: str
    loinc_panel: str | None
    loinc_total: str | None
    items: tuple[Item, ...]
    scoring: Scoring
    bands: tuple[Band, ...] = ()
    cutoff: Cutoff | None = None
    safety: Safety | None = None
    subscales: tuple[Subscale, ...] = ()
    rupture_item: str | None = None
    respondent: str = "client"
    bands_source: str = ""
    texts_imported: bool = False
    # What the client sees instead of an acronym ("How today's session went", not "SAC"), and a
    # plain-words line above the questions; empty: the short name and no line.
    client_title: str = ""
    client_intro: str = ""
    # Official translations from the instrument file ({"es": {...}}, see ``localized``) and the
    # language this copy is in. Neither changes what is scored: item ids and values are the same.
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    language: str = field(default=BASE_LANGUAGE, compare=False)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this instrument can be shown in: English and its official translations."""
        return (BASE_LANGUAGE, *sorted(self.translations))

    def match_language(self, language: str | None) -> str | None:
        """The language of ours that serves a BCP-47 code ("es-MX" -> "es"), or None."""
        code = (language or "").strip().lower().replace("_", "-")
        if not code:
            return None
        for candidate in (code, code.split("-", 1)[0]):
            if candidate == BASE_LANGUAGE or candidate in self.translations:
                return candidate
        return None

    def localized(self, language: str | None) -> Instrument:
        """This instrument in ``language`` where it has an official translation; otherwise the
        English original (``.language`` says which one it is). Item ids, values and scoring rules
        are untouched, so a response scores the same whatever language it was answered in."""
        code = self.match_language(language) or BASE_LANGUAGE
        if code == BASE_LANGUAGE or self.language != BASE_LANGUAGE:
            return self
        tr = self.translations[code]
        sets = tr.get("answer_sets") or {}
        items = []
        for it in self.items:
            options = it.answer_options
            if it.answer_set and it.answer_set in sets:
                options = tuple(
                    dataclasses.replace(o, text=sets[it.answer_set][str(o.value)]) for o in options
                )
            text = (tr.get("items") or {}).get(it.id, it.text)
            items.append(dataclasses.replace(it, text=text, answer_options=options))
        return dataclasses.replace(
            self,
            stem=tr.get("stem", self.stem),
            note=tr.get("note", self.note),
            attribution=tr.get("attribution", self.attribution),
            client_title=tr.get("client_title", self.client_title),
            client_intro=tr.get("client_intro", self.client_intro),
            items=tuple(items),
            language=code,
        )

    @property
    def plain_title(self) -> str:
        return self.client_title or self.short_name

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    @property
    def has_reverse_items(self) -> bool:
        return any(i.reverse for i in self.scored_items)

    @property
    def has_item_texts(self) -> bool:
        return all(i.text for i in self.scored_items)

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def band_for(self, total: float | None) -> str | None:
        """The band label for a total; bands are contiguous so the last band starting at or
        below the total is the right one (also for prorated or averaged non-integer totals)."""
        if total is None or not self.bands:
            return None
        label = None
        for band in self.bands:
            if band.min <= total:
                label = band.label
        return label

    def to_dict(self) -> dict[str, Any]:
        """The instrument in the JSON file format (answer lists inlined per item)."""
        items = []
        for it in self.items:
            d: dict[str, Any] = {"id": it.id, "number": it.number, "type": it.type}
            if it.text is not None:
                d["text"] = it.text
            if it.loinc:
                d["loinc"] = it.loinc
            d.update(scored=it.scored, required=it.required, reverse=it.reverse)
            if it.subscale:
                d["subscale"] = it.subscale
            if it.answer_options:
                d["answers"] = [_option_dict(o) for o in it.answer_options]
                if it.answer_set:  # the translations name their answer options by set
                    d["answer_set"] = it.answer_set
            if it.type == "decimal":
                d["min"], d["max"] = it.min, it.max
            items.append(d)
        return {
            "id": self.id,
            "name": self.name,
            "short_name": self.short_name,
            "version": self.version,
            "validated": self.validated,
            "item_texts_licensed": self.item_texts_licensed,
            "texts_imported": self.texts_imported,
            "note": self.note,
            "attribution": self.attribution,
            "client_title": self.client_title,
            "client_intro": self.client_intro,
            "sources": list(self.sources),
            "respondent": self.respondent,
            "stem": self.stem,
            "loinc": {"panel": self.loinc_panel, "total": self.loinc_total},
            "answer_sets": {},
            "items": items,
            "scoring": dataclasses.asdict(self.scoring),
            "bands": [dataclasses.asdict(b) for b in self.bands],
            "bands_source": self.bands_source,
            "cutoff": dataclasses.asdict(self.cutoff) if self.cutoff else None,
            "safety": dataclasses.asdict(self.safety) if self.safety else None,
            "rupture_item": self.rupture_item,
            "subscales": [
                {"id": s.id, "items": list(s.items), "method": s.method} for s in self.subscales
            ],
            "translations": self.translations,
        }


def _option_dict(o: AnswerOption) -> dict[str, Any]:
    d: dict[str, Any] = {"value": o.value, "text": o.text}
    if o.code:
        d["code"] = o.code
    return d


# --------------------------------------------------------------------------- loading + validation


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise InstrumentDefinitionError(f"{where}: missing field '{key}'")
    return data[key]


def instrument_from_dict(data: dict[str, Any]) -> Instrument:
    """Build and validate an Instrument from the JSON file format.

    Every inconsistency raises InstrumentDefinitionError naming the field, so a broken data file
    fails the test that loads all of them rather than mis-scoring a client.
    """
    if not isinstance(data, dict):
        raise InstrumentDefinitionError("instrument definition must be a JSON object")
    iid = _require(data, "id", "instrument")
    if not isinstance(iid, str) or not _ID_RE.match(iid):
        raise InstrumentDefinitionError(
            f"instrument.id: {iid!r} must be lower-case letters, digits or _"
        )
    where = iid
    answer_sets = data.get("answer_sets") or {}
    items: list[Item] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(_require(data, "items", where)):
        iw = f"{where}.items[{index}]"
        item_id = _require(raw, "id", iw)
        if item_id in seen_ids:
            raise InstrumentDefinitionError(f"{iw}.id: duplicate item id {item_id!r}")
        seen_ids.add(item_id)
        if item_id == STEM_LINK_ID:
            raise InstrumentDefinitionError(f"{iw}.id: {STEM_LINK_ID!r} is reserved")
        itype = raw.get("type", "ordinal")
        if itype not in ITEM_TYPES:
            raise InstrumentDefinitionError(f"{iw}.type: {itype!r} is not one of {ITEM_TYPES}")
        options: tuple[AnswerOption, ...] = ()
        set_name = raw.get("answer_set")
        if itype == "ordinal":
            if "answers" in raw:
                raw_opts = raw["answers"]
            elif set_name in answer_sets:
                raw_opts = answer_sets[set_name]
            else:
                raise InstrumentDefinitionError(
                    f"{iw}.answer_set: {set_name!r} is not defined in answer_sets"
                )
            options = tuple(
                AnswerOption(int(o["value"]), str(o["text"]), o.get("code")) for o in raw_opts
            )
            values = [o.value for o in options]
            if not options or len(set(values)) != len(values):
                raise InstrumentDefinitionError(f"{iw}: answer values must be present and unique")
        lo, hi = raw.get("min"), raw.get("max")
        if itype == "ordinal":
            lo, hi = min(o.value for o in options), max(o.value for o in options)
        elif itype == "decimal" and (lo is None or hi is None or lo >= hi):
            raise InstrumentDefinitionError(f"{iw}: a decimal item needs min < max")
        is_scored = bool(raw.get("scored", True))
        if is_scored and itype not in ("ordinal", "decimal"):
            raise InstrumentDefinitionError(
                f"{iw}.scored: only ordinal or decimal items can be scored"
            )
        items.append(
            Item(
                id=item_id,
                number=int(_require(raw, "number", iw)),
                type=itype,
                text=raw.get("text") or None,
                loinc=raw.get("loinc") or None,
                scored=is_scored,
                required=bool(raw.get("required", True)),
                reverse=bool(raw.get("reverse", False)),
                subscale=raw.get("subscale"),
                answer_options=options,
                min=lo,
                max=hi,
                answer_set=set_name,
            )
        )
    scored = [i for i in items if i.scored]
    if not scored:
        raise InstrumentDefinitionError(
            f"{where}.items: an instrument needs at least one scored item"
        )

    sc = _require(data, "scoring", where)
    scoring = Scoring(
        method=_require(sc, "method", f"{where}.scoring"),
        min=_require(sc, "min", f"{where}.scoring"),
        max=_require(sc, "max", f"{where}.scoring"),
        prorate_max_missing=int(sc.get("prorate_max_missing", 0)),
        decimals=int(sc.get("decimals", 0)),
        min_seconds_per_item=float(sc.get("min_seconds_per_item", 1.0)),
        proration_source=sc.get("proration_source", ""),
    )
    # The declared range must be the range the items can actually produce, or bands and
    # rupture thresholds computed from it would be wrong.
    # Scored items are ordinal or decimal (checked above), so each has its min and max.
    mins = [cast(float, i.min) for i in scored]
    maxs = [cast(float, i.max) for i in scored]
    if scoring.method == "sum":
        lo = sum(mins)
        hi = sum(maxs)
    elif scoring.method == "mean":
        lo, hi = min(mins), max(maxs)
    else:
        raise InstrumentDefinitionError(
            f"{where}.scoring.method: {scoring.method!r} is not sum or mean"
        )
    if (lo, hi) != (scoring.min, scoring.max):
        raise InstrumentDefinitionError(
            f"{where}.scoring: range {scoring.min}-{scoring.max} does not match the items ({lo}-{hi})"
        )

    bands = tuple(Band(b["min"], b["max"], b["label"]) for b in data.get("bands") or [])
    if bands:
        if bands[0].min != scoring.min or bands[-1].max != scoring.max:
            raise InstrumentDefinitionError(
                f"{where}.bands: must cover {scoring.min}-{scoring.max}"
            )
        for a, b in zip(bands, bands[1:], strict=False):
            if b.min != a.max + 1 and b.min != a.max:
                raise InstrumentDefinitionError(
                    f"{where}.bands: gap or overlap between {a.label!r} and {b.label!r}"
                )

    cutoff = None
    if data.get("cutoff"):
        c = data["cutoff"]
        cutoff = Cutoff(c["value"], c["flag_when"], c.get("flag") or "", c.get("meaning", ""))
        if cutoff.flag_when not in ("at_or_above", "below"):
            raise InstrumentDefinitionError(f"{where}.cutoff.flag_when: {cutoff.flag_when!r}")
        if not scoring.min <= cutoff.value <= scoring.max:
            raise InstrumentDefinitionError(f"{where}.cutoff.value: outside the score range")
        if not cutoff.flag:
            cutoff = dataclasses.replace(
                cutoff, flag="above_cutoff" if cutoff.flag_when == "at_or_above" else "below_cutoff"
            )

    safety = None
    if data.get("safety"):
        s = data["safety"]
        safety = Safety(s["item"], int(s["at_or_above"]), s.get("source", ""))
        if safety.item not in seen_ids:
            raise InstrumentDefinitionError(f"{where}.safety.item: {safety.item!r} is not an item")

    subscales = []
    for index, s in enumerate(data.get("subscales") or []):
        missing = [x for x in s["items"] if x not in {i.id for i in scored}]
        if missing:
            raise InstrumentDefinitionError(
                f"{where}.subscales[{index}].items: {missing} are not scored items"
            )
        subscales.append(Subscale(s["id"], tuple(s["items"]), s.get("method", "sum")))

    rupture_item = data.get("rupture_item")
    if rupture_item and rupture_item not in seen_ids:
        raise InstrumentDefinitionError(f"{where}.rupture_item: {rupture_item!r} is not an item")

    validated = bool(_require(data, "validated", where))
    note = data.get("note", "") or ""
    # Reference: the project's own check must be labelled everywhere as not validated.
    if not validated and NOT_VALIDATED_PHRASE not in note.lower():
        raise InstrumentDefinitionError(
            f"{where}.note: an unvalidated instrument must say '{NOT_VALIDATED_PHRASE}'"
        )
    licensed = bool(_require(data, "item_texts_licensed", where))
    texts_imported = bool(data.get("texts_imported", False))
    if not licensed and not texts_imported and any(i.text for i in items):
        raise InstrumentDefinitionError(
            f"{where}.items: item texts are not licensed for distribution and must not be shipped"
        )
    translations = _translations(data.get("translations") or {}, items, validated, where)
    loinc = data.get("loinc") or {}
    return Instrument(
        id=iid,
        name=_require(data, "name", where),
        short_name=data.get("short_name") or iid,
        version=str(data.get("version", "1")),
        validated=validated,
        item_texts_licensed=licensed,
        note=note,
        attribution=data.get("attribution", ""),
        client_title=str(data.get("client_title") or ""),
        client_intro=str(data.get("client_intro") or ""),
        sources=tuple(data.get("sources") or ()),
        stem=data.get("stem", "") or "",
        loinc_panel=loinc.get("panel"),
        loinc_total=loinc.get("total"),
        items=tuple(items),
        scoring=scoring,
        bands=bands,
        cutoff=cutoff,
        safety=safety,
        subscales=tuple(subscales),
        rupture_item=rupture_item,
        respondent=data.get("respondent", "client"),
        bands_source=data.get("bands_source", ""),
        texts_imported=texts_imported,
        translations=translations,
    )


def _translations(
    raw: Any, items: list[Item], validated: bool, where: str
) -> dict[str, dict[str, Any]]:
    """Check an instrument's official translations: complete, or refused.

    A translation must give every text the English form shows (stem, every item text, every answer
    option) so a client never sees a form half in one language; it names its source. Answer
    options are translated per answer set, keyed by value, so scoring cannot change.
    """
    if not isinstance(raw, dict):
        raise InstrumentDefinitionError(f"{where}.translations: must be an object")
    out: dict[str, dict[str, Any]] = {}
    for code, tr in raw.items():
        tw = f"{where}.translations.{code}"
        if not isinstance(code, str) or not _LANGUAGE_RE.match(code) or code == BASE_LANGUAGE:
            raise InstrumentDefinitionError(f"{tw}: {code!r} is not a BCP-47 code other than en")
        if not isinstance(tr, dict):
            raise InstrumentDefinitionError(f"{tw}: must be an object")
        if not str(tr.get("source") or "").strip():
            raise InstrumentDefinitionError(f"{tw}.source: say where the translation comes from")
        if not validated and not str(tr.get("note") or "").strip():
            raise InstrumentDefinitionError(
                f"{tw}.note: an unvalidated instrument must say so in every language"
            )
        texts = tr.get("items") or {}
        ids = {i.id for i in items}
        unknown = sorted(set(texts) - ids)
        if unknown:
            raise InstrumentDefinitionError(f"{tw}.items: {unknown} are not items")
        missing = [i.id for i in items if i.text and not texts.get(i.id)]
        if missing:
            raise InstrumentDefinitionError(f"{tw}.items: no text for {missing}")
        sets = tr.get("answer_sets") or {}
        for item in items:
            if not item.answer_options:
                continue
            if not item.answer_set:
                raise InstrumentDefinitionError(
                    f"{tw}: item {item.id!r} has inline answers; translate an answer_set instead"
                )
            given = sets.get(item.answer_set) or {}
            wanted = {str(o.value) for o in item.answer_options}
            if set(given) != wanted or not all(str(v).strip() for v in given.values()):
                raise InstrumentDefinitionError(
                    f"{tw}.answer_sets.{item.answer_set}: needs a text for each of the values "
                    f"{sorted(wanted)}"
                )
        out[code] = tr
    return out


def instrument_ids() -> list[str]:
    """Ids of the shipped instrument files, sorted."""
    folder = resources.files("alliance.measures.instruments")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


@cache
def load(instrument_id: str) -> Instrument:
    """Load one shipped instrument by id (e.g. ``"phq9"``); UnknownInstrumentError if none."""
    if not isinstance(instrument_id, str) or not _ID_RE.match(instrument_id):
        raise UnknownInstrumentError(f"unknown instrument {instrument_id!r}")
    path = resources.files("alliance.measures.instruments") / f"{instrument_id}.json"
    if not path.is_file():
        raise UnknownInstrumentError(
            f"unknown instrument {instrument_id!r}; known: {', '.join(instrument_ids())}"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    instrument = instrument_from_dict(data)
    if instrument.id != instrument_id:
        raise InstrumentDefinitionError(f"{instrument_id}.json: id is {instrument.id!r}")
    return instrument


def all_instruments() -> list[Instrument]:
    return [load(i) for i in instrument_ids()]


def resolve(instrument: Instrument | str) -> Instrument:
    return instrument if isinstance(instrument, Instrument) else load(instrument)


# --------------------------------------------------------------------------- licensed item texts


def import_item_texts(instrument_id: str | Instrument, csv_or_json_text: str) -> Instrument:
    """Return the instrument with item texts a licensed clinic supplies locally.

    Accepts JSON (``{"item1": "...", ...}``, ``[{"id": ..., "text": ...}]`` or
    ``{"stem": "...", "items": [...]}``) or CSV with columns ``item_id,text`` (``id`` also works).
    Every scored item needs exactly one non-empty text; unknown ids are rejected. Nothing is
    written to disk: the caller stores the texts (they are the clinic's licensed copy, not ours).
    """
    instrument = resolve(instrument_id)
    text = csv_or_json_text.strip().lstrip("\ufeff")
    if not text:
        raise ItemTextImportError("the file is empty")
    stem: str | None = None
    pairs: list[tuple[str, str]] = []
    if text[0] in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ItemTextImportError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
        if isinstance(data, dict) and "items" in data:
            stem = data.get("stem")
            data = data["items"]
        if isinstance(data, dict):
            pairs = [(str(k), v) for k, v in data.items()]
        elif isinstance(data, list):
            for n, entry in enumerate(data, start=1):
                if not isinstance(entry, dict) or "id" not in entry or "text" not in entry:
                    raise ItemTextImportError(f"entry {n}: needs 'id' and 'text'")
                pairs.append((str(entry["id"]), entry["text"]))
        else:
            raise ItemTextImportError("JSON must be an object or a list of {id, text}")
    else:
        reader = csv.DictReader(io.StringIO(text))
        fields = [f.strip() for f in reader.fieldnames or []]
        id_col = "item_id" if "item_id" in fields else "id" if "id" in fields else None
        if id_col is None or "text" not in fields:
            raise ItemTextImportError("CSV needs the columns item_id,text")
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): v for k, v in row.items()}
            pairs.append((str(row.get(id_col) or "").strip(), row.get("text") or ""))
            if not pairs[-1][0]:
                raise ItemTextImportError(f"line {line}: empty item id")

    known = {i.id for i in instrument.items}
    texts: dict[str, str] = {}
    for item_id, value in pairs:
        if item_id not in known:
            expected = ", ".join(i.id for i in instrument.scored_items)
            raise ItemTextImportError(
                f"{item_id!r} is not an item of {instrument.short_name} (expected {expected})"
            )
        if item_id in texts:
            raise ItemTextImportError(f"{item_id!r} appears twice")
        if not isinstance(value, str) or not value.strip():
            raise ItemTextImportError(f"{item_id!r}: the text is empty")
        texts[item_id] = value.strip()
    missing = [i.id for i in instrument.scored_items if i.id not in texts]
    if missing:
        raise ItemTextImportError(
            f"{instrument.short_name} has {len(instrument.scored_items)} items; "
            f"got {len(texts)}, missing {', '.join(missing)}"
        )
    items = tuple(dataclasses.replace(i, text=texts.get(i.id, i.text)) for i in instrument.items)
    return dataclasses.replace(
        instrument, items=items, stem=stem.strip() if stem else instrument.stem, texts_imported=True
    )


# --------------------------------------------------------------------------- FHIR Questionnaire


def _answer_system(instrument: Instrument, item: Item) -> str:
    return f"urn:alliance:answers:{instrument.id}:{item.answer_set or item.id}"


def _fhir_id(instrument_id: str) -> str:
    # FHIR ids allow [A-Za-z0-9-.]; our ids use "_".
    return instrument_id.replace("_", "-")


def questionnaire_url(instrument: Instrument) -> str:
    return QUESTIONNAIRE_URL_PREFIX + instrument.id


def answer_coding(instrument: Instrument, item: Item, option: AnswerOption) -> dict[str, Any]:
    """The Coding for one answer: the LOINC answer code where one exists, else our own system."""
    coding: dict[str, Any] = {
        "system": LOINC_SYSTEM if option.code else _answer_system(instrument, item),
        "code": option.code or str(option.value),
        "display": option.text,
    }
    return coding


def to_fhir_questionnaire(instrument: Instrument | str) -> dict[str, Any]:
    """FHIR R4B Questionnaire for an instrument, LOINC-coded as in the US Core PHQ-9 example.

    Answer options carry their score in the ``ordinalValue`` extension on the valueCoding (US
    Core). Our scoring rules travel in SCORING_EXTENSION_URL so the export re-imports losslessly.
    """
    instrument = resolve(instrument)
    scoring_blob = instrument.to_dict()
    for key in (
        "items",
        "answer_sets",
        "stem",
        "id",
        "name",
        "version",
        "attribution",
        "translations",
    ):
        scoring_blob.pop(key, None)
    q: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": _fhir_id(instrument.id),
        "extension": [
            {
                "url": SCORING_EXTENSION_URL,
                "valueString": json.dumps(scoring_blob, ensure_ascii=False),
            }
        ],
        "url": questionnaire_url(instrument),
        "identifier": [{"system": INSTRUMENT_IDENTIFIER_SYSTEM, "value": instrument.id}],
        "version": instrument.version,
        "name": re.sub(r"[^A-Za-z0-9]", "", instrument.short_name) or instrument.id,
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
    }
    if instrument.note:
        q["description"] = instrument.note
    if instrument.attribution:
        q["copyright"] = instrument.attribution
    if instrument.loinc_panel:
        q["code"] = [
            {"system": LOINC_SYSTEM, "code": instrument.loinc_panel, "display": instrument.name}
        ]
    fhir_items: list[dict[str, Any]] = []
    if instrument.stem:
        fhir_items.append({"linkId": STEM_LINK_ID, "type": "display", "text": instrument.stem})
    for item in instrument.items:
        fi: dict[str, Any] = {"linkId": item.id, "prefix": str(item.number)}
        if item.loinc:
            fi["code"] = [{"system": LOINC_SYSTEM, "code": item.loinc}]
        if item.text:
            fi["text"] = item.text
        fi["required"] = item.required
        if item.type == "ordinal":
            fi["type"] = "choice"
            fi["answerOption"] = []
            for option in item.answer_options:
                coding = answer_coding(instrument, item, option)
                coding["extension"] = [{"url": ORDINAL_VALUE_URL, "valueDecimal": option.value}]
                fi["answerOption"].append({"valueCoding": coding})
        elif item.type == "decimal":
            fi["type"] = "decimal"
            fi["extension"] = [
                {"url": MIN_VALUE_URL, "valueDecimal": item.min},
                {"url": MAX_VALUE_URL, "valueDecimal": item.max},
            ]
        else:
            fi["type"] = item.type  # boolean, text
        if not item.scored:
            # Unscored items (e.g. the PHQ-9 difficulty question) are flagged so a re-import keeps them out of totals.
            fi.setdefault("extension", []).append(
                {"url": SCORING_EXTENSION_URL, "valueString": "unscored"}
            )
        if item.reverse:
            fi.setdefault("extension", []).append(
                {"url": SCORING_EXTENSION_URL, "valueString": "reverse"}
            )
        if item.subscale:
            fi.setdefault("extension", []).append(
                {"url": SCORING_EXTENSION_URL, "valueString": f"subscale:{item.subscale}"}
            )
        fhir_items.append(fi)
    q["item"] = fhir_items
    return q


def _ext_values(element: dict[str, Any], url: str) -> list[Any]:
    out = []
    for ext in element.get("extension") or []:
        if ext.get("url") == url:
            out.append(next((v for k, v in ext.items() if k.startswith("value")), None))
    return out


def from_fhir_questionnaire(questionnaire: dict[str, Any]) -> Instrument:
    """Instrument from a FHIR R4B Questionnaire (ours or another system's).

    Items, codes, texts and ordinal values come from the Questionnaire. Scoring rules come from
    our extension when present, else from the shipped instrument with the same identifier or LOINC
    panel, else a plain sum over the choice items with no bands (the caller must add any).
    """
    # fhir.resources (pydantic models) is heavy: the registry loads it only to import a FHIR file.
    from fhir.resources.R4B.questionnaire import Questionnaire  # noqa: PLC0415

    try:
        Questionnaire.model_validate(questionnaire)
    except Exception as exc:  # pydantic.ValidationError; message names the field
        raise InstrumentDefinitionError(
            f"Questionnaire is not valid FHIR R4B: {_first_error(exc)}"
        ) from None

    iid = None
    for ident in questionnaire.get("identifier") or []:
        if ident.get("system") == INSTRUMENT_IDENTIFIER_SYSTEM:
            iid = ident.get("value")
    panel = next(
        (c.get("code") for c in questionnaire.get("code") or [] if c.get("system") == LOINC_SYSTEM),
        None,
    )
    base: Instrument | None = None
    if iid and iid in instrument_ids():
        base = load(iid)
    elif panel:
        base = next((i for i in all_instruments() if i.loinc_panel == panel), None)
    if iid is None:
        iid = (
            base.id
            if base
            else re.sub(r"[^a-z0-9_]", "_", (questionnaire.get("id") or "imported").lower())
        )

    blob_values = _ext_values(questionnaire, SCORING_EXTENSION_URL)
    blob: dict[str, Any] = json.loads(blob_values[0]) if blob_values else {}
    if not blob and base is not None:
        blob = base.to_dict()

    stem = ""
    items: list[dict[str, Any]] = []
    number = 0
    for index, fi in enumerate(questionnaire.get("item") or []):
        if fi.get("type") == "display":
            if fi.get("linkId") == STEM_LINK_ID:
                stem = fi.get("text", "")
            continue
        number += 1
        flags = _ext_values(fi, SCORING_EXTENSION_URL)
        entry: dict[str, Any] = {
            "id": fi["linkId"],
            "number": int(fi.get("prefix") or number),
            "required": bool(fi.get("required", False)),
            "scored": "unscored" not in flags,
            "reverse": "reverse" in flags,
        }
        sub = next(
            (f.split(":", 1)[1] for f in flags if isinstance(f, str) and f.startswith("subscale:")),
            None,
        )
        if sub:
            entry["subscale"] = sub
        if fi.get("text"):
            entry["text"] = fi["text"]
        loinc = next(
            (c["code"] for c in fi.get("code") or [] if c.get("system") == LOINC_SYSTEM), None
        )
        if loinc:
            entry["loinc"] = loinc
        ftype = fi.get("type")
        if ftype == "choice":
            answers = []
            for oi, opt in enumerate(fi.get("answerOption") or []):
                coding = opt.get("valueCoding") or {}
                ordinals = _ext_values(coding, ORDINAL_VALUE_URL) or _ext_values(
                    opt, ORDINAL_VALUE_URL
                )
                if not ordinals:
                    raise InstrumentDefinitionError(
                        f"Questionnaire.item[{index}].answerOption[{oi}]: no ordinalValue extension, so the answer cannot be scored"
                    )
                value = ordinals[0]
                if value != int(value):
                    raise InstrumentDefinitionError(
                        f"Questionnaire.item[{index}].answerOption[{oi}]: ordinal value {value} is not a whole number"
                    )
                a: dict[str, Any] = {
                    "value": int(value),
                    "text": coding.get("display") or str(int(value)),
                }
                if coding.get("system") == LOINC_SYSTEM:
                    a["code"] = coding.get("code")
                answers.append(a)
            entry.update(type="ordinal", answers=answers)
        elif ftype == "decimal":
            entry.update(
                type="decimal",
                min=(_ext_values(fi, MIN_VALUE_URL) or [None])[0],
                max=(_ext_values(fi, MAX_VALUE_URL) or [None])[0],
            )
        elif ftype in ("boolean", "text", "string"):
            entry.update(type="boolean" if ftype == "boolean" else "text", scored=False)
        else:
            raise InstrumentDefinitionError(
                f"Questionnaire.item[{index}].type: {ftype!r} is not supported"
            )
        items.append(entry)

    data: dict[str, Any] = {
        "id": iid,
        "name": questionnaire.get("title") or questionnaire.get("name") or iid,
        "short_name": blob.get("short_name") or questionnaire.get("name") or iid,
        "version": questionnaire.get("version") or "1",
        "validated": blob.get("validated", True),
        "item_texts_licensed": blob.get("item_texts_licensed", True),
        "texts_imported": blob.get("texts_imported", False),
        "note": blob.get("note") or questionnaire.get("description") or "",
        "attribution": questionnaire.get("copyright") or "",
        "sources": blob.get("sources") or [],
        "respondent": blob.get("respondent", "client"),
        "stem": stem,
        "loinc": {"panel": panel, "total": (blob.get("loinc") or {}).get("total")},
        "items": items,
        "bands": blob.get("bands") or [],
        "bands_source": blob.get("bands_source", ""),
        "client_title": blob.get("client_title", ""),
        "client_intro": blob.get("client_intro", ""),
        "cutoff": blob.get("cutoff"),
        "safety": blob.get("safety"),
        "rupture_item": blob.get("rupture_item"),
        "subscales": blob.get("subscales") or [],
    }
    if blob.get("scoring"):
        data["scoring"] = blob["scoring"]
    else:
        scored = [i for i in items if i.get("scored") and i["type"] == "ordinal"]
        data["scoring"] = {
            "method": "sum",
            "min": sum(min(a["value"] for a in i["answers"]) for i in scored),
            "max": sum(max(a["value"] for a in i["answers"]) for i in scored),
        }
    return instrument_from_dict(data)


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{fhir_path(first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0]


def fhir_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """('item', 3, 'answer', 0) -> 'item[3].answer[0]' (pydantic error location as FHIRPath)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
