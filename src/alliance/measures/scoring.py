"""Scoring of one administration: totals, subscales, bands, cut-offs, safety item, careless flags.

Every rule names its source next to the code (docs/clinical-reference.md). Rules that are design
choices say so and read their parameters from the instrument file, so they can be changed there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from alliance.measures.registry import Instrument, Item, resolve

Answer = int | float | str | bool | None

# Flag names are part of the CLI/JSON contract: add new ones, never rename.
FLAG_PRORATED = "prorated"
FLAG_INCOMPLETE = "incomplete"
FLAG_ITEM9_POSITIVE = "item9_positive"
FLAG_ITEM9_MISSING = "item9_missing"
FLAG_IDENTICAL = "identical_answers"
FLAG_TOO_FAST = "too_fast"


class ScoringError(ValueError):
    """Answers that cannot be scored. ``item_id`` names the item when one is at fault."""

    def __init__(self, message: str, item_id: str | None = None, item_number: int | None = None):
        super().__init__(message)
        self.item_id = item_id
        self.item_number = item_number


@dataclass
class ScoreResult:
    instrument: str
    total: int | float | None
    severity: str | None
    item9_positive: bool | None
    flags: list[str]
    subscales: dict[str, int | float | None] = field(default_factory=dict)
    item_scores: dict[str, int | float | None] = field(default_factory=dict)
    n_items: int = 0
    n_answered: int = 0
    missing_items: list[str] = field(default_factory=list)
    prorated: bool = False
    reason: str | None = None  # why there is no total, or how it was prorated, in words
    messages: list[str] = field(default_factory=list)  # one sentence per flag
    score_min: float = 0
    score_max: float = 0
    validated: bool = True
    # The client's answer to "did anything feel off?" on forms that ask it (None: not asked).
    rupture_reported: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "severity": self.severity,
            "item9_positive": self.item9_positive,
            "flags": list(self.flags),
            "subscales": dict(self.subscales),
            "items": dict(self.item_scores),
            "n_items": self.n_items,
            "n_answered": self.n_answered,
            "missing_items": list(self.missing_items),
            "prorated": self.prorated,
            "reason": self.reason,
            "messages": list(self.messages),
            "range": [self.score_min, self.score_max],
            "validated": self.validated,
            "rupture_reported": self.rupture_reported,
        }


def _label(instrument: Instrument, item: Item) -> str:
    return f"{instrument.short_name} item {item.number}"


def _allowed(item: Item) -> str:
    if item.type == "ordinal":
        values = item.allowed_values
        if values == tuple(range(values[0], values[-1] + 1)):
            return f"{values[0]}-{values[-1]}"
        return ", ".join(str(v) for v in values)
    if item.type == "decimal":
        return f"{item.min:g}-{item.max:g}"
    return "yes or no" if item.type == "boolean" else "text"


def parse_answer(
    instrument: Instrument, item: Item, raw: Answer
) -> int | float | str | bool | None:
    """One answer as its typed value; None for missing. ScoringError names item and range."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    label = _label(instrument, item)
    if item.type == "text":
        return str(raw)
    if item.type == "boolean":
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in ("1", "yes", "y", "true"):
            return True
        if s in ("0", "no", "n", "false"):
            return False
        raise ScoringError(f"{label}: {raw!r} is not yes or no", item.id, item.number)
    if isinstance(raw, bool):  # bool is an int in Python; True is not an answer of 1
        raise ScoringError(
            f"{label}: {raw!r} is not a number (allowed {_allowed(item)})", item.id, item.number
        )
    value: float
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise ScoringError(
                f"{label}: {raw.strip()!r} is not a number (allowed {_allowed(item)})",
                item.id,
                item.number,
            ) from None
    elif isinstance(raw, int | float):
        value = raw
    else:
        raise ScoringError(
            f"{label}: {raw!r} is not a number (allowed {_allowed(item)})", item.id, item.number
        )
    if math.isnan(value) or math.isinf(value):
        raise ScoringError(
            f"{label}: {raw!r} is not a number (allowed {_allowed(item)})", item.id, item.number
        )
    if item.type == "ordinal":
        if value != int(value):
            raise ScoringError(
                f"{label}: {raw!r} is not a whole number (allowed {_allowed(item)})",
                item.id,
                item.number,
            )
        if int(value) not in item.allowed_values:
            raise ScoringError(
                f"{label}: {int(value)} is out of range (allowed {_allowed(item)})",
                item.id,
                item.number,
            )
        return int(value)
    assert item.min is not None and item.max is not None
    if not item.min <= value <= item.max:
        raise ScoringError(
            f"{label}: {value:g} is out of range (allowed {_allowed(item)})", item.id, item.number
        )
    return value


def parse_answers(
    instrument: Instrument, answers: Mapping[str, Answer] | Sequence[Answer]
) -> dict[str, int | float | str | bool | None]:
    """Answers keyed by item id. A list gives the scored items in order and must have all of them."""
    scored = instrument.scored_items
    if isinstance(answers, Mapping):
        known = {i.id for i in instrument.items}
        unknown = [k for k in answers if k not in known]
        if unknown:
            raise ScoringError(
                f"{instrument.short_name}: {unknown[0]!r} is not an item "
                f"(items are {', '.join(i.id for i in instrument.items)})",
                unknown[0],
            )
        raw = dict(answers)
    elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) != len(scored):
            raise ScoringError(
                f"{instrument.short_name} needs {len(scored)} answers, got {len(answers)}"
            )
        raw = {item.id: value for item, value in zip(scored, answers, strict=True)}
    else:
        raise ScoringError("answers must be a mapping of item id to value or a list of values")
    return {item.id: parse_answer(instrument, item, raw.get(item.id)) for item in instrument.items}


def _round_half_up(x: Fraction) -> int:
    # Python's round() rounds halves to even (4.5 -> 4); clinicians expect 4.5 -> 5.
    return math.floor(x + Fraction(1, 2))


def score(
    instrument_id: str | Instrument,
    answers: Mapping[str, Answer] | Sequence[Answer],
    duration_seconds: float | None = None,
) -> ScoreResult:
    """Score one administration.

    ``answers`` maps item ids (``item1``..) to values, or lists the scored items' values in order;
    None or "" marks an unanswered item. ``duration_seconds`` (time on the form) enables the
    too-fast flag. Raises ScoringError for out-of-range, non-numeric or wrongly counted answers.
    """
    instrument = resolve(instrument_id)
    values = parse_answers(instrument, answers)
    scored = instrument.scored_items
    name = instrument.short_name
    flags: list[str] = []
    messages: list[str] = []

    item_scores: dict[str, int | float | None] = {}
    for item in scored:
        v = values[item.id]
        if v is None:
            item_scores[item.id] = None
        elif item.reverse:
            # Reverse-worded items count from the other end of the scale.
            item_scores[item.id] = item.min + item.max - v  # type: ignore[operator]
        else:
            item_scores[item.id] = v  # type: ignore[assignment]

    answered = [i for i in scored if item_scores[i.id] is not None]
    missing = [i.id for i in scored if item_scores[i.id] is None]
    n, k = len(scored), len(answered)
    method = instrument.scoring
    total: int | float | None = None
    prorated = False
    reason: str | None = None
    raw_sum = sum(item_scores[i.id] for i in answered)  # type: ignore[misc]

    if k == 0:
        reason = f"No {name} items were answered, so there is no total."
    elif missing and len(missing) > method.prorate_max_missing:
        # PHQ instruction manual / common practice: prorate only when at most one item is
        # missing; with more missing the total is too uncertain to band or compare.
        allowed = (
            f"{name} totals are prorated only when at most {method.prorate_max_missing} item is missing"
            if method.prorate_max_missing
            else f"{name} has no rule for missing items"
        )
        reason = f"{len(missing)} of {n} items unanswered ({', '.join(missing)}); {allowed}, so there is no total."
    elif method.method == "sum":
        if missing:
            # PHQ instruction manual / common practice: total = round(sum x n_items / n_answered).
            total = _round_half_up(Fraction(raw_sum).limit_denominator() * n / k)
            prorated = True
            reason = (
                f"{missing[0]} unanswered: total prorated from {k} items "
                f"({raw_sum:g} x {n} / {k}, rounded) = {total}."
            )
        else:
            total = raw_sum
            if method.decimals:
                total = round(float(total), method.decimals)
    else:  # mean of the answered items (design choice for the session alliance check)
        total = round(raw_sum / k, method.decimals or 2)
        if missing:
            prorated = True
            reason = f"{missing[0]} unanswered: the mean of the other {k} items is used."
    if isinstance(total, float) and method.decimals == 0 and total == int(total):
        total = int(total)
    if prorated:
        flags.append(FLAG_PRORATED)
        messages.append(reason or "")
    if total is None:
        flags.append(FLAG_INCOMPLETE)
        messages.append(reason or "")

    severity = instrument.band_for(total)

    if total is not None and instrument.cutoff and instrument.cutoff.applies(total):
        flags.append(instrument.cutoff.flag)
        messages.append(f"{name} {total} — {instrument.cutoff.meaning}")

    # PHQ instruction manual: any item-9 answer above 0 needs a risk assessment by someone
    # competent to assess risk, whatever the total. We flag it; we never rate or clear risk.
    item9_positive: bool | None = None
    if instrument.safety:
        safety_item = instrument.item(instrument.safety.item)
        v = values[safety_item.id]
        if v is None:
            flags.append(FLAG_ITEM9_MISSING)
            messages.append(
                f"{name} item {safety_item.number} was not answered: ask about it in person."
            )
        else:
            item9_positive = v >= instrument.safety.at_or_above  # type: ignore[operator]
            if item9_positive:
                flags.append(FLAG_ITEM9_POSITIVE)
                messages.append(
                    f"{name} item {safety_item.number} answered {v}: follow the safety pathway "
                    "(assessment by someone competent to assess risk), whatever the total."
                )

    # Careless responding (design choice). Identical answers only mean something on a form with
    # reverse-worded items, where a consistent respondent cannot give the same answer throughout.
    raw_values = [values[i.id] for i in answered]
    if instrument.has_reverse_items and k == n and n > 1 and len(set(raw_values)) == 1:
        flags.append(FLAG_IDENTICAL)
        messages.append(
            f"Every {name} item was answered {raw_values[0]}, although some items are worded in "
            "reverse: check the answers were read."
        )
    if duration_seconds is not None:
        if duration_seconds < 0 or math.isnan(duration_seconds):
            raise ScoringError(f"{name}: duration {duration_seconds!r} seconds is not valid")
        # Design choice: faster than min_seconds_per_item (default 1 s) per answered item is
        # quicker than anyone can read the item; configurable in the instrument file.
        floor = method.min_seconds_per_item * k
        if k and duration_seconds < floor:
            flags.append(FLAG_TOO_FAST)
            messages.append(
                f"{name} completed in {duration_seconds:g} s, under {method.min_seconds_per_item:g} s "
                f"per item ({floor:g} s for {k} items): check the answers were read."
            )

    subscales: dict[str, int | float | None] = {}
    for sub in instrument.subscales:
        sub_values = [item_scores[i] for i in sub.items]
        if any(v is None for v in sub_values):
            subscales[sub.id] = None  # no proration within a subscale: too few items to estimate
        elif sub.method == "mean":
            subscales[sub.id] = round(sum(sub_values) / len(sub_values), 2)  # type: ignore[arg-type]
        else:
            subscales[sub.id] = sum(sub_values)  # type: ignore[arg-type]

    rupture_reported = None
    if instrument.rupture_item:
        reported = values[instrument.rupture_item]
        rupture_reported = None if reported is None else bool(reported)

    return ScoreResult(
        instrument=instrument.id,
        total=total,
        severity=severity,
        item9_positive=item9_positive,
        flags=flags,
        subscales=subscales,
        item_scores=item_scores,
        n_items=n,
        n_answered=k,
        missing_items=missing,
        prorated=prorated,
        reason=reason,
        messages=messages,
        score_min=method.min,
        score_max=method.max,
        validated=instrument.validated,
        rupture_reported=rupture_reported,
    )


def score_total_only(instrument_id: str | Instrument, total: float) -> ScoreResult:
    """Score-only entry of a total given on paper (any instrument): band and cut-off, no items."""
    instrument = resolve(instrument_id)
    lo, hi = instrument.scoring.min, instrument.scoring.max
    if isinstance(total, bool) or not isinstance(total, int | float) or math.isnan(total):
        raise ScoringError(f"{instrument.short_name} total {total!r} is not a number")
    if not lo <= total <= hi:
        raise ScoringError(
            f"{instrument.short_name} total {total:g} is out of range (allowed {lo:g}-{hi:g})"
        )
    if (
        instrument.scoring.method == "sum"
        and not instrument.scoring.decimals
        and total != int(total)
    ):
        raise ScoringError(f"{instrument.short_name} total {total!r} is not a whole number")
    flags: list[str] = []
    messages: list[str] = []
    if instrument.cutoff and instrument.cutoff.applies(total):
        flags.append(instrument.cutoff.flag)
        messages.append(f"{instrument.short_name} {total:g} — {instrument.cutoff.meaning}")
    return ScoreResult(
        instrument=instrument.id,
        total=int(total) if total == int(total) and not instrument.scoring.decimals else total,
        severity=instrument.band_for(total),
        item9_positive=None,  # unknown from a total: the safety item must be asked separately
        flags=flags,
        n_items=len(instrument.scored_items),
        reason="Total entered without item answers.",
        messages=messages,
        score_min=lo,
        score_max=hi,
        validated=instrument.validated,
    )
